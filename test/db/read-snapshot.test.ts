import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import { openStore, rawSqlite, type Store } from '../../src/db/connection.js';
import { readEpoch } from '../../src/db/epochs.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { AUTH_EPOCH } from '../../src/db/migrations/0010_auth_cache_epoch.js';

/** A migrated store on a fresh file with a `scratch_rows` table, and a second connection (another process, as far as SQLite knows). */
async function withStore(run: (store: Store, other: SQLite.Database) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-read-snapshot-'));
  const path = join(dir, 'db.sqlite3');
  const store = openStore({ engine: 'sqlite', databaseUrl: path, pgSchema: '' });
  await migrateToLatest(untyped(store.db), 'sqlite');
  await sql`create table scratch_rows (id integer primary key, body text not null)`.execute(store.db);
  const other = new SQLite(path);
  other.pragma('busy_timeout = 5000');
  try {
    await run(store, other);
  } finally {
    other.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const untyped = (db: Kysely<any>) => db as Kysely<unknown>;
const countRows = async (db: Kysely<unknown>) => (await sql<{ n: number }>`select count(*) as n from scratch_rows`.execute(db)).rows[0].n;
const nextTask = () => new Promise((resolve) => setImmediate(resolve));

/** `wal_checkpoint(TRUNCATE)` from `db`, tried again while busy for up to a second: its last `busy`. */
async function truncateCheckpointBusy(db: SQLite.Database): Promise<number> {
  let busy = 1;
  for (let attempt = 0; attempt < 100 && busy !== 0; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    [{ busy }] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
  }
  return busy;
}

test('SQLite read snapshot: the reads of one turn share one read transaction, which ends at its check phase', async () => {
  await withStore(async (store, other) => {
    const sqlite = rawSqlite.get(store.db)!;
    await nextTask();
    assert.equal(await countRows(untyped(store.db)), 0);
    assert.equal(sqlite.inTransaction, true, 'the read left its transaction open for the reads after it');
    other.prepare("insert into scratch_rows (id, body) values (1, 'elsewhere')").run();
    assert.equal(await countRows(untyped(store.db)), 0, 'a later read of the same task answers from the same snapshot');
    await nextTask();
    assert.equal(sqlite.inTransaction, false, 'ended at the check phase');
    assert.equal(await countRows(untyped(store.db)), 1, 'the next task reads what was committed before it');
    await nextTask();
    // Nothing of ours holds the WAL: another connection can checkpoint it to the end. The store's
    // checkpoint worker (db/checkpointer.ts) may be inside a checkpoint of its own at that moment,
    // which makes ours busy for that moment only; a read transaction left open would make every try busy.
    assert.equal(await truncateCheckpointBusy(other), 0);
  });
});

test('SQLite read snapshot: callbacks of one event-loop phase share it; the next turn starts anew', async () => {
  await withStore(async (store, other) => {
    const sqlite = rawSqlite.get(store.db)!;
    const db = untyped(store.db);
    await nextTask();
    // Two immediates queued together run in one check phase, as the requests read in one poll
    // phase do; the snapshot's end, queued while the first one runs, comes in the next. (Two
    // zero-delay timers are not enough: each reads the clock, and when a millisecond passes between
    // them the second one is due only at the next turn.)
    const seen = await new Promise<number[]>((resolve, reject) => {
      const counts: number[] = [];
      setImmediate(() => {
        countRows(db)
          .then((n) => {
            counts.push(n);
            other.prepare("insert into scratch_rows (id, body) values (1, 'elsewhere')").run();
          })
          .catch(reject);
      });
      setImmediate(() => {
        assert.equal(sqlite.inTransaction, true, 'still open in the second callback');
        countRows(db)
          .then((n) => resolve([...counts, n]))
          .catch(reject);
      });
    });
    assert.deepEqual(seen, [0, 0], 'the second callback reads from the snapshot the first one opened');
    await nextTask();
    assert.equal(sqlite.inTransaction, false);
    assert.equal(await countRows(db), 1);
  });
});

test('SQLite read snapshot: a write after a read commits at once, and a transaction after one starts as usual', async () => {
  await withStore(async (store, other) => {
    const committed = other.prepare('select count(*) as n from scratch_rows where id = ?');
    const db = untyped(store.db);
    await nextTask();
    assert.equal(await countRows(db), 0);
    await sql`insert into scratch_rows (id, body) values (1, 'one')`.execute(db);
    assert.equal((committed.get(1) as { n: number }).n, 1, 'committed before the task went on');
    assert.equal(rawSqlite.get(store.db)!.inTransaction, false);
    assert.equal(await countRows(db), 1, 'a read after the write sees it');
    const inside = await store.db.transaction().execute(async (trx) => {
      await sql`insert into scratch_rows (id, body) values (2, 'two')`.execute(untyped(trx));
      return countRows(untyped(trx));
    });
    assert.equal(inside, 2);
    assert.equal((committed.get(2) as { n: number }).n, 1, 'the transaction committed');
  });
});

test('SQLite read snapshot: a commit the commit probe sees ends the snapshot, so a cached epoch is never older than its look', async () => {
  await withStore(async (store, other) => {
    await nextTask();
    const before = readEpoch(store.db, 'cache_epochs', AUTH_EPOCH) as number;
    assert.equal(typeof before, 'number');
    // In the same task, with the snapshot open: another process bumps the epoch and adds a row.
    other.prepare(`update cache_epochs set v = v + 1 where id = ${AUTH_EPOCH}`).run();
    other.prepare("insert into scratch_rows (id, body) values (1, 'elsewhere')").run();
    assert.equal(readEpoch(store.db, 'cache_epochs', AUTH_EPOCH), before + 1);
    assert.equal(await countRows(untyped(store.db)), 1, 'reads after that look see the commit too');
    await nextTask();
    assert.equal(readEpoch(store.db, 'cache_epochs', AUTH_EPOCH), before + 1, 'and the value kept is the new one');
  });
});
