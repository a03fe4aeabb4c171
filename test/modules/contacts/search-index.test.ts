import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { ENGINE, startTestApp, type TestApp, type TestUser } from '../../helpers.js';
import { migrateToLatest } from '../../../src/db/migrate.js';
import type { Row } from '../../../src/db/types.js';

/**
 * The search table of migration 0650 (resolved contacts only, one account per key range) kept in
 * step by triggers, and rebuilt on databases whose earlier migrations never created it.
 */
describe('contact search index', () => {
  let t: TestApp;
  let account: Row<'accounts'>;
  let agent: TestUser;
  let other: { account: Row<'accounts'>; agent: TestUser };
  const url = (path: string, acc = account) => `/api/v1/accounts/${acc.id}${path}`;
  const search = async (q: string, extra = '', as: TestUser = agent, acc = account) => {
    const res = await t.request({ method: 'GET', url: url(`/contacts/search?q=${encodeURIComponent(q)}${extra}`, acc), token: as.token });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json<{ meta: { count: number; current_page: number }; payload: { name: string }[] }>();
    return { count: body.meta.count, names: body.payload.map((c) => c.name) };
  };
  const create = async (payload: Record<string, unknown>, acc = account, as: TestUser = agent) => {
    const res = await t.request({ method: 'POST', url: url('/contacts', acc), token: as.token, payload });
    assert.equal(res.statusCode, 200, res.body);
    return res.json<{ payload: { contact: { id: number } } }>().payload.contact.id;
  };

  before(async () => {
    t = await startTestApp();
    ({ account, agent } = await t.seedAccount());
    const second = await t.seedAccount();
    other = { account: second.account, agent: second.agent };
  });
  after(() => t.close());

  it('answers search on a database migrated before the search table existed (the bench 500: "no such table: contacts_search")', async () => {
    await create({ name: 'Maria Stale', email: 'maria.stale@example.com' });
    // What a database built by an earlier 0200 looks like: no search table, no triggers, 0650 not run.
    if (ENGINE === 'sqlite') {
      for (const trigger of ['contacts_search_insert', 'contacts_search_update', 'contacts_search_delete']) {
        await sql`DROP TRIGGER IF EXISTS ${sql.ref(trigger)}`.execute(t.ctx.db);
      }
      await sql`DROP TABLE contacts_search`.execute(t.ctx.db);
    } else {
      await sql`DROP TRIGGER contacts_search_sync ON contacts`.execute(t.ctx.db);
      await sql`DROP FUNCTION parley_contacts_search_sync()`.execute(t.ctx.db);
      await sql`DROP TABLE contacts_search`.execute(t.ctx.db);
    }
    await sql`DELETE FROM parley_migrations WHERE name = '0650_contacts_search_scoped'`.execute(t.ctx.db);
    const applied = await migrateToLatest(t.ctx.db as never, t.ctx.engine);
    assert.deepEqual(applied, ['0650_contacts_search_scoped']);
    assert.deepEqual(await search('stale'), { count: 1, names: ['Maria Stale'] });
  });

  it('keeps only resolved contacts of the account, through creates, updates and deletes', async () => {
    const id = await create({ name: 'Quentin Quasar' }); // no email, phone or identifier: not listed
    assert.deepEqual(await search('quasar'), { count: 0, names: [] });
    const put = (payload: Record<string, unknown>) => t.request({ method: 'PUT', url: url(`/contacts/${id}`), token: agent.token, payload });
    assert.equal((await put({ email: 'qq@example.com' })).statusCode, 200);
    assert.deepEqual(await search('quasar'), { count: 1, names: ['Quentin Quasar'] });
    // An update that does not touch the searched text leaves the entry alone.
    assert.equal((await put({ custom_attributes: { tier: 'gold' } })).statusCode, 200);
    assert.deepEqual(await search('qq@ex'), { count: 1, names: ['Quentin Quasar'] });
    assert.equal((await put({ additional_attributes: { company_name: 'Nebula Corp' } })).statusCode, 200);
    assert.deepEqual(await search('nebula'), { count: 1, names: ['Quentin Quasar'] });
    assert.equal((await put({ email: '' })).statusCode, 200);
    assert.deepEqual(await search('quasar'), { count: 0, names: [] }, 'no longer resolved: no longer found');
    assert.equal((await put({ phone_number: '+15550001111' })).statusCode, 200);
    assert.deepEqual(await search('0001111'), { count: 1, names: ['Quentin Quasar'] });
    await t.ctx.db.deleteFrom('contacts').where('id', '=', id).execute();
    assert.deepEqual(await search('quasar'), { count: 0, names: [] });
  });

  it('never finds another account\'s contacts', async () => {
    await create({ name: 'Oscar Otheraccount', email: 'oscar@example.com' }, other.account, other.agent);
    assert.deepEqual(await search('otheraccount'), { count: 0, names: [] });
    assert.deepEqual(await search('otheraccount', '', other.agent, other.account), { count: 1, names: ['Oscar Otheraccount'] });
  });

  it('matches quotes, wildcards and non-ASCII literally; counts every match while paging 15 at a time', async () => {
    await create({ name: 'Zoë "Zed" O\'Neil', email: 'zoe_100%@example.com' });
    assert.deepEqual((await search('"zed"')).names, ['Zoë "Zed" O\'Neil']);
    assert.deepEqual((await search('_100%')).names, ['Zoë "Zed" O\'Neil']);
    assert.deepEqual((await search('zoë')).names, ['Zoë "Zed" O\'Neil']);
    assert.deepEqual((await search('o\'n')).names, ['Zoë "Zed" O\'Neil']);
    assert.deepEqual((await search('0%')).names, ['Zoë "Zed" O\'Neil'], 'short needles too');
    assert.deepEqual((await search('x_1')).names, [], 'an underscore is not a wildcard');

    for (let i = 0; i < 17; i++) await create({ name: `Pager ${String(i).padStart(2, '0')}`, email: `pager${i}@example.com` });
    const first = await search('pager');
    assert.equal(first.count, 17);
    assert.deepEqual(first.names, Array.from({ length: 15 }, (_, i) => `Pager ${String(i).padStart(2, '0')}`));
    assert.deepEqual(await search('pager', '&page=2'), { count: 17, names: ['Pager 15', 'Pager 16'] });
    const sorted = await search('pager', '&sort=-name');
    assert.equal(sorted.count, 17);
    assert.equal(sorted.names[0], 'Pager 16');
  });
});
