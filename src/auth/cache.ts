import type { Kysely } from 'kysely';
import { sqliteVersion } from '../db/connection.js';
import type { Database } from '../db/types.js';

/**
 * Read-through caches for what every request looks up (token owner, account, membership).
 * An entry is served only while the database version it was read at is still current, so a
 * write — by this process or another on the same SQLite file — invalidates every entry at once:
 * the cache never answers with data a query would not return. On PostgreSQL, where other
 * processes write unseen, nothing is cached.
 */
export class VersionedCache<V> {
  /** One map per database: versions of two databases say nothing about each other. */
  private readonly byDb = new WeakMap<Kysely<Database>, Map<string, { version: string; value: V }>>();

  constructor(private readonly maxEntries = 10_000) {}

  async get(db: Kysely<Database>, key: string, load: () => Promise<V>): Promise<V> {
    const version = sqliteVersion(db);
    if (version === null) return load();
    let entries = this.byDb.get(db);
    if (!entries) {
      entries = new Map();
      this.byDb.set(db, entries);
    }
    const hit = entries.get(key);
    if (hit && hit.version === version) return hit.value;
    const value = await load();
    // Only keep it if nothing was written while it loaded.
    if (sqliteVersion(db) === version) {
      if (entries.size >= this.maxEntries) entries.clear();
      entries.set(key, { version, value });
    }
    return value;
  }
}
