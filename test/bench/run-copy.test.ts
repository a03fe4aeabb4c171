import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { ENGINE } from '../helpers.js';
import { openStore } from '../../src/db/connection.js';
import { databaseOf, dropPgDatabase, postgresUrl, recreatePgDatabase, runCopy, withDatabase, type Target } from '../../bench/generate.js';

/** Rows of `marks` in a target, opened the way the bench's server opens it. */
async function marks(target: Target): Promise<number[]> {
  const store = openStore({ engine: target.engine, databaseUrl: target.databaseUrl });
  try {
    const result = await sql<{ id: number }>`select id from marks order by id`.execute(store.db);
    return result.rows.map((r) => Number(r.id));
  } finally {
    await store.close();
  }
}

async function exec(target: Target, statement: ReturnType<typeof sql>): Promise<void> {
  const store = openStore({ engine: target.engine, databaseUrl: target.databaseUrl });
  try {
    await statement.execute(store.db);
  } finally {
    await store.close();
  }
}

// A bench run writes into a copy, so the next run starts from the dataset as generated.
test(`bench run copy: writes into it leave the cached dataset as it was, and drop removes it (${ENGINE})`, async () => {
  let cached: Target;
  let cleanup: () => Promise<void>;
  if (ENGINE === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'parley-run-copy-'));
    cached = { engine: 'sqlite', databaseUrl: join(dir, 'tiny.sqlite3') };
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    cached = { engine: 'postgres', databaseUrl: withDatabase(postgresUrl(), 'parley_bench_copytest') };
    await recreatePgDatabase(cached.databaseUrl, { drop: true });
    cleanup = () => dropPgDatabase(cached.databaseUrl);
  }
  try {
    await exec(cached, sql`create table marks (id integer primary key)`);
    await exec(cached, sql`insert into marks (id) values (1)`);
    const copy = await runCopy(cached, () => undefined);
    assert.notEqual(copy.target.databaseUrl, cached.databaseUrl);
    assert.deepEqual(await marks(copy.target), [1], 'the copy holds the dataset');
    await exec(copy.target, sql`insert into marks (id) values (2)`);
    assert.deepEqual(await marks(copy.target), [1, 2]);
    assert.deepEqual(await marks(cached), [1], 'the cached dataset is untouched');
    await copy.drop();
    if (ENGINE === 'sqlite') assert.equal(existsSync(copy.target.databaseUrl), false, 'the copy is gone');
    else await assert.rejects(marks(copy.target), /does not exist/, 'the copy is gone');
    // A second run starts from the dataset again.
    const again = await runCopy(cached, () => undefined);
    assert.deepEqual(await marks(again.target), [1]);
    await again.drop();
  } finally {
    await cleanup();
  }
});

// The bench manages databases on the server of DATABASE_URL, which may name a Unix socket and no host.
test('bench PostgreSQL URLs: another database on the same server, with a host or a socket', () => {
  const cases: [string, string, string][] = [
    ['postgres://postgres@127.0.0.1:5432/test', 'test', 'postgres://postgres@127.0.0.1:5432/parley_bench_medium'],
    ['postgres://postgres@/test?host=/var/run/postgresql', 'test', 'postgres://postgres@/parley_bench_medium?host=/var/run/postgresql'],
    ['postgresql://u:p%2Fw@db.example:6432/app?sslmode=require', 'app', 'postgresql://u:p%2Fw@db.example:6432/parley_bench_medium?sslmode=require'],
    ['postgres://postgres@localhost', '', 'postgres://postgres@localhost/parley_bench_medium'],
  ];
  for (const [url, database, other] of cases) {
    assert.equal(databaseOf(url), database, url);
    assert.equal(withDatabase(url, 'parley_bench_medium'), other, url);
  }
  assert.throws(() => withDatabase('sqlite:/tmp/x', 'y'), /not a PostgreSQL URL/);
});
