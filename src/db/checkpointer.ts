import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Checkpoints a SQLite store's WAL from a worker thread, on a connection of its own, so the
 * request thread's commits do not pay for them: copying committed pages back into the database
 * file, and the fsyncs that go with it. PASSIVE never waits for, nor blocks, the request
 * connection's readers and writers. The request connection keeps its own automatic checkpoint at
 * WAL_PAGES_BOUND, which bounds the WAL if the worker falls behind; that one runs inside a
 * commit and copies whatever the worker has not.
 *
 * While the WAL grows the worker checkpoints every BUSY_MS: at ~3 000 replies a second (15 pages
 * each) a 100 ms period let 4 000 pages pile up between two of its checkpoints, so the request
 * connection's own checkpoint ran every ~270 commits and took ~18 ms inside one (88 µs of the
 * 160 µs a reply's commit cost on average). A PASSIVE checkpoint also gives up while a reader
 * holds the read lock it needs, which under load is often; checkpointing often keeps the
 * request connection's share small. Idle, the period backs off to IDLE_MS.
 */
export const WAL_PAGES_BOUND = 10_000;
const BUSY_MS = 5;
const IDLE_MS = 200;

// Plain JavaScript run by the worker (an eval worker loads the same under tsx and from dist/).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require(workerData.driver);
const db = new SQLite(workerData.path);
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = NORMAL');
const checkpoint = db.prepare('pragma wal_checkpoint(PASSIVE)');
let lastFrames = -1;
let delay = workerData.busyMs;
let timer;
const tick = () => {
  // Busy or closing: the next tick, or the request connection's own checkpoint, does it.
  let frames = lastFrames;
  try { frames = checkpoint.get().log; } catch {}
  // The WAL moved (grew, or was restarted) since the last look: soon again; else back off.
  delay = frames !== lastFrames ? workerData.busyMs : Math.min(workerData.idleMs, delay * 2);
  lastFrames = frames;
  timer = setTimeout(tick, delay);
};
timer = setTimeout(tick, delay);
parentPort.on('message', () => { clearTimeout(timer); db.close(); parentPort.close(); });
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
