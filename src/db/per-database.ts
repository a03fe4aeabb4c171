import type { Kysely } from 'kysely';
import type { Database } from './types.js';

/**
 * State kept per database (caches, pending reads): created on first use, dropped with the
 * database object. What one database holds says nothing about another (tests run many).
 */
export function perDatabase<T>(create: (db: Kysely<Database>) => T): (db: Kysely<Database>) => T {
  const byDb = new WeakMap<Kysely<Database>, T>();
  return (db) => {
    let state = byDb.get(db);
    if (state === undefined) {
      state = create(db);
      byDb.set(db, state);
    }
    return state;
  };
}
