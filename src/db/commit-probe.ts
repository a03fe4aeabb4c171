import { closeSync, openSync, readSync } from 'node:fs';

/**
 * Tells, for the price of one 96-byte read, whether anything was committed to a SQLite database
 * (by any connection, in any process) since the last look: its WAL-index header
 * (https://www.sqlite.org/walformat.html, the start of the -shm file) changes with every commit —
 * the frame count, the change counter, the salts after a WAL reset — and is rewritten before
 * the commit returns. SQLite keeps two copies and writes them one after the other; a read that
 * finds them different (a commit under way) answers null, as does anything unexpected (no -shm
 * file, another wal-index version): callers then read the database as if something changed.
 */
export class CommitProbe {
  private fd: number | null | undefined;
  private readonly buffer = Buffer.alloc(96);
  private readonly last = Buffer.alloc(48);
  private generation = 0;

  constructor(private readonly databasePath: string) {}

  /**
   * A number that stays the same while nothing is committed and changes when something is;
   * null when the header cannot be trusted right now (then assume a change).
   */
  look(): number | null {
    if (this.fd === undefined) {
      try {
        this.fd = openSync(`${this.databasePath}-shm`, 'r');
      } catch {
        this.fd = null;
      }
    }
    if (this.fd === null) return null;
    const b = this.buffer;
    try {
      if (readSync(this.fd, b, 0, 96, 0) !== 96) return null;
    } catch {
      return null;
    }
    // iVersion 3007000 and isInit set, and both copies alike.
    if (b.readUInt32LE(0) !== 3007000 || b[12] !== 1 || b.compare(b, 0, 48, 48, 96) !== 0) return null;
    if (b.compare(this.last, 0, 48, 0, 48) !== 0) {
      b.copy(this.last, 0, 0, 48);
      this.generation++;
    }
    return this.generation;
  }

  close(): void {
    if (typeof this.fd === 'number') closeSync(this.fd);
    this.fd = null;
  }
}
