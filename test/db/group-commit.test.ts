import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import { openStore, type Store } from '../../src/db/connection.js';

/** A store on a fresh file with a `notes` table, and a second connection that sees only what was committed. */
async function withStore(run: (store: Store, committed: (id: number) => boolean, path: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-group-commit-'));
  const path = join(dir, 'db.sqlite3');
  const store = openStore({ engine: 'sqlite', databaseUrl: path, pgSchema: '' });
  await sql`create table notes (id integer primary key, body text not null)`.execute(store.db);
  const observer = new SQLite(path, { readonly: true });
  const lookup = observer.prepare('select count(*) as n from notes where id = ?');
  try {
    await run(store, (id) => (lookup.get(id) as { n: number }).n === 1, path);
  } finally {
    observer.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const untyped = (db: Kysely<any>) => db;
const insertNote = (db: Kysely<unknown>, id: number) => sql`insert into notes (id, body) values (${id}, ${`note ${id}`})`.execute(db);

test('SQLite group commit: transactions of one turn share one commit, and each resolves only once it is committed', async () => {
  await withStore(async (store, committed) => {
    const seenInside: boolean[] = [];
    const resolvedCommitted: boolean[] = [];
    const transactions = [1, 2, 3].map((id) =>
      store.db
        .transaction()
        .execute(async (trx) => {
          await insertNote(untyped(trx), id);
          // The earlier members' rows: visible here (one transaction), not yet to another connection.
          if (id === 3) seenInside.push(committed(1), committed(2));
          const rows = await sql<{ n: number }>`select count(*) as n from notes`.execute(trx);
          return rows.rows[0].n;
        })
        .then((n) => {
          resolvedCommitted.push(committed(id));
          return n;
        }),
    );
    assert.deepEqual(await Promise.all(transactions), [1, 2, 3]);
    assert.deepEqual(seenInside, [false, false]);
    assert.deepEqual(resolvedCommitted, [true, true, true]);
  });
});

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

test('SQLite group commit: a group stays open while each turn brings it a transaction, and commits after a turn that brings none', async () => {
  await withStore(async (store, committed) => {
    const atResolve: Record<number, boolean[]> = {};
    const run = (id: number, written = () => {}) =>
      store.db
        .transaction()
        .execute(async (trx) => {
          await insertNote(untyped(trx), id);
          written();
        })
        .then(() => (atResolve[id] = [committed(1), committed(2)]));
    let first!: Promise<unknown>;
    // The group is open once the first transaction has written.
    await new Promise<void>((written) => (first = run(1, written)));
    // A whole turn after the group opened (its closing callback ran before this one).
    await nextTurn();
    const openAfterFirstTurn = !committed(1);
    const second = run(2);
    await Promise.all([first, second]);
    assert.equal(openAfterFirstTurn, true);
    // One commit: the first transaction resolves with the second's row committed beside its own.
    assert.deepEqual(atResolve, { 1: [true, true], 2: [true, true] });
  });
});

test('SQLite group commit: a group fed a transaction at every turn still commits within a few turns', async () => {
  await withStore(async (store, committed) => {
    const runs: Promise<unknown>[] = [];
    const committedBefore: boolean[] = [];
    for (let id = 1; id <= 12; id++) {
      committedBefore.push(committed(1));
      runs.push(store.db.transaction().execute((trx) => insertNote(untyped(trx), id)));
      await nextTurn();
    }
    await Promise.all(runs);
    assert.equal(committedBefore[11], true, 'the first transaction is committed before the twelfth turn');
  });
});

test('SQLite group commit: a failing transaction rolls back alone; the others of its group commit', async () => {
  await withStore(async (store, committed) => {
    const results = await Promise.allSettled([
      store.db.transaction().execute((trx) => insertNote(untyped(trx), 1)),
      store.db.transaction().execute(async (trx) => {
        await insertNote(untyped(trx), 2);
        await insertNote(untyped(trx), 1); // a duplicate key: this transaction fails
      }),
      store.db.transaction().execute((trx) => insertNote(untyped(trx), 3)),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.match(String((results[1] as PromiseRejectedResult).reason), /UNIQUE constraint failed/);
    assert.deepEqual([1, 2, 3].map(committed), [true, false, true]);
  });
});

test('SQLite group commit: a read made while a group is open sees its rows and answers only after they are committed', async () => {
  await withStore(async (store, committed) => {
    const write = store.db.transaction().execute((trx) => insertNote(untyped(trx), 7));
    const read = sql<{ n: number }>`select count(*) as n from notes where id = 7`.execute(store.db).then((r) => ({ n: r.rows[0].n, committed: committed(7) }));
    await write;
    assert.deepEqual(await read, { n: 1, committed: true });
    // With no group open, a read runs on its own and at once.
    assert.equal((await sql<{ n: number }>`select count(*) as n from notes`.execute(store.db)).rows[0].n, 1);
  });
});

test('SQLite group commit: when SQLite ends the whole transaction, every member of the group fails and nothing of it stays', async () => {
  await withStore(async (store, committed) => {
    const results = await Promise.allSettled([
      store.db.transaction().execute((trx) => insertNote(untyped(trx), 1)),
      store.db.transaction().execute(async (trx) => {
        await insertNote(untyped(trx), 2);
        // What SQLite does by itself on a full disk or an I/O error.
        await sql`rollback`.execute(trx);
        throw new Error('disk I/O error');
      }),
    ]);
    assert.equal(results[0].status, 'rejected');
    assert.match(String((results[0] as PromiseRejectedResult).reason), /rolled the transaction back/);
    assert.match(String((results[1] as PromiseRejectedResult).reason), /disk I\/O error/);
    assert.deepEqual([1, 2].map(committed), [false, false]);
    // The connection goes on: the next transaction opens a new group.
    await store.db.transaction().execute((trx) => insertNote(untyped(trx), 3));
    assert.equal(committed(3), true);
  });
});

test('SQLite group commit: closing the store commits an open group first', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-group-commit-'));
  const path = join(dir, 'db.sqlite3');
  try {
    const store = openStore({ engine: 'sqlite', databaseUrl: path, pgSchema: '' });
    await sql`create table notes (id integer primary key, body text not null)`.execute(store.db);
    const write = store.db.transaction().execute((trx) => insertNote(untyped(trx), 1));
    const closed = store.close();
    await Promise.all([write, closed]);
    const check = new SQLite(path, { readonly: true });
    assert.equal((check.prepare('select count(*) as n from notes').get() as { n: number }).n, 1);
    check.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SQLite group commit: another process writing while a group is open cannot make the group fail', async () => {
  // Another process on the same file: the CLI (`parley create-user`), or a second server. With a
  // deferred `begin`, a group that read first and wrote after such a commit could not move its
  // snapshot forward (SQLITE_BUSY_SNAPSHOT: the request failed with nothing retried). The group
  // takes the write lock when it opens, so the other writer is the one that waits.
  await withStore(async (store, committed, path) => {
    const other = new SQLite(path);
    other.pragma('busy_timeout = 0');
    const otherInsert = other.prepare("insert into notes (id, body) values (?, 'from the other process')");
    try {
      let otherError: unknown = null;
      const result = await store.db.transaction().execute(async (trx) => {
        const before = await sql<{ n: number }>`select count(*) as n from notes`.execute(trx);
        try {
          otherInsert.run(100);
        } catch (error) {
          otherError = error;
        }
        await insertNote(untyped(trx), 1);
        return before.rows[0].n;
      });
      assert.equal(result, 0);
      assert.equal(committed(1), true);
      assert.equal((otherError as { code?: string } | null)?.code, 'SQLITE_BUSY', 'the other writer waits for the group');
      // Once the group has committed, the other process writes as usual.
      otherInsert.run(100);
      assert.equal(committed(100), true);
    } finally {
      other.close();
    }
  });
});
