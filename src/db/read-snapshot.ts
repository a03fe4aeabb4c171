import type SQLite from 'better-sqlite3';

/**
 * SQLite: the reads of one piece of work share one read transaction.
 *
 * Outside a transaction every statement is its own read transaction, and starting one costs more
 * than most of our lookups: a read lock taken and released on the WAL-index (two fcntl calls), a
 * stat of the database file, SQLite's check of the WAL header — about 6 µs on this machine against
 * 1.3 µs for an indexed lookup inside a transaction. Reads therefore open one deferred transaction
 * at the first and share it until the event loop's check phase: every request read from the sockets
 * in one poll phase (under load, about six at a time in the messages scenario) and whatever work it
 * queued share one begin and one release, where each request used to have its own pair.
 *
 * What a read sees stays what it saw before: everything committed before its request began. The
 * requests of a poll phase had all arrived when the phase began, before the snapshot was taken at
 * its first read. Anything else that runs on the connection ends the snapshot first — a write
 * outside a transaction commits at once, and a transaction (group commit's `begin`) starts as
 * before — and so does a look at the commit probe that finds a commit (db/epochs.ts; every
 * authenticated request looks), so a value cached at that look is never read from an older snapshot.
 * Ending it at every check phase keeps a checkpoint from waiting on it for longer than one turn.
 */
export class ReadSnapshot {
  private open = false;
  private readonly begin: SQLite.Statement;
  private readonly commit: SQLite.Statement;
  private readonly endBound = (): void => this.end();

  constructor(private readonly sqlite: SQLite.Database) {
    this.begin = sqlite.prepare('begin');
    this.commit = sqlite.prepare('commit');
  }

  /** Before a read-only SELECT: outside any transaction, joins the shared one (opening it). */
  beforeRead(): void {
    if (this.open || this.sqlite.inTransaction) return;
    this.begin.run();
    this.open = true;
    setImmediate(this.endBound);
  }

  /** Before any other statement: the shared read transaction, if open, ends first. */
  end(): void {
    if (!this.open) return;
    this.open = false;
    // A read-only transaction: commit and rollback alike just release it.
    if (this.sqlite.open && this.sqlite.inTransaction) this.commit.run();
  }

  /** A transaction other than the shared read one is open on the connection. */
  get transactionOpen(): boolean {
    return this.sqlite.inTransaction && !this.open;
  }
}
