import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sql, type Kysely } from 'kysely';
import type { Engine } from '../config.js';
import type { MigrationUp } from './migrations/helpers.js';
import { dropStat4Samples } from './sqlite-stats.js';

const MIGRATIONS_DIR = join(import.meta.dirname, 'migrations');
/** Any constant: the PostgreSQL advisory lock that serialises migrating processes. */
const MIGRATION_LOCK_KEY = 7_206_291;

/** Every numbered file in db/migrations (NNNN_name.ts / .js), in name order: its name, and the file to import when it is due. */
function migrationFiles(): { name: string; file: string }[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{4}_.+\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
    .sort()
    .map((file) => ({ name: file.replace(/\.(ts|js)$/, ''), file }));
}

/** A migration's `up`, imported only when it is to be applied (a start on a current database imports none). */
async function loadUp(file: string): Promise<MigrationUp> {
  return ((await import(pathToFileURL(join(MIGRATIONS_DIR, file)).href)) as { up: MigrationUp }).up;
}

/**
 * Applies the migrations not yet recorded in `parley_migrations`, all in one transaction.
 * Several processes may start at once (server, CLI, more servers on PostgreSQL): on PostgreSQL
 * an advisory lock makes them take turns; on SQLite the write transaction does (busy_timeout).
 * Only the current schema is looked at — never a catalogue-wide introspection, which breaks
 * when another schema of the same database is dropped meanwhile. Each module owns a range of
 * numbers, so a new file may sort before one already applied: it is applied all the same.
 */
export async function migrateToLatest(db: Kysely<unknown>, engine: Engine): Promise<string[]> {
  const files = migrationFiles();
  const applied = await db.transaction().execute(async (trx) => {
    if (engine === 'postgres') await sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`.execute(trx);
    await sql`CREATE TABLE IF NOT EXISTS parley_migrations (name varchar(255) PRIMARY KEY, timestamp varchar(255) NOT NULL)`.execute(trx);
    if (engine === 'sqlite') await sql`UPDATE parley_migrations SET name = name WHERE 0`.execute(trx); // take the write lock now
    const done = new Set((await sql<{ name: string }>`SELECT name FROM parley_migrations`.execute(trx)).rows.map((r) => r.name));
    const applied: string[] = [];
    for (const file of files) {
      if (done.has(file.name)) continue;
      await (await loadUp(file.file))(trx, engine);
      await sql`INSERT INTO parley_migrations (name, timestamp) VALUES (${file.name}, ${new Date().toISOString()})`.execute(trx);
      applied.push(file.name);
    }
    return applied;
  });
  // After the migrations, some of which ANALYZE: the samples they leave would slow every query.
  if (engine === 'sqlite') await dropStat4Samples(db);
  return applied;
}
