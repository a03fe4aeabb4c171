import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { Engine } from '../config.js';
import type { MigrationUp } from './migrations/helpers.js';

const MIGRATIONS_DIR = join(import.meta.dirname, 'migrations');

/** Every numbered file in db/migrations (NNNN_name.ts), in order; each receives the engine. */
class FolderMigrations implements MigrationProvider {
  constructor(private readonly engine: Engine) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    const files = readdirSync(MIGRATIONS_DIR)
      .filter((f) => /^\d{4}_.+\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
      .sort();
    const out: Record<string, Migration> = {};
    for (const file of files) {
      const mod = (await import(pathToFileURL(join(MIGRATIONS_DIR, file)).href)) as { up: MigrationUp };
      const engine = this.engine;
      out[file.replace(/\.(ts|js)$/, '')] = { up: (db: Kysely<unknown>) => mod.up(db, engine) };
    }
    return out;
  }
}

/**
 * `schema` pins the bookkeeping tables to one PostgreSQL schema: Kysely otherwise finds a lock
 * table in any schema of the database and skips creating this schema's own.
 */
export async function migrateToLatest(db: Kysely<unknown>, engine: Engine, schema?: string): Promise<string[]> {
  const migrator = new Migrator({
    db,
    ...(engine === 'postgres' && schema ? { migrationTableSchema: schema } : {}),
    provider: new FolderMigrations(engine),
    // Each module owns a range of numbers, so a new file may sort before one already applied.
    allowUnorderedMigrations: true,
    migrationTableName: 'parley_migrations',
    migrationLockTableName: 'parley_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
