import { sql, type CreateTableBuilder, type Kysely } from 'kysely';
import type { Engine } from '../../config.js';

/** What a migration file exports: one `up` that receives the engine so it can pick column types. */
export type MigrationUp = (db: Kysely<unknown>, engine: Engine) => Promise<void>;

/**
 * Column vocabulary shared by both engines, so one migration file serves SQLite and PostgreSQL:
 * ids are integer identities, times are epoch-ms BIGINTs, booleans are 0/1 integers,
 * JSON is JSONB on PostgreSQL and TEXT on SQLite.
 */
export function columns(engine: Engine) {
  const pg = engine === 'postgres';
  return {
    id<T extends string>(t: CreateTableBuilder<T, never>): CreateTableBuilder<T, 'id'> {
      return t.addColumn('id', 'integer', (c) => (pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement()));
    },
    jsonType: pg ? sql`jsonb` : sql`text`,
    jsonObjectDefault: pg ? sql`'{}'::jsonb` : sql`'{}'`,
    jsonArrayDefault: pg ? sql`'[]'::jsonb` : sql`'[]'`,
  };
}

/** created_at / updated_at, epoch milliseconds. */
export function timestamps<T extends string, C extends string>(t: CreateTableBuilder<T, C>) {
  return t.addColumn('created_at', 'bigint', (c) => c.notNull()).addColumn('updated_at', 'bigint', (c) => c.notNull());
}
