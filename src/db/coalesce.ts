import type { Kysely } from 'kysely';
import type { Database } from './types.js';
import { perDatabase } from './per-database.js';

/** Reads asked for but not started yet, per database and key. */
const scheduledOf = perDatabase(() => new Map<string, Promise<unknown>>());

/**
 * One read serves every caller that asks for the same `key` before it starts (PostgreSQL, where
 * each read is a round trip). It starts after the current turn's I/O callbacks (setImmediate),
 * so it sees every change committed before any of those callers asked — exactly what a read of
 * their own would see. A caller never joins a read already under way: that one may predate a
 * commit the caller has seen. `read` must depend on nothing but `key` (and the database).
 */
export function coalescedRead<T>(db: Kysely<Database>, key: string, read: () => Promise<T>): Promise<T> {
  const waiting = scheduledOf(db);
  let shared = waiting.get(key) as Promise<T> | undefined;
  if (!shared) {
    shared = new Promise<T>((resolve, reject) => {
      setImmediate(() => {
        waiting.delete(key);
        read().then(resolve, reject);
      });
    });
    waiting.set(key, shared);
  }
  return shared;
}
