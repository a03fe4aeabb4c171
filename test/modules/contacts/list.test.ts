import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp, type TestUser } from '../../helpers.js';
import type { Row } from '../../../src/db/types.js';

describe('contact list, sorting, pagination and search', () => {
  let t: TestApp;
  let account: Row<'accounts'>;
  let agent: TestUser;
  const url = (path: string) => `/api/v1/accounts/${account.id}${path}`;
  const get = (path: string) => t.request({ method: 'GET', url: url(path), token: agent.token });
  const names = (res: { json(): { payload: { name: string }[] } }) => res.json().payload.map((c) => c.name);

  before(async () => {
    t = await startTestApp();
    ({ account, agent } = await t.seedAccount());
    const rows: Record<string, unknown>[] = [
      { name: 'charlie', email: 'c@example.com', phone_number: '+3333', additional_attributes: { company_name: 'Zeta', city: 'Paris', country: 'France' } },
      { name: 'Alice', email: 'a@example.com', phone_number: '+1111', additional_attributes: { company_name: 'Acme', city: 'Berlin', country: 'Germany' } },
      { name: 'bob', email: 'b@example.com', identifier: 'bob-ID-42', additional_attributes: { company_name: 'Mid' } },
      { name: 'Dora', phone_number: '+2222' },
    ];
    let ts = Date.UTC(2024, 0, 1);
    for (const r of rows) {
      const res = await t.request({ method: 'POST', url: url('/contacts'), token: agent.token, payload: r });
      assert.equal(res.statusCode, 200, res.body);
      ts += 86_400_000;
      await t.ctx.db.updateTable('contacts').set({ created_at: ts, last_activity_at: r.name === 'Dora' ? null : ts }).where('id', '=', res.json().payload.contact.id).execute();
    }
    // No email, phone or identifier: not a "resolved" contact, never listed (Chatwoot's resolved_contacts).
    await t.request({ method: 'POST', url: url('/contacts'), token: agent.token, payload: { name: 'Anonymous visitor' } });
  });
  after(() => t.close());

  it('lists resolved contacts with meta, in creation order by default', async () => {
    const res = await get('/contacts');
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.deepEqual(body.meta, { count: 4, current_page: 1 });
    assert.deepEqual(names(res), ['charlie', 'Alice', 'bob', 'Dora']);
    assert.ok(Array.isArray(body.payload[0].contact_inboxes));
  });

  it('sorts by each of Chatwoot’s sort keys, ascending and descending', async () => {
    const cases: [string, string[]][] = [
      ['name', ['Alice', 'bob', 'charlie', 'Dora']],
      ['-name', ['Dora', 'charlie', 'bob', 'Alice']],
      ['email', ['Alice', 'bob', 'charlie', 'Dora']],
      ['-email', ['Dora', 'charlie', 'bob', 'Alice']],
      ['phone_number', ['Alice', 'Dora', 'charlie', 'bob']],
      ['-phone_number', ['bob', 'charlie', 'Dora', 'Alice']],
      ['created_at', ['charlie', 'Alice', 'bob', 'Dora']],
      ['-created_at', ['Dora', 'bob', 'Alice', 'charlie']],
      ['last_activity_at', ['charlie', 'Alice', 'bob', 'Dora']],
      ['-last_activity_at', ['bob', 'Alice', 'charlie', 'Dora']],
      ['company', ['Alice', 'bob', 'charlie', 'Dora']],
      ['-company', ['charlie', 'bob', 'Alice', 'Dora']],
      ['city', ['Alice', 'charlie', 'bob', 'Dora']],
      ['-city', ['charlie', 'Alice', 'bob', 'Dora']],
      ['country', ['charlie', 'Alice', 'bob', 'Dora']],
      ['-country', ['Alice', 'charlie', 'bob', 'Dora']],
      ['unknown', ['charlie', 'Alice', 'bob', 'Dora']],
    ];
    for (const [sort, expected] of cases) {
      const res = await get(`/contacts?sort=${sort}`);
      assert.equal(res.statusCode, 200);
      assert.deepEqual(names(res), expected, `sort=${sort}`);
    }
  });

  it('pages 15 at a time', async () => {
    for (let i = 0; i < 14; i++) {
      await t.request({ method: 'POST', url: url('/contacts'), token: agent.token, payload: { name: `zz page ${String(i).padStart(2, '0')}`, email: `page${i}@example.com` } });
    }
    let res = await get('/contacts?sort=name');
    assert.deepEqual(res.json().meta, { count: 18, current_page: 1 });
    assert.equal(res.json().payload.length, 15);
    res = await get('/contacts?sort=name&page=2');
    assert.deepEqual(res.json().meta, { count: 18, current_page: 2 });
    assert.deepEqual(names(res), ['zz page 11', 'zz page 12', 'zz page 13']);
    res = await get('/contacts?page=9');
    assert.deepEqual(res.json().payload, []);
    await t.ctx.db.deleteFrom('contacts').where('email', 'like', 'page%').execute();
  });

  it('filters the list by labels', async () => {
    const bob = await t.ctx.db.selectFrom('contacts').select('id').where('name', '=', 'bob').executeTakeFirstOrThrow();
    await t.request({ method: 'POST', url: url(`/contacts/${bob.id}/labels`), token: agent.token, payload: { labels: ['vip'] } });
    const res = await get('/contacts?labels[]=vip');
    assert.deepEqual(names(res), ['bob']);
    assert.equal(res.json().meta.count, 1);
  });

  it('omits contact_inboxes when include_contact_inboxes=false', async () => {
    const res = await get('/contacts?include_contact_inboxes=false');
    assert.equal(res.json().payload[0].contact_inboxes, undefined);
  });

  it('searches name, email, phone number, identifier and company, partially and case-insensitively', async () => {
    const cases: [string, string[]][] = [
      ['ALI', ['Alice']],
      ['b@EXAMPLE', ['bob']],
      ['2222', ['Dora']],
      ['id-4', ['bob']],
      ['acm', ['Alice']],
      ['example.com', ['charlie', 'Alice', 'bob']],
      ['nobody-here', []],
      ['100%', []],
    ];
    for (const [q, expected] of cases) {
      const res = await get(`/contacts/search?q=${encodeURIComponent(q)}`);
      assert.equal(res.statusCode, 200);
      assert.deepEqual(names(res), expected, `q=${q}`);
      assert.deepEqual(res.json().meta, { count: expected.length, current_page: 1 });
    }
    const sorted = await get('/contacts/search?q=example&sort=-name');
    assert.deepEqual(names(sorted), ['charlie', 'bob', 'Alice']);
  });

  it('keeps search in step with updates and deletes', async () => {
    const res = await t.request({ method: 'POST', url: url('/contacts'), token: agent.token, payload: { name: 'Temporary Tom', email: 'tom@example.org' } });
    const id = res.json().payload.contact.id;
    assert.deepEqual(names(await get('/contacts/search?q=temporary')), ['Temporary Tom']);
    await t.request({ method: 'PUT', url: url(`/contacts/${id}`), token: agent.token, payload: { name: 'Permanent Pat', additional_attributes: { company_name: 'Quuxcorp' } } });
    assert.deepEqual(names(await get('/contacts/search?q=temporary')), []);
    assert.deepEqual(names(await get('/contacts/search?q=PERMANENT')), ['Permanent Pat']);
    assert.deepEqual(names(await get('/contacts/search?q=quux')), ['Permanent Pat']);
    await t.ctx.db.deleteFrom('contacts').where('id', '=', id).execute();
    assert.deepEqual(names(await get('/contacts/search?q=permanent')), []);
    assert.deepEqual(names(await get('/contacts/search?q=Z')), ['charlie'], 'one-letter queries work too');
  });

  it('requires q', async () => {
    const res = await get('/contacts/search?q=%20');
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { error: 'Specify search string with parameter q' });
  });

  it('does not list another account’s contacts', async () => {
    const other = await t.seedAccount();
    await t.request({ method: 'POST', url: `/api/v1/accounts/${other.account.id}/contacts`, token: other.admin.token, payload: { name: 'Alice Other', email: 'alice@other.com' } });
    const res = await get('/contacts/search?q=alice');
    assert.deepEqual(names(res), ['Alice']);
  });
});
