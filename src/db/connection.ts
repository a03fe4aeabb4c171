import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { DEFAULT_SQLITE_CACHE_MB, type Config, type Engine } from '../config.js';
import type { Database } from './types.js';
import { startCheckpointer, WAL_PAGES_BOUND } from './checkpointer.js';
import { CommitProbe } from './commit-probe.js';

// COUNT(*) and BIGINT come back from pg as strings; every id and timestamp here fits a JS number.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));
pg.types.setTypeParser(1700, (v) => Number.parseFloat(v));

/** The better-sqlite3 handle behind a root Kysely instance (SQLite only), for synchronous hot reads. */
export const rawSqlite = new WeakMap<Kysely<Database>, SQLite.Database>();

/** Whether anything was committed since a last look (SQLite only; db/epochs.ts). */
export const commitProbes = new WeakMap<Kysely<Database>, CommitProbe>();

export interface Store {
  db: Kysely<Database>;
  engine: Engine;
  close(): Promise<void>;
}

export function openStore(config: Pick<Config, 'engine' | 'databaseUrl' | 'pgSchema' | 'sqliteCacheMb'>): Store {
  if (config.engine === 'postgres') {
    const pool = new pg.Pool({
      connectionString: config.databaseUrl,
      max: Number(process.env.PG_POOL_SIZE ?? 10),
      ...(config.pgSchema ? { options: `-c search_path=${config.pgSchema}` } : {}),
    });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    pool.on('error', () => undefined);
    pool.on('connect', nameRecurringStatements);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, engine: 'postgres', close: () => db.destroy() };
  }
  mkdirSync(dirname(config.databaseUrl), { recursive: true });
  const sqlite = new SQLite(config.databaseUrl);
  // WAL lets the CLI and the server share the file; busy_timeout turns lock contention into a short wait.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma(`cache_size = -${(config.sqliteCacheMb ?? DEFAULT_SQLITE_CACHE_MB) * 1024}`);
  sqlite.pragma('temp_store = MEMORY');
  // Checkpoints run in a worker thread (checkpointer.ts); this connection's own, at a higher mark
  // than SQLite's 1 000 pages, only bounds the WAL when the worker falls behind.
  sqlite.pragma(`wal_autocheckpoint = ${WAL_PAGES_BOUND}`);
  const checkpointer = startCheckpointer(config.databaseUrl, (error) => {
    process.emitWarning(`SQLite checkpoint worker stopped: ${error.message}`);
  });
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  rawSqlite.set(db, sqlite);
  const probe = new CommitProbe(config.databaseUrl);
  commitProbes.set(db, probe);
  return {
    db,
    engine: 'sqlite',
    close: async () => {
      await checkpointer.stop();
      await db.destroy();
      probe.close();
    },
  };
}

/**
 * Kysely's SQLite driver prepares every query afresh; preparing costs more than running most of
 * ours. Queries are built from fixed shapes, so the same SQL text recurs: keep its statement.
 * Statements are only ever run synchronously (all/run), so sharing one is safe.
 */
function withStatementCache(sqlite: SQLite.Database, limit = 2000): SQLite.Database {
  const cache = new Map<string, SQLite.Statement>();
  const prepare = sqlite.prepare.bind(sqlite);
  return new Proxy(sqlite, {
    get(target, prop) {
      if (prop !== 'prepare') {
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      }
      return (source: string) => {
        let stmt = cache.get(source);
        if (!stmt) {
          stmt = prepare(source);
          if (cache.size >= limit) cache.delete(cache.keys().next().value!);
          cache.set(source, stmt);
        }
        return stmt;
      };
    },
  });
}

const NAMED_PER_CONNECTION = 500;

/**
 * PostgreSQL parses and plans every unnamed statement afresh. Statements whose text recurs (the
 * same shape with new parameters: nearly all of ours) are sent as named prepared statements, so
 * each connection parses them once and can reuse their plans (as Rails does by default). After
 * another process changes a table's columns, PostgreSQL refuses a prepared `select *` whose
 * result shape changed: that statement is then prepared again under a new name, and retried at
 * once when no transaction is open (inside one, the error ends the transaction as any would).
 */
function nameRecurringStatements(client: pg.PoolClient): void {
  const names = new Map<string, string>();
  const sightings = new Map<string, number>();
  let prepared = 0;
  let inTransaction = false;
  const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
  const named = async (name: string, text: string, values: unknown[]): Promise<unknown> => {
    try {
      return await query({ name, text, values });
    } catch (error) {
      if ((error as { code?: string }).code !== '0A000' || !/cached plan/.test(String((error as Error).message))) throw error;
      names.delete(text);
      if (inTransaction) throw error;
      return query(text, values);
    }
  };
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (text: unknown, values?: unknown, ...rest: unknown[]) => {
    if (typeof text === 'string' && Array.isArray(values) && rest.length === 0) {
      if (values.length === 0) {
        if (/^\s*(begin|start transaction)\b/i.test(text)) inTransaction = true;
        else if (/^\s*(commit|end|rollback(?!\s+to\b))\b/i.test(text)) inTransaction = false;
      } else {
        let name = names.get(text);
        if (!name && prepared < NAMED_PER_CONNECTION) {
          const seen = (sightings.get(text) ?? 0) + 1;
          if (seen >= 2) {
            name = `parley_${++prepared}`;
            names.set(text, name);
            sightings.delete(text);
          } else if (sightings.size < 5000) sightings.set(text, seen);
        }
        if (name) return named(name, text, values);
      }
    }
    return query(text, values, ...rest);
  };
}
