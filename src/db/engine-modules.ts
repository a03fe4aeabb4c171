import { createRequire } from 'node:module';
import type PgModule from 'pg';
import type SQLiteModule from 'better-sqlite3';

/**
 * The database drivers, loaded when a store of their engine is opened: a SQLite server does not
 * load node-postgres, nor a PostgreSQL one better-sqlite3 (loading a driver is tens of milliseconds
 * of the start).
 */
const require = createRequire(import.meta.url);

let pgModule: typeof PgModule | undefined;
export function loadPg(): typeof PgModule {
  if (!pgModule) {
    pgModule = require('pg') as typeof PgModule;
    // COUNT(*) and BIGINT come back from pg as strings; every id and timestamp here fits a JS number.
    pgModule.types.setTypeParser(20, (v) => Number.parseInt(v, 10));
    pgModule.types.setTypeParser(1700, (v) => Number.parseFloat(v));
  }
  return pgModule;
}

export function loadSqlite(): typeof SQLiteModule {
  return require('better-sqlite3') as typeof SQLiteModule;
}
