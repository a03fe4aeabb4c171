import type { Kysely } from 'kysely';
import { precompiled } from '../db/precompiled.js';
import { AUTH_EPOCH } from '../db/migrations/0010_auth_cache_epoch.js';
import type { Database } from '../db/types.js';

const epochQuery = precompiled((db) => db.selectFrom('cache_epochs').select('v').where('id', '=', AUTH_EPOCH));

/**
 * The auth epoch (migration 0010): moves with every change of accounts, users, memberships,
 * access tokens and agent bots, by whichever process. Read once per request.
 */
export async function readAuthEpoch(db: Kysely<Database>): Promise<number> {
  const [row] = await epochQuery(db);
  return row?.v ?? 0;
}

/**
 * Read-through caches for what every request looks up (token owner, account, membership). An
 * entry is served only to a request that read the same auth epoch it was loaded at, so the cache
 * never answers with data a query would not return — on either engine, with any number of
 * processes — while writes to other tables (messages, conversations, contacts) leave it warm.
 * Values are shared between requests: never mutate them.
 */
export class EpochCache<V> {
  /** One map per database: epochs of two databases say nothing about each other. */
  private readonly byDb = new WeakMap<Kysely<Database>, Map<string, { epoch: number; value: V }>>();

  constructor(private readonly maxEntries = 10_000) {}

  /** `epoch` as read by this request before anything it caches; undefined: no caching. */
  async get(db: Kysely<Database>, epoch: number | undefined, key: string, load: () => Promise<V>): Promise<V> {
    if (epoch === undefined) return load();
    let entries = this.byDb.get(db);
    if (!entries) {
      entries = new Map();
      this.byDb.set(db, entries);
    }
    const hit = entries.get(key);
    if (hit && hit.epoch === epoch) return hit.value;
    // Loaded after the epoch was read, so at least that new: safe to serve at that epoch.
    const value = await load();
    if (entries.size >= this.maxEntries) entries.clear();
    entries.set(key, { epoch, value });
    return value;
  }
}
