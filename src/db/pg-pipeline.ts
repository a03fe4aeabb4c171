import type pg from 'pg';
import { closeAtQuietTurn } from '../lib/quiet-turn.js';
import { loadPg } from './engine-modules.js';
import { CompiledQuery, type DatabaseConnection, type Driver, type QueryResult, type TransactionSettings } from 'kysely';

/** Kysely adapters of the databases this driver serves (their root and derived instances share one). */
export const pipelinedAdapters = new WeakSet<object>();

/**
 * Root queries of one batch past this many go on another client (bounds how long one waits behind
 * the others). Every batch is still written only when it closes: a read that was sent must not be
 * shared with a caller who asks after it (db/coalesce.ts).
 */
const MAX_BATCH = 32;
/** A batch closes at the end of the first event-loop turn that added no query to it, or after this many turns. */
const MAX_BATCH_TURNS = 4;

/** Batches written out so far, by every pipelined driver of the process (db/coalesce.ts). */
let batchesSent = 0;

/**
 * A count that moves whenever a batch of root queries is written out. A root query issued while
 * it has not moved since is still unsent: it waits in an open batch (or on its way to one).
 */
export const sentBatches = (): number => batchesSent;

/** Root statements that go out on a pooled client of their own (`onClientOfItsOwn`). */
const ownClientQueries = new WeakSet<CompiledQuery>();

/**
 * Marks a statement outside any transaction to leave on a pooled client of its own, in its own
 * write, instead of with the turn's other queries on one client: for a statement that may wait
 * for a row lock, or costs PostgreSQL much more than a lookup (the queries of one client run one
 * after another in one backend). Without pipelining it runs as any query.
 */
export function onClientOfItsOwn(query: CompiledQuery): CompiledQuery {
  ownClientQueries.add(query);
  return query;
}

/**
 * Kysely's driver for PostgreSQL, pipelining (node-postgres's `pipeline` mode) so that a request
 * pays fewer socket writes and wake-ups; on this kind of machine each costs more than PostgreSQL
 * takes to answer our lookups.
 *
 * - Queries outside a transaction share one pooled client and go out in one write, answered in
 *   order, when their batch closes: at the end of the first event-loop turn that added none to it
 *   (under load each turn reads more requests, and they join), at most MAX_BATCH_TURNS after it
 *   opened. Each is still its own implicit transaction (its own Sync), so one failing leaves the
 *   others alone. The client goes back to the pool when the last of them is answered; the next
 *   batch's queries take another, so a slow query holds up only those sent with it.
 * - A transaction takes a client of its own; its BEGIN goes out in the same write as its first
 *   statement.
 */
export class PipelinedPostgresDriver implements Driver {
  private batch: TurnBatch | null = null;
  private destroyed = false;

  constructor(private readonly pool: pg.Pool) {}

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    if (this.destroyed) throw new Error('driver has already been destroyed');
    return new PipelinedConnection(this);
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    let statement = 'begin';
    if (settings.isolationLevel || settings.accessMode) {
      statement = 'start transaction';
      if (settings.isolationLevel) statement += ` isolation level ${settings.isolationLevel}`;
      if (settings.accessMode) statement += ` ${settings.accessMode}`;
    }
    await (connection as PipelinedConnection).begin(await this.pool.connect(), statement);
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const ahead = (connection as PipelinedConnection).takeCommitAhead();
    if (ahead) {
      const result = await ahead;
      // A statement before it failed: PostgreSQL answers the COMMIT of the aborted transaction
      // with ROLLBACK (not an error), and that statement's error reached its caller.
      if (result.command !== 'COMMIT') throw new Error('the transaction committed ahead was rolled back');
      return;
    }
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const ahead = (connection as PipelinedConnection).takeCommitAhead();
    if (ahead) {
      // The transaction ended with its COMMIT; that must have been a ROLLBACK (a statement failed).
      const result = await ahead.catch(() => null);
      if (result?.command === 'COMMIT') throw new Error('a transaction committed ahead of its end cannot roll back');
      return;
    }
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`savepoint ${identifier(name)}`));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`rollback to savepoint ${identifier(name)}`));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`release savepoint ${identifier(name)}`));
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    (connection as PipelinedConnection).release();
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await this.pool.end();
  }

  /** A query outside any transaction on a pooled client of its own (onClientOfItsOwn). */
  async alone(sql: string, parameters: readonly unknown[]): Promise<pg.QueryResult> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      return await client.query(sql, [...parameters]);
    } catch (error) {
      broken = connectionFailed(error);
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /** A query outside any transaction: sent with this turn's others. */
  shared(sql: string, parameters: readonly unknown[]): Promise<pg.QueryResult> {
    let batch = this.batch;
    if (batch === null || !batch.accepting) batch = this.batch = new TurnBatch(this.pool, () => this.batch === batch && (this.batch = null));
    return batch.add(sql, parameters);
  }
}

class PipelinedConnection implements DatabaseConnection {
  /** The transaction's own client (null: not in a transaction, queries are shared). */
  private client: pg.PoolClient | null = null;
  /** The transaction's BEGIN, awaited with its first statement (they go out together). */
  private pendingBegin: Promise<unknown> | null = null;
  private corked: CorkedSocket | null = null;
  private flushing = false;
  private broken = false;
  /** The COMMIT sent with the transaction's last statements (commitAhead), awaited by commitTransaction. */
  private committing: Promise<pg.QueryResult> | null = null;

  constructor(private readonly driver: PipelinedPostgresDriver) {}

  /**
   * Sends the transaction's COMMIT now, in the same write as the statements issued in this tick,
   * instead of a round trip later when Kysely ends the transaction: for a caller that has issued
   * its last statement and can no longer fail. Should one of those statements fail, PostgreSQL
   * answers the COMMIT with ROLLBACK and the statement's caller gets its error, as usual. No
   * statement may follow.
   */
  commitAhead(): void {
    const client = this.client;
    if (client === null || this.committing) throw new Error('commitAhead: no transaction to commit, or already committing');
    this.holdWrites(client);
    const begin = this.pendingBegin;
    this.pendingBegin = null;
    const commit = client.query('commit');
    this.committing = begin === null ? commit : Promise.all([begin, commit]).then(([, result]) => result);
    // Awaited by commitTransaction or rollbackTransaction; until then a failure is not unhandled.
    this.committing.catch(() => undefined);
  }

  takeCommitAhead(): Promise<pg.QueryResult> | null {
    const committing = this.committing;
    this.committing = null;
    return committing;
  }

  async begin(client: pg.PoolClient, statement: string): Promise<void> {
    this.client = client;
    const corked = (this.corked = cork(client));
    this.pendingBegin = client.query(statement);
    // Should the transaction's first statement not come in this turn, BEGIN goes out alone.
    setImmediate(() => corked.uncork());
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const client = this.client;
    if (client === null) {
      const run = ownClientQueries.has(compiled) ? this.driver.alone(compiled.sql, compiled.parameters) : this.driver.shared(compiled.sql, compiled.parameters);
      return toResult(await run);
    }
    if (this.committing) throw new Error('a statement after the transaction was committed ahead (commitAhead)');
    this.holdWrites(client);
    const query = client.query(compiled.sql, [...compiled.parameters]);
    const begin = this.pendingBegin;
    this.pendingBegin = null;
    try {
      if (begin === null) return toResult(await query);
      const [, result] = await Promise.all([begin, query]);
      return toResult(result);
    } catch (error) {
      if (connectionFailed(error)) this.broken = true;
      throw error;
    }
  }

  /** Statements the transaction issues together (before the next tick) leave in one write. */
  private holdWrites(client: pg.PoolClient): void {
    if (this.flushing) return;
    this.flushing = true;
    this.corked ??= cork(client);
    process.nextTick(() => {
      this.flushing = false;
      const corked = this.corked;
      this.corked = null;
      corked?.uncork();
    });
  }

  streamQuery(): AsyncIterableIterator<QueryResult<never>> {
    throw new Error('streaming is not supported on PostgreSQL here');
  }

  release(): void {
    const client = this.client;
    if (client === null) return;
    this.corked?.uncork();
    this.client = this.corked = this.pendingBegin = this.committing = null;
    // A client whose connection failed is destroyed, not reused.
    client.release(this.broken);
  }
}

/** The root queries of one turn, on one pooled client, written out together when the turn ends. */
class TurnBatch {
  /** Taking queries (until the turn ends or it is full). */
  accepting = true;
  /** Until the turn ends: writes are held. */
  private open = true;
  private client: pg.PoolClient | null = null;
  private failed: Error | null = null;
  private corked: CorkedSocket | null = null;
  private count = 0;
  private unsettled = 0;
  private broken = false;
  private readonly waiting: { sql: string; parameters: readonly unknown[]; resolve: (r: pg.QueryResult) => void; reject: (e: unknown) => void }[] = [];

  constructor(
    pool: pg.Pool,
    private readonly onClose: () => void,
  ) {
    // A request's epoch read shared by every request of a batch (db/coalesce.ts) is one round trip
    // for all of them: on the profile and meta routes one a turn had cost as much CPU again as the
    // rest of them.
    closeAtQuietTurn(
      () => this.count,
      () => !this.accepting,
      MAX_BATCH_TURNS,
      () => this.close(),
    );
    pool.connect().then(
      (client) => {
        this.client = client;
        this.corked = cork(client);
        for (const w of this.waiting.splice(0)) this.send(w.sql, w.parameters).then(w.resolve, w.reject);
        if (!this.open) this.flush();
      },
      (error: Error) => {
        this.failed = error;
        for (const w of this.waiting.splice(0)) w.reject(error);
      },
    );
  }

  add(sql: string, parameters: readonly unknown[]): Promise<pg.QueryResult> {
    if (++this.count >= MAX_BATCH) this.stopAccepting();
    if (this.failed) return Promise.reject(this.failed);
    if (this.client) return this.send(sql, parameters);
    return new Promise((resolve, reject) => this.waiting.push({ sql, parameters, resolve, reject }));
  }

  private stopAccepting(): void {
    if (!this.accepting) return;
    this.accepting = false;
    this.onClose();
  }

  private close(): void {
    if (!this.open) return;
    this.stopAccepting();
    this.open = false;
    if (this.client) this.flush();
  }

  private flush(): void {
    batchesSent++;
    this.corked?.uncork();
    this.corked = null;
    this.releaseIfDone();
  }

  private async send(sql: string, parameters: readonly unknown[]): Promise<pg.QueryResult> {
    this.unsettled++;
    try {
      return await this.client!.query(sql, [...parameters]);
    } catch (error) {
      if (connectionFailed(error)) this.broken = true;
      throw error;
    } finally {
      this.unsettled--;
      this.releaseIfDone();
    }
  }

  private releaseIfDone(): void {
    if (this.open || this.unsettled > 0 || this.client === null) return;
    const client = this.client;
    this.client = null;
    client.release(this.broken);
  }
}

interface CorkedSocket {
  uncork(): void;
}

/** Holds a client's writes until uncork (once), so what is sent meanwhile leaves in one write. */
function cork(client: pg.PoolClient): CorkedSocket {
  const stream = (client as unknown as { connection: { stream: { cork?: () => void; uncork?: () => void } } }).connection.stream;
  stream.cork?.();
  let done = false;
  return {
    uncork() {
      if (done) return;
      done = true;
      stream.uncork?.();
    },
  };
}

/** An error that is not PostgreSQL's answer to a statement: the client's connection is not to be reused. */
const connectionFailed = (error: unknown) => !(error instanceof loadPg().DatabaseError);

const identifier = (name: string) => `"${name.replace(/"/g, '""')}"`;

function toResult<R>(result: pg.QueryResult): QueryResult<R> {
  const { command, rowCount, rows } = result;
  const affects = command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE';
  return { numAffectedRows: affects ? BigInt(rowCount ?? 0) : undefined, rows: (rows ?? []) as R[] };
}
