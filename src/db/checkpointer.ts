import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Checkpoints a SQLite store's WAL from a worker thread, on a connection of its own, so the
 * request thread's commits do not pay for them: copying committed pages back into the database
 * file, and the fsyncs that go with it, were about half of an agent reply's commit time. PASSIVE
 * never waits for, nor blocks, the request connection's readers and writers. The request
 * connection keeps its own automatic checkpoint at WAL_PAGES_BOUND, which bounds the WAL if the
 * worker falls behind (and then finds most pages already copied).
 */
export const WAL_PAGES_BOUND = 4000;
const INTERVAL_MS = 100;

// Plain JavaScript run by the worker (an eval worker loads the same under tsx and from dist/).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require(workerData.driver);
const db = new SQLite(workerData.path);
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = NORMAL');
const checkpoint = db.prepare('pragma wal_checkpoint(PASSIVE)');
const timer = setInterval(() => {
  // Busy or closing: the next tick, or the request connection's own checkpoint, does it.
  try { checkpoint.get(); } catch {}
}, workerData.intervalMs);
parentPort.on('message', () => { clearInterval(timer); db.close(); parentPort.close(); });
`;

export interface Checkpointer {
  /** Closes the worker's connection (before the store's own, so the last close removes the WAL). */
  stop(): Promise<void>;
}

export function startCheckpointer(path: string, onError: (error: Error) => void): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, driver, intervalMs: INTERVAL_MS } });
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
