import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import type { Config, Engine } from '../config.js';
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

export function openStore(config: Pick<Config, 'engine' | 'databaseUrl' | 'pgSchema'>): Store {
  if (config.engine === 'postgres') {
    const pool = new pg.Pool({
      connectionString: config.databaseUrl,
      max: Number(process.env.PG_POOL_SIZE ?? 10),
      ...(config.pgSchema ? { options: `-c search_path=${config.pgSchema}` } : {}),
    });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    pool.on('error', () => undefined);
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
  sqlite.pragma('cache_size = -65536');
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
