import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINE, startTestApp, type TestApp, type TestUser } from '../../helpers.js';
import { CONTACTS_EPOCH } from '../../../src/db/migrations/0653_contacts_epoch.js';
import { readEpoch } from '../../../src/db/epochs.js';
import { makeInbox } from '../conversations/fixtures.js';
import { createDefinition } from './fixtures.js';

/**
 * Search counts are reused until what search sees changes (migrations 0651, 0652; both engines);
 * list, label view and filter counts until contacts or their labels change (0653 SQLite, 0710
 * PostgreSQL, where last_activity_at alone does not move it). Every change must show, whoever makes it.
 */
describe('contacts: cached counts and inboxes follow every change', () => {
  let t: TestApp;
  let accountId: number;
  let admin: TestUser;

  const search = async (q: string) => {
    const res = await t.request({ method: 'GET', url: `/api/v1/accounts/${accountId}/contacts/search?q=${encodeURIComponent(q)}`, token: admin.token });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    return { count: body.meta.count as number, names: body.payload.map((c: { name: string }) => c.name) as string[] };
  };
  const url = (path: string) => `/api/v1/accounts/${accountId}${path}`;
  const create = async (name: string, email: string, extra: Record<string, unknown> = {}) => {
    const res = await t.request({ method: 'POST', url: url('/contacts'), token: admin.token, payload: { name, email, ...extra } });
    assert.equal(res.statusCode, 200, res.body);
    return res.json().payload.contact.id as number;
  };

  const filterCount = async (plan: string) => {
    const payload = [{ attribute_key: 'plan', filter_operator: 'equal_to', values: [plan], query_operator: null }];
    const res = await t.request({ method: 'POST', url: url('/contacts/filter'), token: admin.token, payload: { payload } });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.meta.count, body.payload.length);
    return body.meta.count as number;
  };
  const listCount = async (query = '') => {
    const res = await t.request({ method: 'GET', url: url(`/contacts${query}`), token: admin.token });
    assert.equal(res.statusCode, 200, res.body);
    return res.json().meta.count as number;
  };

  before(async () => {
    t = await startTestApp();
    const seed = await t.seedAccount();
    accountId = seed.account.id;
    admin = seed.admin;
    await createDefinition(t, accountId, 'plan', 0);
  });
  after(() => t.close());

  test('create, rename, write from elsewhere and delete all move the count', async () => {
    const first = await create('Marigold One', 'one@example.com');
    assert.equal((await search('marig')).count, 1);
    assert.equal((await search('marig')).count, 1);
    const second = await create('Marigold Two', 'two@example.com');
    assert.deepEqual(await search('marig'), { count: 2, names: ['Marigold One', 'Marigold Two'] });

    const put = await t.request({ method: 'PUT', url: `/api/v1/accounts/${accountId}/contacts/${second}`, token: admin.token, payload: { name: 'Tulip Two' } });
    assert.equal(put.statusCode, 200, put.body);
    assert.equal((await search('marig')).count, 1);

    // Straight into the database, as another process would.
    await t.ctx.db.updateTable('contacts').set({ name: 'Marigold Again' }).where('id', '=', second).execute();
    assert.equal((await search('marig')).count, 2);

    // A company name is searched too; a contact without email, phone or identifier is not listed.
    await t.ctx.db.updateTable('contacts').set({ additional_attributes: JSON.stringify({ company_name: 'Marigold Ltd' }) }).where('id', '=', first).execute();
    await t.ctx.db.updateTable('contacts').set({ name: 'Nobody', email: 'nobody@example.com' }).where('id', '=', second).execute();
    assert.equal((await search('marig')).count, 1);
    await t.ctx.db.updateTable('contacts').set({ email: '' }).where('id', '=', first).execute();
    assert.equal((await search('marig')).count, 0);
    await t.ctx.db.updateTable('contacts').set({ email: 'one@example.com' }).where('id', '=', first).execute();
    await t.ctx.db.updateTable('contacts').set({ name: 'Marigold Again' }).where('id', '=', second).execute();
    assert.equal((await search('marig')).count, 2);

    const del = await t.request({ method: 'DELETE', url: `/api/v1/accounts/${accountId}/contacts/${first}`, token: admin.token });
    assert.equal(del.statusCode, 200, del.body);
    assert.deepEqual(await search('marig'), { count: 1, names: ['Marigold Again'] });
  });

  test("a contact's inboxes show as they are now (cached inbox rows)", async () => {
    const inbox = await makeInbox(t, accountId, { name: 'Support' });
    const res = await t.request({ method: 'POST', url: `/api/v1/accounts/${accountId}/contacts`, token: admin.token, payload: { name: 'Iris', email: 'iris@example.com', inbox_id: inbox.id } });
    assert.equal(res.statusCode, 200, res.body);
    const id = res.json().payload.contact.id;
    const inboxName = async () => {
      const show = await t.request({ method: 'GET', url: `/api/v1/accounts/${accountId}/contacts/${id}`, token: admin.token });
      assert.equal(show.statusCode, 200, show.body);
      return show.json().payload.contact_inboxes.map((ci: { inbox: { name: string } }) => ci.inbox.name);
    };
    assert.deepEqual(await inboxName(), ['Support']);
    assert.deepEqual(await inboxName(), ['Support']);
    await t.ctx.db.updateTable('inboxes').set({ name: 'Support Renamed' }).where('id', '=', inbox.id).execute();
    assert.deepEqual(await inboxName(), ['Support Renamed']);
  });

  test('list and filter counts: creates, updates through the API and straight in the database, labels and deletes', async () => {
    const listed = await listCount(); // the contacts earlier tests left
    const first = await create('Ada', 'ada@example.com', { custom_attributes: { plan: 'gold' } });
    assert.equal(await filterCount('gold'), 1);
    assert.equal(await filterCount('gold'), 1);
    assert.equal(await listCount(), listed + 1);
    const second = await create('Bob', 'bob@example.com', { custom_attributes: { plan: 'gold' } });
    assert.equal(await filterCount('gold'), 2);
    assert.equal(await listCount(), listed + 2);

    const put = await t.request({ method: 'PUT', url: url(`/contacts/${second}`), token: admin.token, payload: { custom_attributes: { plan: 'silver' } } });
    assert.equal(put.statusCode, 200, put.body);
    assert.equal(await filterCount('gold'), 1);
    assert.equal(await filterCount('silver'), 1);

    // As another process would write.
    await t.ctx.db.updateTable('contacts').set({ custom_attributes: JSON.stringify({ plan: 'gold' }) }).where('id', '=', second).execute();
    assert.equal(await filterCount('gold'), 2);
    assert.equal(await filterCount('silver'), 0);
    await t.ctx.db.updateTable('contacts').set({ email: '' }).where('id', '=', second).execute(); // no longer listed (unresolved)
    assert.equal(await filterCount('gold'), 1);
    assert.equal(await listCount(), listed + 1);
    await t.ctx.db.updateTable('contacts').set({ email: 'bob@example.com' }).where('id', '=', second).execute();

    assert.equal(await listCount('?labels[]=vip'), 0);
    const labelled = await t.request({ method: 'POST', url: url(`/contacts/${first}/labels`), token: admin.token, payload: { labels: ['vip'] } });
    assert.equal(labelled.statusCode, 200, labelled.body);
    assert.equal(await listCount('?labels[]=vip'), 1);
    await t.ctx.db.deleteFrom('taggings').where('taggable_type', '=', 'Contact').where('taggable_id', '=', first).execute();
    assert.equal(await listCount('?labels[]=vip'), 0);

    const del = await t.request({ method: 'DELETE', url: url(`/contacts/${first}`), token: admin.token });
    assert.equal(del.statusCode, 200, del.body);
    assert.equal(await filterCount('gold'), 1);
    assert.equal(await listCount(), listed + 1);
  });

  test('last_activity_at: its writes leave the epoch on PostgreSQL, and a count that reads it is never stale', async () => {
    const id = await create('Active', 'active@example.com');
    // As the finder reads it (on PostgreSQL the sum of its stripes, migration 0720).
    const epoch = async () => readEpoch(t.ctx.db, 'cache_epochs', CONTACTS_EPOCH);
    const before = await epoch();
    await t.ctx.db.updateTable('contacts').set({ last_activity_at: Date.now(), updated_at: Date.now() }).where('id', '=', id).execute();
    if (ENGINE === 'postgres') assert.equal(await epoch(), before, 'an incoming message does not lock the epoch row');
    await t.ctx.db.updateTable('contacts').set({ name: 'Active again' }).where('id', '=', id).execute();
    assert.ok((await epoch()) > before, 'a change of another column moves it');
    const recent = async () => {
      const payload = [{ attribute_key: 'last_activity_at', filter_operator: 'days_before', values: [3], query_operator: null }];
      const res = await t.request({ method: 'POST', url: url('/contacts/filter'), token: admin.token, payload: { payload } });
      assert.equal(res.statusCode, 200, res.body);
      return res.json().meta.count as number;
    };
    const old = Date.now() - 10 * 86_400_000;
    const n = await recent();
    await t.ctx.db.updateTable('contacts').set({ last_activity_at: old }).where('id', '=', id).execute();
    assert.equal(await recent(), n + 1);
    await t.ctx.db.updateTable('contacts').set({ last_activity_at: Date.now() }).where('id', '=', id).execute();
    assert.equal(await recent(), n);
    // A conversation's label is no contact's.
    const e = await epoch();
    await t.ctx.db
      .insertInto('taggings')
      .values({ account_id: accountId, taggable_type: 'Conversation', taggable_id: 999_999, name: 'x', created_at: Date.now() })
      .execute();
    if (ENGINE === 'postgres') assert.equal(await epoch(), e);
  });
});
