import { CompiledQuery, type Compilable, type DatabaseConnection, type Kysely } from 'kysely';
import type { Database } from './types.js';
import { sqliteConnections, type RowStatement } from './connection.js';
import type { ReadSnapshot } from './read-snapshot.js';
import { pipelinedAdapters } from './pg-pipeline.js';

/** Stands for the i-th argument while a query is compiled once. */
class Slot {
  constructor(readonly index: number) {}
}

/**
 * A statement on the hot path, built and compiled by Kysely once per database and then run with
 * new arguments: building and compiling cost more than SQLite takes to answer these lookups. The
 * builder must use each argument only as a bound value.
 * On SQLite it runs synchronously on the cached statement, skipping the driver's connection
 * hand-off, and answers without a promise: in a transaction (which holds the connection), and on
 * the root database unless a transaction is open on the connection (then it queues behind it like
 * any query, so it only ever sees committed rows). A transaction's instances are new per
 * transaction, so the compilation is found through the dialect adapter they share with their root.
 */
export function precompiled<A extends unknown[], O>(
  build: (db: Kysely<Database>, ...args: A) => Compilable<O>,
): (db: Kysely<Database>, ...args: A) => O[] | Promise<O[]> {
  const byAdapter = new WeakMap<object, Compiled>();
  return (db, ...args) => {
    const adapter = db.getExecutor().adapter;
    let compiled = byAdapter.get(adapter);
    if (!compiled) {
      const slots = args.map((_, i) => new Slot(i)) as unknown as A;
      const query = build(db, ...slots).compile();
      compiled = { sql: query.sql, template: query.parameters, slots: query.parameters.map((p) => (p instanceof Slot ? p.index : -1)) };
      byAdapter.set(adapter, compiled);
    }
    if (compiled.statement === undefined) {
      // Transactions and instances derived from the root (withTables, withPlugin) share its
      // adapter, and so its connection.
      const connection = sqliteConnections.get(adapter);
      compiled.snapshot = connection?.snapshot;
      compiled.statement = connection ? connection.prepare(compiled.sql) : null;
    }
    const { template, slots } = compiled;
    const parameters = new Array<unknown>(template.length);
    for (let i = 0; i < template.length; i++) parameters[i] = slots[i] >= 0 ? args[slots[i]] : template[i];
    const statement = compiled.statement;
    if (statement?.reader) {
      // A transaction of this database holds its one connection while it runs: its statements
      // run on it directly. The root does so only while no transaction is open on the connection:
      // it would see that transaction's uncommitted rows (Kysely's path waits for it instead).
      if (db.isTransaction || !compiled.snapshot!.transactionOpen) return statement.all(parameters) as O[];
    }
    const query = CompiledQuery.raw(compiled.sql, parameters);
    if (db.isTransaction && statement === null) return inTransaction<O>(db, query);
    return db.executeQuery<O>(query).then((result) => result.rows);
  };
}

/**
 * PostgreSQL, in a transaction: the statement goes straight to the transaction's connection, not
 * through Kysely's, which runs a transaction's statements one after another. The connection
 * (db/pg-pipeline.ts) sends each at once, behind those already sent, so statements issued
 * together (`Promise.all`) leave in one write and are answered in order; SQLite's precompiled
 * statements likewise run the moment they are called. A statement issued behind a failed one
 * fails too (the transaction is aborted), and the transaction rolls back as usual.
 */
const transactionConnections = new WeakMap<object, DatabaseConnection>();

function inTransaction<O>(db: Kysely<Database>, query: CompiledQuery): Promise<O[]> {
  const executor = db.getExecutor();
  // Without pipelining (PG_PIPELINE=0) a connection takes one statement at a time: Kysely's path.
  if (!pipelinedAdapters.has(executor.adapter)) return db.executeQuery<O>(query).then((result) => result.rows);
  const connection = transactionConnections.get(executor);
  if (connection) return connection.executeQuery<O>(query).then((result) => result.rows);
  return executor
    .provideConnection(async (found) => found)
    .then((found) => {
      transactionConnections.set(executor, found);
      return found.executeQuery<O>(query);
    })
    .then((result) => result.rows);
}

/**
 * PostgreSQL (pipelined): the transaction `db`'s COMMIT leaves in the same write as the
 * precompiled statements just issued (PipelinedConnection.commitAhead), a round trip sooner.
 * For a caller that owns the transaction, has issued its last statement and has nothing left that
 * can fail; `transaction().execute()` still resolves only once the COMMIT is answered. Elsewhere
 * (SQLite, PG_PIPELINE=0, no precompiled statement yet on the transaction) it does nothing: the
 * transaction commits when it ends, as usual.
 */
export function commitAhead(db: Kysely<Database>): void {
  if (!db.isTransaction) return;
  const connection = transactionConnections.get(db.getExecutor()) as (DatabaseConnection & { commitAhead?: () => void }) | undefined;
  connection?.commitAhead?.();
}

interface Compiled {
  sql: string;
  template: readonly unknown[];
  /** For each parameter, the argument it takes (or -1: a constant of the query). */
  slots: number[];
  /** Found on first run (SQLite: its connection's read snapshot and cached statement; PostgreSQL: none, null). */
  snapshot?: ReadSnapshot;
  statement?: RowStatement | null;
}

/**
 * One precompiled statement per variant (a shape the SQL text depends on: a set of columns, a
 * page's literal offset, a match kind), made on first use and kept under `keyOf(variant)`.
 * Variants come from code paths and page numbers, so they are few; past `maxVariants` a new one
 * is still compiled, just not kept.
 */
export function precompiledVariants<V, A extends unknown[], O>(
  keyOf: (variant: V) => string,
  build: (variant: V) => (db: Kysely<Database>, ...args: A) => Compilable<O>,
  maxVariants = 1_000,
): (variant: V, db: Kysely<Database>, ...args: A) => O[] | Promise<O[]> {
  const byKey = new Map<string, (db: Kysely<Database>, ...args: A) => O[] | Promise<O[]>>();
  return (variant, db, ...args) => {
    const key = keyOf(variant);
    let run = byKey.get(key);
    if (!run) {
      run = precompiled(build(variant));
      if (byKey.size < maxVariants) byKey.set(key, run);
    }
    return run(db, ...args);
  };
}

/**
 * A statement over a row of values (insert values, update sets), compiled once per set of
 * columns the row has: `build` receives the row with each value standing for a bound parameter.
 * Columns whose value is undefined are left out, as Kysely leaves them out.
 */
export function precompiledRow<R extends Record<string, unknown>, O>(
  build: (db: Kysely<Database>, row: R) => Compilable<O>,
): (db: Kysely<Database>, row: R) => O[] | Promise<O[]> {
  const byColumns = precompiledVariants(
    (columns: string[]) => columns.join(','),
    (columns) =>
      (root, ...values: unknown[]) =>
        build(root, Object.fromEntries(columns.map((c, i) => [c, values[i]])) as R),
  );
  return (db, row) => {
    const columns = Object.keys(row).filter((column) => row[column] !== undefined);
    const values = new Array<unknown>(columns.length);
    for (let i = 0; i < columns.length; i++) values[i] = row[columns[i]];
    return byColumns(columns, db, ...values);
  };
}

/**
 * A statement over a list of ids (`in (…)`), compiled once per length of the list, with any
 * further arguments after it; `build` must use the ids and the arguments only as bound values.
 * A list's length changes the SQL text, so each length is its own statement (as many as pages have rows).
 */
export function precompiledIn<O, E extends unknown[] = []>(
  build: (db: Kysely<Database>, ids: number[], ...extra: E) => Compilable<O>,
): (db: Kysely<Database>, ids: number[], ...extra: E) => O[] | Promise<O[]> {
  const byLength = precompiledVariants(
    (length: number) => String(length),
    (length) =>
      (db, ...args: unknown[]) =>
        build(db, args.slice(0, length) as number[], ...(args.slice(length) as E)),
  );
  return (db, ids, ...extra) => byLength(ids.length, db, ...ids, ...extra);
}
