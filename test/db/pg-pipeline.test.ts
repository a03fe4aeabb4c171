import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CompiledQuery, sql, type Kysely } from 'kysely';
import { onClientOfItsOwn } from '../../src/db/pg-pipeline.js';
import { commitAhead, precompiled } from '../../src/db/precompiled.js';
import { ENGINE, startTestApp, type TestApp } from '../helpers.js';

const backendPid = (db: Kysely<any>) => sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db).then((r) => r.rows[0].pid);
// Precompiled statements on a table of this test (not in Parley's schema types).
const insertNote = precompiled((db, id: number, body: string) => (db as Kysely<any>).insertInto('pipeline_notes').values({ id, body }).returning('id'));
const noteBody = precompiled((db, id: number) => (db as Kysely<any>).selectFrom('pipeline_notes').select('body').where('id', '=', id));

const later = () => new Promise((resolve) => setTimeout(resolve, 20));

/** PostgreSQL: root queries of a turn share one pipelined client; a transaction's BEGIN rides with its first statement (db/pg-pipeline.ts). */
// PG_PIPELINE=0 turns pipelining off (db/connection.ts): nothing here applies then.
describe('PostgreSQL pipelining', { skip: ENGINE !== 'postgres' || process.env.PG_PIPELINE === '0' }, () => {
  let t: TestApp;
  let db: Kysely<any>;
  before(async () => {
    t = await startTestApp();
    db = t.ctx.db as Kysely<any>;
    await sql`create table pipeline_notes (id integer primary key, body text not null)`.execute(db);
  });
  after(() => t.close());

  test('queries outside a transaction issued in one turn go to one backend, each answered with its own rows', async () => {
    const [a, b, c, sum] = await Promise.all([
      backendPid(db),
      backendPid(db),
      backendPid(db),
      sql<{ n: number }>`select ${2}::int + ${3}::int as n`.execute(db).then((r) => r.rows[0].n),
    ]);
    assert.equal(a, b);
    assert.equal(b, c);
    assert.equal(sum, 5);
  });

  test('one failing query of a turn leaves the others of that turn alone', async () => {
    const results = await Promise.allSettled([
      sql`select 1 as one`.execute(db),
      sql`select * from no_such_table`.execute(db),
      sql<{ two: number }>`select 2 as two`.execute(db),
    ]);
    assert.equal(results[0].status, 'fulfilled');
    assert.equal(results[1].status, 'rejected');
    assert.match(String((results[1] as PromiseRejectedResult).reason), /no_such_table/);
    assert.equal(results[2].status, 'fulfilled');
    assert.equal((results[2] as PromiseFulfilledResult<{ rows: { two: number }[] }>).value.rows[0].two, 2);
    // The client went back to the pool usable.
    assert.equal(Number((await sql<{ n: number }>`select 3 as n`.execute(db)).rows[0].n), 3);
  });

  test('a slow query holds up only the queries of its own batch', async () => {
    const slow = sql`select pg_sleep(0.5)`.execute(db);
    await later();
    const started = Date.now();
    await sql`select 1`.execute(db);
    assert.ok(Date.now() - started < 400, 'a later batch is answered on another client');
    await slow;
  });

  test('a batch stays open while each turn brings it a query, at most four turns more', async () => {
    // One query, then one more after each of nine event-loop turns. The first holds its client for
    // 200 ms, so a query sent in another batch cannot be answered on the same one.
    const slowPid = sql<{ pid: number }>`select pg_backend_pid() as pid, pg_sleep(0.2)`.execute(db).then((r) => r.rows[0].pid);
    const pids = [slowPid];
    for (let turn = 1; turn < 10; turn++) {
      await new Promise((resolve) => setImmediate(resolve));
      pids.push(backendPid(db));
    }
    const answered = await Promise.all(pids);
    // The first query, one issued when its turn ended, and one in each of the four turns after.
    assert.deepEqual(answered.slice(0, 6), Array(6).fill(answered[0]), 'the first six queries went out together on one client');
    assert.notEqual(answered[6], answered[0], 'the seventh went out in a batch of its own');
  });

  test('a statement on a client of its own waits for a row lock without holding up the queries of its turn', async () => {
    await sql`insert into pipeline_notes (id, body) values (500, 'locked')`.execute(db);
    const holder = await t.ctx.db.transaction().execute(async (trx) => {
      await sql`select id from pipeline_notes where id = 500 for update`.execute(trx);
      const own = db.executeQuery<{ pid: number; body: string }>(
        onClientOfItsOwn(CompiledQuery.raw('select pg_backend_pid() as pid, body from pipeline_notes where id = $1 for update', [500])),
      );
      // Issued after it in the same turn, the shared query is answered while the marked one still
      // waits for the lock (on the shared client it would be answered only after it).
      const shared = backendPid(db);
      const pid = await Promise.race([shared, new Promise<null>((resolve) => setTimeout(() => resolve(null), 1000))]);
      const waiting = await Promise.race([own.then(() => 'answered'), later().then(() => 'waiting')]);
      return { pid, own, waiting, shared };
    });
    await holder.shared;
    assert.notEqual(holder.pid, null, 'the shared query was answered without waiting for the lock');
    assert.equal(holder.waiting, 'waiting');
    const [row] = (await holder.own).rows;
    assert.equal(row.body, 'locked', 'answered once the lock was released');
    assert.notEqual(row.pid, holder.pid, "on another backend than the turn's shared client");
    await sql`delete from pipeline_notes where id = 500`.execute(db);
  });

  test('a transaction runs on a client of its own: its rows are its own until commit, and a rollback leaves nothing', async () => {
    let outsideDuring: number | undefined;
    await db.transaction().execute(async (trx) => {
      await sql`insert into pipeline_notes (id, body) values (1, 'one')`.execute(trx);
      const inside = await sql<{ n: number }>`select count(*)::int as n from pipeline_notes`.execute(trx);
      assert.equal(inside.rows[0].n, 1);
      outsideDuring = (await sql<{ n: number }>`select count(*)::int as n from pipeline_notes`.execute(db)).rows[0].n;
    });
    assert.equal(outsideDuring, 0, 'uncommitted rows are not seen outside');
    await assert.rejects(
      db.transaction().execute(async (trx) => {
        await sql`insert into pipeline_notes (id, body) values (2, 'two')`.execute(trx);
        await sql`insert into pipeline_notes (id, body) values (1, 'again')`.execute(trx);
      }),
      /duplicate key/,
    );
    const rows = await sql<{ id: number }>`select id from pipeline_notes order by id`.execute(db);
    assert.deepEqual(rows.rows.map((r) => r.id), [1]);
  });

  test('precompiled statements issued together in a transaction are answered in the order they were issued', async () => {
    const [inserted, read] = await db.transaction().execute(async (trx) =>
      Promise.all([insertNote(trx as never, 50, 'pipelined') as Promise<unknown[]>, noteBody(trx as never, 50) as Promise<{ body: string }[]>]),
    );
    assert.equal(inserted.length, 1);
    assert.deepEqual(read, [{ body: 'pipelined' }]);
    // One failing aborts the transaction: the ones behind it fail, nothing is kept.
    await assert.rejects(
      db.transaction().execute(async (trx) => Promise.all([insertNote(trx as never, 51, 'x'), insertNote(trx as never, 50, 'dup'), noteBody(trx as never, 51)])),
      /duplicate key/,
    );
    assert.equal((await sql<{ n: number }>`select count(*)::int as n from pipeline_notes where id = 51`.execute(db)).rows[0].n, 0);
  });

  test('a failing first statement of a transaction rejects it, and more transactions than pooled clients all finish', async () => {
    await assert.rejects(db.transaction().execute((trx) => sql`select * from no_such_table`.execute(trx)), /no_such_table/);
    const ids = Array.from({ length: 30 }, (_, i) => 100 + i);
    await Promise.all(ids.map((id) => db.transaction().execute((trx) => sql`insert into pipeline_notes (id, body) values (${id}, 'x')`.execute(trx))));
    const n = await sql<{ n: number }>`select count(*)::int as n from pipeline_notes where id >= 100`.execute(db);
    assert.equal(n.rows[0].n, 30);
  });

  test('commitAhead: the COMMIT leaves with the last statements; a failure among them still rolls everything back; nothing may follow it', async () => {
    const read = await db.transaction().execute(async (trx) => {
      const issued = Promise.all([insertNote(trx as never, 60, 'ahead') as Promise<unknown[]>, noteBody(trx as never, 60) as Promise<{ body: string }[]>]);
      commitAhead(trx as never);
      return (await issued)[1];
    });
    assert.deepEqual(read, [{ body: 'ahead' }]);
    assert.deepEqual((await noteBody(db as never, 60)) as unknown[], [{ body: 'ahead' }], 'committed');

    await assert.rejects(
      db.transaction().execute(async (trx) => {
        const issued = Promise.all([insertNote(trx as never, 61, 'kept?'), insertNote(trx as never, 60, 'dup')]);
        commitAhead(trx as never);
        return issued;
      }),
      /duplicate key/,
    );
    assert.deepEqual((await noteBody(db as never, 61)) as unknown[], [], 'the statement before the failing one was rolled back');

    await assert.rejects(
      db.transaction().execute(async (trx) => {
        await insertNote(trx as never, 62, 'x');
        commitAhead(trx as never);
        await sql`select 1`.execute(trx);
      }),
      /committed ahead/,
    );
    // The transaction had committed when the caller failed after it: that is reported, not hidden.
    assert.deepEqual((await noteBody(db as never, 62)) as unknown[], [{ body: 'x' }]);
    // The pool's clients are all usable afterwards.
    await Promise.all(Array.from({ length: 12 }, (_, i) => db.transaction().execute((trx) => insertNote(trx as never, 200 + i, 'after') as Promise<unknown[]>)));
  });
});
