import type SQLite from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import { rawSqlite } from './connection.js';
import type { Database } from './types.js';

/** Tables of trigger-kept epochs: `cache_epochs` (0010: auth, 0602: counts) and `render_epochs` (0610). */
export type EpochTable = 'cache_epochs' | 'render_epochs';

const statements = new WeakMap<SQLite.Database, Map<string, SQLite.Statement>>();

/**
 * An epoch's current value. On SQLite a synchronous read of one row (a few µs), unless a
 * transaction is open on the connection — its uncommitted bump must not be seen, so the read
 * then queues behind it like any query; on PostgreSQL one indexed read.
 */
export function readEpoch(db: Kysely<Database>, table: EpochTable, id: number): number | Promise<number> {
  const sqlite = rawSqlite.get(db);
  if (sqlite && !sqlite.inTransaction) {
    let byKey = statements.get(sqlite);
    if (!byKey) {
      byKey = new Map();
      statements.set(sqlite, byKey);
    }
    const key = `${table}:${id}`;
    let stmt = byKey.get(key);
    if (!stmt) {
      stmt = sqlite.prepare(`select v from ${table} where id = ${id}`).pluck();
      byKey.set(key, stmt);
    }
    return (stmt.get() as number | undefined) ?? 0;
  }
  return sql<{ v: number }>`select v from ${sql.table(table)} where id = ${id}`.execute(db).then((r) => r.rows[0]?.v ?? 0);
}

/**
 * A read-through cache whose entries hold at one epoch (auth: token owner, account, membership;
 * conversation counts). An entry is served only to a request that read the same epoch it was
 * loaded at, so the cache never answers with data a query would not return — on either engine,
 * with any number of processes — while writes to tables the epoch does not cover leave it warm.
 * Values are shared between requests: never mutate them.
 */
export class EpochCache<V> {
  /** One map per database: epochs of two databases say nothing about each other. */
  private readonly byDb = new WeakMap<Kysely<Database>, Map<string, { epoch: number; value: V }>>();

  constructor(private readonly maxEntries = 10_000) {}

  /**
   * `epoch` as read by this request before anything it caches; undefined: no caching.
   * `keep` decides whether a loaded value is stored (e.g. not "missing" when inserts do not move the epoch).
   */
  async get(db: Kysely<Database>, epoch: number | undefined, key: string, load: () => Promise<V>, keep?: (value: V) => boolean): Promise<V> {
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
    if (keep && !keep(value)) return value;
    if (entries.size >= this.maxEntries) entries.clear();
    entries.set(key, { epoch, value });
    return value;
  }
}
