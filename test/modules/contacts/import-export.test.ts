import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp, type TestUser } from '../../helpers.js';
import type { Row } from '../../../src/db/types.js';
import { waitForContactJobs } from '../../../src/modules/contacts/import-export.js';

function multipart(fieldName: string, fileName: string, content: string) {
  const boundary = '----parleytest' + Math.random().toString(16).slice(2);
  const body =
    `--${boundary}\r\nContent-Disposition: form-data; name="${fieldName}"; filename="${fileName}"\r\nContent-Type: text/csv\r\n\r\n` +
    `${content}\r\n--${boundary}--\r\n`;
  return { payload: body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

describe('contact import and export', () => {
  let t: TestApp;
  let account: Row<'accounts'>;
  let admin: TestUser;
  let agent: TestUser;
  const url = (path: string) => `/api/v1/accounts/${account.id}${path}`;

  before(async () => {
    t = await startTestApp();
    ({ account, admin, agent } = await t.seedAccount());
    const res = await t.request({ method: 'POST', url: url('/contacts'), token: admin.token, payload: { name: 'Existing', email: 'existing@example.com' } });
    assert.equal(res.statusCode, 200);
  });
  after(() => t.close());

  it('imports good rows, reports bad rows by line number, updates existing contacts', async () => {
    const csv = [
      'name,email,phone_number,identifier,company,city,plan',
      'Ann,ann@example.com,+14155550111,ann-1,Acme,Berlin,gold',
      'Bad Email,not-an-email,,,,,',
      'Ben,ben@example.com,4930111222,,,,',
      'Existing Renamed,EXISTING@example.com,,,,,silver',
      'Clash,ben@example.com,,ann-1,,,',
    ].join('\n');
    const { payload, headers } = multipart('import_file', 'contacts.csv', csv);
    const res = await t.request({ method: 'POST', url: url('/contacts/import'), token: admin.token, payload, headers });
    assert.equal(res.statusCode, 200, res.body);
    const job = res.json();
    assert.equal(job.status, 'pending');
    await waitForContactJobs();

    const status = await t.request({ method: 'GET', url: url(`/contacts/imports/${job.id}`), token: admin.token });
    const done = status.json();
    assert.equal(done.status, 'completed');
    assert.equal(done.total_records, 5);
    assert.equal(done.processed_records, 3);
    assert.equal(done.failed_records, 2);
    assert.deepEqual(done.processing_errors, [
      { line: 3, errors: 'Email Invalid email' },
      { line: 6, errors: 'Email has already been taken' },
    ]);

    const ann = await t.ctx.db.selectFrom('contacts').selectAll().where('email', '=', 'ann@example.com').executeTakeFirstOrThrow();
    assert.equal(ann.name, 'Ann');
    assert.equal(ann.identifier, 'ann-1');
    assert.equal(ann.phone_number, '+14155550111');
    const annAttrs = typeof ann.additional_attributes === 'string' ? JSON.parse(ann.additional_attributes) : ann.additional_attributes;
    assert.deepEqual(annAttrs, { company: 'Acme', city: 'Berlin' });
    const ben = await t.ctx.db.selectFrom('contacts').selectAll().where('email', '=', 'ben@example.com').executeTakeFirstOrThrow();
    assert.equal(ben.phone_number, '+4930111222', 'a missing + is added');
    const existing = await t.ctx.db.selectFrom('contacts').selectAll().where('email', '=', 'existing@example.com').execute();
    assert.equal(existing.length, 1);
    assert.equal(existing[0].name, 'Existing Renamed');
    const custom = typeof existing[0].custom_attributes === 'string' ? JSON.parse(existing[0].custom_attributes) : existing[0].custom_attributes;
    assert.equal(custom.plan, 'silver');
  });

  it('answers 422 for a missing file and 401 for agents', async () => {
    const empty = multipart('other_field', 'x.csv', 'name\nx');
    let res = await t.request({ method: 'POST', url: url('/contacts/import'), token: admin.token, ...empty });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { error: 'File is blank' });
    res = await t.request({ method: 'POST', url: url('/contacts/import'), token: agent.token, ...multipart('import_file', 'c.csv', 'name,email\na,a@a.com') });
    assert.equal(res.statusCode, 401);
    res = await t.request({ method: 'POST', url: url('/contacts/export'), token: agent.token, payload: {} });
    assert.equal(res.statusCode, 401);
  });

  it('marks a malformed CSV as failed', async () => {
    const res = await t.request({ method: 'POST', url: url('/contacts/import'), token: admin.token, ...multipart('import_file', 'c.csv', 'name,email\n"unclosed,a@a.com\n') });
    assert.equal(res.statusCode, 200);
    await waitForContactJobs();
    const status = await t.request({ method: 'GET', url: url(`/contacts/imports/${res.json().id}`), token: admin.token });
    assert.equal(status.json().status, 'failed');
  });

  it('exports the default columns as CSV, downloadable from the given URL', async () => {
    const res = await t.request({ method: 'POST', url: url('/contacts/export'), token: admin.token, payload: {} });
    assert.equal(res.statusCode, 200, res.body);
    const job = res.json();
    assert.equal(job.message, 'We will notify you once contacts export file is ready to view.');
    await waitForContactJobs();
    const status = (await t.request({ method: 'GET', url: url(`/contacts/exports/${job.id}`), token: admin.token })).json();
    assert.equal(status.status, 'completed');
    const path = new URL(status.download_url).pathname;
    const file = await t.request({ method: 'GET', url: path, token: admin.token });
    assert.equal(file.statusCode, 200);
    assert.match(String(file.headers['content-type']), /^text\/csv/);
    assert.match(String(file.headers['content-disposition']), /attachment; filename=".*_contacts\.csv"/);
    const lines = file.body.trim().split('\n');
    assert.equal(status.total_records, lines.length - 1);
    assert.equal(lines[0], 'id,name,email,phone_number');
    const rows = await t.ctx.db.selectFrom('contacts').selectAll().where('account_id', '=', account.id).orderBy('id').execute();
    assert.deepEqual(
      lines.slice(1),
      rows.map((r) => [r.id, r.name, r.email ?? '', r.phone_number ?? ''].join(',')),
    );
  });

  it('exports chosen columns of filtered contacts; bad filters are 422', async () => {
    const res = await t.request({
      method: 'POST',
      url: url('/contacts/export'),
      token: admin.token,
      payload: { column_names: ['email', 'name', 'password'], payload: [{ attribute_key: 'email', filter_operator: 'contains', values: ['ann'], query_operator: null }] },
    });
    assert.equal(res.statusCode, 200, res.body);
    await waitForContactJobs();
    const status = (await t.request({ method: 'GET', url: url(`/contacts/exports/${res.json().id}`), token: admin.token })).json();
    const file = await t.request({ method: 'GET', url: new URL(status.download_url).pathname, token: admin.token });
    assert.equal(file.body, 'email,name\nann@example.com,Ann\n');
    const bad = await t.request({ method: 'POST', url: url('/contacts/export'), token: admin.token, payload: { payload: [{ attribute_key: 'nope', filter_operator: 'equal_to', values: ['x'] }] } });
    assert.equal(bad.statusCode, 422);
  });

  it('404s another account’s export', async () => {
    const other = await t.seedAccount();
    const res = await t.request({ method: 'POST', url: `/api/v1/accounts/${other.account.id}/contacts/export`, token: other.admin.token, payload: {} });
    await waitForContactJobs();
    const mine = await t.request({ method: 'GET', url: url(`/contacts/exports/${res.json().id}/download`), token: admin.token });
    assert.equal(mine.statusCode, 404);
  });
});
