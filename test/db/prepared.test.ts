import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { ENGINE, startTestApp, type TestApp } from '../helpers.js';

/** PostgreSQL: recurring statements are prepared once per connection (db/connection.ts). */
describe('PostgreSQL named statements', { skip: ENGINE !== 'postgres' }, () => {
  let t: TestApp;
  let accountId: number;
  before(async () => {
    t = await startTestApp();
    accountId = (await t.seedAccount()).account.id;
  });
  after(() => t.close());

  test('a statement seen twice on a connection is prepared there, and answers as before', async () => {
    await t.ctx.db.transaction().execute(async (trx) => {
      for (let i = 0; i < 3; i++) {
        const rows = await sql<{ id: number }>`select id from accounts where id = ${accountId}`.execute(trx);
        assert.deepEqual(rows.rows.map((r) => r.id), [accountId]);
      }
      const prepared = await sql<{ n: number }>`select count(*)::int as n from pg_prepared_statements where statement = ${'select id from accounts where id = $1'}`.execute(trx);
      assert.equal(prepared.rows[0].n, 1);
    });
  });

  test('a prepared statement answers each run with its own rows, typed as on its first (the row shape is reused)', async () => {
    await t.ctx.db.transaction().execute(async (trx) => {
      for (let i = 0; i < 5; i++) {
        const { rows } = await sql<{ n: number; big: number; label: string | null }>`select ${i}::int as n, (${i}::bigint * 1000) as big, case when ${i} % 2 = 0 then null else 'odd' end as label`.execute(trx);
        assert.deepEqual(rows, [{ n: i, big: i * 1000, label: i % 2 === 0 ? null : 'odd' }]);
        assert.deepEqual(Object.keys(rows[0]), ['n', 'big', 'label']);
      }
    });
  });

  test('after another connection adds a column, a prepared select * is prepared again (no error)', async () => {
    const read = () => sql<Record<string, unknown>>`select * from labels where account_id = ${accountId}`.execute(t.ctx.db);
    await t.ctx.db.insertInto('labels').values({ account_id: accountId, title: 'vip', description: '', color: '#000000', show_on_sidebar: 1, created_at: 0, updated_at: 0 }).execute();
    // Enough runs that every pooled connection has it prepared.
    await Promise.all(Array.from({ length: 30 }, read));
    await sql`alter table labels add column parley_test_extra integer`.execute(t.ctx.db);
    const results = await Promise.all(Array.from({ length: 30 }, read));
    for (const r of results) assert.ok('parley_test_extra' in r.rows[0], 'the new column is there');
  });
});
