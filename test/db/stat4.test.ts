import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { openStore } from '../../src/db/connection.js';
import { migrateToLatest } from '../../src/db/migrate.js';

const count = async (db: Kysely<any>, table: string) =>
  Number((await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(db)).rows[0].n);

test('SQLite: migrating drops ANALYZE samples (sqlite_stat4) and keeps the per-index averages (sqlite_stat1)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-stat4-'));
  const path = join(dir, 'db.sqlite3');
  const store = openStore({ engine: 'sqlite', databaseUrl: path, pgSchema: '' });
  try {
    await migrateToLatest(store.db as never, 'sqlite');
    // A skewed indexed column, analysed: SQLite keeps samples for it.
    await sql`create table stat_probe (id integer primary key, kind integer not null)`.execute(store.db);
    await sql`create index probe_kind on stat_probe (kind)`.execute(store.db);
    await sql`with recursive n(i) as (select 1 union all select i + 1 from n where i < 2000) insert into stat_probe (kind) select case when i % 50 = 0 then i else 1 end from n`.execute(store.db);
    await sql`analyze`.execute(store.db);
    assert.ok((await count(store.db, 'sqlite_stat4')) > 0, 'ANALYZE left samples');

    // What the server does at every start, after the migrations.
    await migrateToLatest(store.db as never, 'sqlite');
    assert.equal(await count(store.db, 'sqlite_stat4'), 0);
    const stat1 = await sql<{ idx: string }>`select idx from sqlite_stat1 where tbl = 'stat_probe'`.execute(store.db);
    assert.deepEqual(stat1.rows.map((r) => r.idx), ['probe_kind']);
    // The planner still reads the index for a selective value.
    const plan = await sql<{ detail: string }>`explain query plan select id from stat_probe where kind = ${100}`.execute(store.db);
    assert.match(plan.rows.map((r) => r.detail).join(' '), /probe_kind/);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
