import type { Kysely } from 'kysely';
import type { Database } from './types.js';
import { perDatabase } from './per-database.js';
import { pipelinedAdapters } from './pg-pipeline.js';

/** Reads callers may still join (not sent yet), per database and key. */
const scheduledOf = perDatabase(() => new Map<string, Promise<unknown>>());

/**
 * One read serves every caller that asks for the same `key` in the current event-loop turn
 * (PostgreSQL, where each read is a round trip). The read is issued at once and joins the turn's
 * pipelined batch (db/pg-pipeline.ts), which is written out only when the turn's I/O callbacks are
 * done (setImmediate): so it sees every change committed before any of its callers asked, exactly
 * what a read of their own would see. Callers join it until then, and never after it was sent:
 * that read may predate a commit the caller has seen. `read` must depend on nothing but `key`
 * (and the database).
 */
export function coalescedRead<T>(db: Kysely<Database>, key: string, read: () => Promise<T>): Promise<T> {
  const waiting = scheduledOf(db);
  let shared = waiting.get(key) as Promise<T> | undefined;
  if (!shared) {
    // Without pipelining a read leaves at once: it starts when the turn's callbacks are done instead.
    if (!pipelinedAdapters.has(db.getExecutor().adapter)) return deferredRead(waiting, key, read);
    const started = read();
    shared = started;
    waiting.set(key, started);
    // Registered before the batch's own flush (the read reaches the batch a few microtasks later).
    setImmediate(() => {
      if (waiting.get(key) === started) waiting.delete(key);
    });
  }
  return shared;
}

function deferredRead<T>(waiting: Map<string, Promise<unknown>>, key: string, read: () => Promise<T>): Promise<T> {
  const shared = new Promise<T>((resolve, reject) => {
    setImmediate(() => {
      waiting.delete(key);
      read().then(resolve, reject);
    });
  });
  waiting.set(key, shared);
  return shared;
}
