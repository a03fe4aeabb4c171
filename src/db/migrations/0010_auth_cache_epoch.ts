import { sql, type Kysely } from 'kysely';
import type { Engine } from '../../config.js';

/**
 * What lets every process cache who a token belongs to, accounts and memberships exactly
 * (auth/cache.ts): `cache_epochs` row 1 moves on every insert, update and delete of accounts,
 * users, account_users, access_tokens and agent_bots, by triggers, whoever writes. A request reads
 * it once (one indexed row) instead of three or four lookups; an entry read at another epoch is
 * not served. Other rows of the table are free for other caches.
 */
export const AUTH_EPOCH = 1;

const TABLES = ['accounts', 'users', 'account_users', 'access_tokens', 'agent_bots'];

export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  await db.schema
    .createTable('cache_epochs')
    .addColumn('id', 'integer', (col) => col.primaryKey())
    .addColumn('v', 'integer', (col) => col.notNull())
    .execute();
  await sql`insert into cache_epochs (id, v) values (${AUTH_EPOCH}, 0)`.execute(db);
  const bump = `update cache_epochs set v = v + 1 where id = ${AUTH_EPOCH};`;

  if (engine === 'postgres') {
    await sql.raw(`create function auth_epoch_bump() returns trigger language plpgsql set search_path from current as $$ begin ${bump} return null; end $$`).execute(db);
    for (const table of TABLES) {
      await sql.raw(`create trigger ${table}_auth_epoch after insert or update or delete on ${table} for each statement execute function auth_epoch_bump()`).execute(db);
    }
    return;
  }
  for (const table of TABLES) {
    for (const event of ['insert', 'update', 'delete']) {
      await sql.raw(`create trigger ${table}_auth_epoch_${event} after ${event} on ${table} for each row begin ${bump} end`).execute(db);
    }
  }
}
