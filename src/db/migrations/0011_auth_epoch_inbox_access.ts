import { sql, type Kysely } from 'kysely';
import type { Engine } from '../../config.js';
import { AUTH_EPOCH } from './0010_auth_cache_epoch.js';

/**
 * Which inboxes an agent may act in (auth/guard.ts accessibleInboxIds) is read by nearly every
 * conversation and message request; it joins inbox_members to inboxes. The auth epoch now also
 * moves on every insert, update and delete of both tables, so that answer is cached with the rest
 * of what authorizes a request.
 */
const TABLES = ['inbox_members', 'inboxes'];

export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  if (engine === 'postgres') {
    // auth_epoch_bump() is 0010's.
    for (const table of TABLES) {
      await sql.raw(`create trigger ${table}_auth_epoch after insert or update or delete on ${table} for each statement execute function auth_epoch_bump()`).execute(db);
    }
    return;
  }
  const bump = `update cache_epochs set v = v + 1 where id = ${AUTH_EPOCH};`;
  for (const table of TABLES) {
    for (const event of ['insert', 'update', 'delete']) {
      await sql.raw(`create trigger ${table}_auth_epoch_${event} after ${event} on ${table} for each row begin ${bump} end`).execute(db);
    }
  }
}
