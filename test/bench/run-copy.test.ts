import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { ENGINE } from '../helpers.js';
import { openStore } from '../../src/db/connection.js';
import { dropPgDatabase, postgresUrl, recreatePgDatabase, runCopy, withDatabase, type Target } from '../../bench/generate.js';

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
