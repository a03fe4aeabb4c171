import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openStore } from '../../src/db/connection.js';

/**
 * The WAL-index (the -shm file, https://www.sqlite.org/walformat.html): mxFrame, the last valid
 * frame, at byte 16 of the header; nBackfill, the frames already copied into the database file,
 * at byte 96 (the checkpoint info right after the two header copies).
 */
function walIndex(path: string): { mxFrame: number; nBackfill: number } {
  const shm = readFileSync(`${path}-shm`);
  return { mxFrame: shm.readUInt32LE(16), nBackfill: shm.readUInt32LE(96) };
}

test('SQLite: committed pages reach the database file without the request connection checkpointing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-checkpoint-'));
  const path = join(dir, 'db.sqlite3');
  const store = openStore({ engine: 'sqlite', databaseUrl: path, pgSchema: '' });
  try {
    await sql`create table notes (id integer primary key, body text)`.execute(store.db);
    for (let i = 0; i < 100; i++) await sql`insert into notes (body) values (${'x'.repeat(2000)})`.execute(store.db);
    // Far below the request connection's automatic checkpoint: only the worker copies these.
    const written = walIndex(path).mxFrame;
    assert.ok(written >= 100, `frames in the WAL: ${written}`);
    const deadline = Date.now() + 5000;
    while (walIndex(path).nBackfill < written && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(walIndex(path).nBackfill >= written, `checkpointed ${walIndex(path).nBackfill} of ${written} frames`);
  } finally {
    await store.close();
  }
  // The worker closed first, so the request connection was the last one and removed the WAL.
  assert.equal(existsSync(`${path}-wal`), false);
  rmSync(dir, { recursive: true, force: true });
});
