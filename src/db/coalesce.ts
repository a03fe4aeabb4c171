import type { Kysely } from 'kysely';
import type { Database } from './types.js';
import { perDatabase } from './per-database.js';
import { pipelinedAdapters, sentBatches } from './pg-pipeline.js';

/** Reads callers may still join, per database and key, with the count of batches sent when each started. */
const scheduledOf = perDatabase((): Scheduled => new Map());

/**
 * One read serves every caller that asks for the same `key` while it is unsent (PostgreSQL, where
 * each read is a round trip). The read is issued at once and joins the open pipelined batch
 * (db/pg-pipeline.ts), which is written out when it closes, a turn or a few after it opened: so it
 * sees every change committed before any of its callers asked, exactly what a read of their own
 * would see. Callers join it until a batch is sent, and never after: that batch may have been its
 * own, and a read that was sent may predate a commit the caller has seen. (Any batch sent ends the
 * sharing, its own or not: the read cannot tell which batch it is in.) `read` must depend on
 * nothing but `key` (and the database).
 */
export function coalescedRead<T>(db: Kysely<Database>, key: string, read: () => Promise<T>): Promise<T> {
  const waiting = scheduledOf(db);
  const pipelined = pipelinedAdapters.has(db.getExecutor().adapter);
  const known = waiting.get(key);
  if (known && (!pipelined || known.sentBefore === sentBatches())) return known.read as Promise<T>;
  // Without pipelining a read leaves at once: it starts when the turn's callbacks are done instead.
  if (!pipelined) return deferredRead(waiting, key, read);
  const started = read();
  const entry = { read: started, sentBefore: sentBatches() };
  waiting.set(key, entry);
  // Once answered it was sent: forgotten (keys may be many, as the counts' are).
  const forget = () => {
    if (waiting.get(key) === entry) waiting.delete(key);
  };
  started.then(forget, forget);
  return started;
}

type Scheduled = Map<string, { read: Promise<unknown>; sentBefore: number }>;

function deferredRead<T>(waiting: Scheduled, key: string, read: () => Promise<T>): Promise<T> {
  const shared = new Promise<T>((resolve, reject) => {
    setImmediate(() => {
      waiting.delete(key);
      read().then(resolve, reject);
    });
  });
  waiting.set(key, { read: shared, sentBefore: 0 });
  return shared;
}
