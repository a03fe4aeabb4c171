import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Checkpoints a SQLite store's WAL from a worker thread, on a connection of its own, so the
 * request thread's commits do not pay for copying committed pages back into the database file
 * and flushing them. PASSIVE never waits for, nor blocks, the request connection's readers and
 * writers.
 *
 * Under steady writes the worker never copies the very last frames (new ones arrive while it
 * copies), so it never finishes the WAL and the WAL never starts over. The request connection's
 * own checkpoint at WAL_PAGES_BOUND does: it runs inside a commit with no writer beside it,
 * copies what is left, syncs, and the next commit writes the WAL from its start again
 * (overwriting the file's pages costs less than growing it: a reply's commit ~60 µs against
 * ~100 µs). For that checkpoint to be short the worker must have done the rest:
 * - it checkpoints every BUSY_MS while the WAL moves (IDLE_MS when it does not): a 100 ms period
 *   let 4 000 pages pile up between two of its checkpoints at ~3 000 replies a second;
 * - it flushes the database file after each checkpoint that copied something: SQLite itself
 *   syncs it only when a checkpoint copies every frame, so the request connection's checkpoint
 *   used to flush everything the worker had copied since the last restart (~12 ms in a commit).
 */
export const WAL_PAGES_BOUND = 10_000;
const BUSY_MS = 5;
const IDLE_MS = 200;

// Plain JavaScript run by the worker (an eval worker loads the same under tsx and from dist/).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require(workerData.driver);
const fs = require('node:fs');
const db = new SQLite(workerData.path);
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = NORMAL');
const checkpoint = db.prepare('pragma wal_checkpoint(PASSIVE)');
// The database file's pages this worker has copied, flushed to disk by the worker too.
const dbFile = fs.openSync(workerData.path, 'r');
let lastFrames = -1;
let copied = 0;
let delay = workerData.busyMs;
let timer;
const tick = () => {
  // Busy or closing: the next tick, or the request connection's own checkpoint, does it.
  let frames = lastFrames;
  try {
    const done = checkpoint.get();
    frames = done.log;
    // Flushed as they are copied (see above).
    if (done.checkpointed > 0 && done.checkpointed !== copied) fs.fdatasyncSync(dbFile);
    copied = done.checkpointed;
  } catch {}
  // The WAL moved (grew, or was restarted) since the last look: soon again; else back off.
  delay = frames !== lastFrames ? workerData.busyMs : Math.min(workerData.idleMs, delay * 2);
  lastFrames = frames;
  timer = setTimeout(tick, delay);
};
timer = setTimeout(tick, delay);
parentPort.on('message', () => { clearTimeout(timer); db.close(); fs.closeSync(dbFile); parentPort.close(); });
`;

export interface Checkpointer {
  /** Closes the worker's connection (before the store's own, so the last close removes the WAL). */
  stop(): Promise<void>;
}

export function startCheckpointer(path: string, onError: (error: Error) => void): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, driver, busyMs: BUSY_MS, idleMs: IDLE_MS } });
  // Never what keeps the process alive, nor what brings it down.
  worker.unref();
  worker.on('error', onError);
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async stop() {
      worker.postMessage('close');
      const timer = setTimeout(() => void worker.terminate(), 2000);
      await exited;
      clearTimeout(timer);
    },
  };
}
