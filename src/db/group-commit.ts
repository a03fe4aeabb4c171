import type SQLite from 'better-sqlite3';
import { CompiledQuery, type DatabaseConnection, type Driver, type QueryResult } from 'kysely';
import type { RowStatement } from './connection.js';
import type { ReadSnapshot } from './read-snapshot.js';
import { flushAfterMicrotasks } from '../lib/turn-writes.js';
import { closeAtQuietTurn } from '../lib/quiet-turn.js';

/**
 * Kysely's driver for Parley's one SQLite connection, with group commit.
 *
 * A SQLite commit writes every page the transaction changed to the WAL, one frame each; an agent
 * reply changes about fifteen pages, and six of them are the same for every reply (the tails of the
 * messages table, its account index and the conversations' activity indexes). Requests that arrive
 * together (one event-loop turn reads every socket that is ready) therefore share one transaction:
 * the first opens it, each request's own transaction is a savepoint inside it, and it commits once
 * at the end of the first turn that brought it no request (closeAtQuietTurn). A request's
 * `transaction().execute()` — and any query that ran while the group was open, since it saw the
 * group's uncommitted rows — resolves only after that commit, so nothing is answered, acknowledged
 * or emitted before it is durable.
 *
 * A request whose transaction fails rolls back to its savepoint and leaves the others' work in
 * place. When SQLite itself ends the whole transaction (a full disk, an I/O error), or the commit
 * fails, every request of the group gets that error: none of them was answered yet.
 */
export class GroupCommitSqliteDriver implements Driver {
  private readonly mutex = new ConnectionMutex();
  private readonly connection: GroupConnection;
  /** The open group transaction, if any. */
  private group: Group | null = null;
  /** The group the connection's current holder ran statements in (it waits for its commit). */
  joined: Group | null = null;

  constructor(
    private readonly sqlite: SQLite.Database,
    private readonly prepare: (source: string) => RowStatement,
    /** Its shared read transaction is no transaction of ours: `transactionOpen` tells ours apart. */
    private readonly snapshot: ReadSnapshot,
  ) {
    this.connection = new GroupConnection(prepare, this);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.mutex.lock();
    this.joined = null;
    this.settleLostGroup();
    return this.connection;
  }

  async beginTransaction(): Promise<void> {
    if (this.group === null) {
      // IMMEDIATE: the write lock is taken now, waiting (busy_timeout) for another process's
      // writer if there is one. A deferred begin would take a snapshot at the group's first read
      // and fail its first write (SQLITE_BUSY_SNAPSHOT, not retried) if another process — the
      // CLI, a second server — committed in between.
      this.exec('begin immediate');
      const group = (this.group = new Group());
      // Commits once a turn brings it no request (at most MAX_GROUP_TURNS, MAX_GROUP_MEMBERS): one
      // commit writes the pages its requests share once (a commit of 32 replies wrote 5.3 WAL
      // frames a reply, one of 8 10.0).
      closeAtQuietTurn(
        () => group.members,
        () => group.members >= MAX_GROUP_MEMBERS,
        MAX_GROUP_TURNS,
        () => void this.commitGroup(group),
      );
    }
    this.joined = this.group;
    this.group.members++;
    this.exec('savepoint parley_request');
  }

  async commitTransaction(): Promise<void> {
    this.exec('release parley_request');
  }

  async rollbackTransaction(): Promise<void> {
    if (this.snapshot.transactionOpen) {
      this.exec('rollback to parley_request');
      this.exec('release parley_request');
    } else this.settleLostGroup();
  }

  async releaseConnection(): Promise<void> {
    const joined = this.joined;
    this.joined = null;
    this.mutex.unlock();
    if (joined) await joined.committed;
  }

  async destroy(): Promise<void> {
    if (this.group) await this.commitGroup(this.group);
    this.snapshot.end();
    this.sqlite.close();
  }

  /** Called by the connection before each statement: one run inside an open group waits for it. */
  noteStatement(): void {
    if (this.group !== null && this.joined === null) this.joined = this.group;
  }

  private async commitGroup(group: Group): Promise<void> {
    await this.mutex.lock();
    try {
      if (this.group !== group) return;
      this.group = null;
      // The group's requests are answered by the continuations settling it resumes: together,
      // once they have run, not at the next turn's end (lib/turn-writes.ts).
      flushAfterMicrotasks();
      try {
        this.exec('commit');
        group.settle(null);
      } catch (error) {
        if (this.snapshot.transactionOpen) this.exec('rollback');
        group.settle(error as Error);
      }
    } finally {
      this.mutex.unlock();
    }
  }

  /** SQLite ended the transaction on its own (it does on a full disk or an I/O error): its group is lost. */
  private settleLostGroup(): void {
    if (this.group !== null && !this.snapshot.transactionOpen) {
      const group = this.group;
      this.group = null;
      if (this.joined === group) this.joined = null;
      group.settle(new Error('SQLite rolled the transaction back; nothing in it was saved'));
    }
  }

  private exec(sql: string): void {
    this.prepare(sql).run([]);
  }
}

/** Bounds on how long a group stays open: its first request waits at most this many turns… */
const MAX_GROUP_TURNS = 4;
/** …and no group takes more requests than this. */
const MAX_GROUP_MEMBERS = 64;

class Group {
  /** Requests that joined (each a savepoint). */
  members = 0;
  readonly committed: Promise<void>;
  private resolve!: () => void;
  private reject!: (error: Error) => void;

  constructor() {
    this.committed = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // A group whose every member rolled back may fail with no one waiting for it.
    this.committed.catch(() => undefined);
  }

  settle(error: Error | null): void {
    if (error) this.reject(error);
    else this.resolve();
  }
}

class GroupConnection implements DatabaseConnection {
  constructor(
    private readonly prepare: (source: string) => RowStatement,
    private readonly driver: GroupCommitSqliteDriver,
  ) {}

  executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    this.driver.noteStatement();
    const statement = this.prepare(compiledQuery.sql);
    if (statement.reader) return Promise.resolve({ rows: statement.all(compiledQuery.parameters) as R[] });
    const { changes, lastInsertRowid } = statement.run(compiledQuery.parameters);
    return Promise.resolve({ numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] });
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    this.driver.noteStatement();
    const statement = this.prepare(compiledQuery.sql);
    if (!statement.reader) throw new Error('only a select can be streamed');
    for (const row of statement.iterate(compiledQuery.parameters)) yield { rows: [row as R] };
  }
}

/** One holder at a time, handed over in the order they asked. */
class ConnectionMutex {
  private held = false;
  private readonly waiting: (() => void)[] = [];

  lock(): Promise<void> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  unlock(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.held = false;
  }
}
