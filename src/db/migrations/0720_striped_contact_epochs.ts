import { sql, type Kysely } from 'kysely';
import type { Engine } from '../../config.js';
import { CONTACT_SEARCH_EPOCH } from './0651_contacts_search_epoch.js';
import { CONTACTS_EPOCH } from './0653_contacts_epoch.js';

/** The epochs kept in stripes on PostgreSQL (db/epochs.ts reads their sum). */
export const STRIPED_EPOCHS: readonly number[] = [CONTACT_SEARCH_EPOCH, CONTACTS_EPOCH];
export const EPOCH_STRIPES = 32;

/**
 * PostgreSQL: the contact epochs (0652, 0710) move in one of EPOCH_STRIPES rows each, chosen by
 * the writing transaction's id, and readers take the sum (db/epochs.ts). Each contact write used
 * to update the one row of each epoch and hold its lock until commit, so every contact write of
 * every process waited for the one before it to commit (flush included): 10 clients updating
 * different contacts spent ~8 ms each waiting for that row. Transactions open at the same time
 * have different ids, so they mostly take different stripes; the sum still moves with every
 * bump, and only ever upwards.
 * The stripes start where the single row was, so a count cached before the change is not
 * mistaken for a current one. A process started before this migration still reads the single
 * row, which no longer moves: restart every process after it (as after any migration that
 * changes triggers).
 * SQLite: one writer at a time; its single rows stay (0651, 0653).
 */
export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  if (engine !== 'postgres') return;
  await sql`create table cache_epoch_stripes (epoch integer not null, stripe integer not null, v integer not null, primary key (epoch, stripe))`.execute(db);
  for (const epoch of STRIPED_EPOCHS) {
    // The old value plus one in stripe 0: the sum starts past anything cached under the single row.
    await sql`insert into cache_epoch_stripes (epoch, stripe, v) select ${epoch}, s, case when s = 0 then coalesce((select v from cache_epochs where id = ${epoch}), 0) + 1 else 0 end from generate_series(0, ${EPOCH_STRIPES - 1}) s`.execute(
      db,
    );
  }
  const bump = (epoch: number) => `update cache_epoch_stripes set v = v + 1 where epoch = ${epoch} and stripe = (txid_current() % ${EPOCH_STRIPES})::integer;`;
  await sql.raw(`create or replace function contacts_search_epoch_bump() returns trigger language plpgsql set search_path from current as $$ begin ${bump(CONTACT_SEARCH_EPOCH)} return null; end $$`).execute(db);
  await sql.raw(`create or replace function contacts_epoch_bump() returns trigger language plpgsql set search_path from current as $$ begin ${bump(CONTACTS_EPOCH)} return null; end $$`).execute(db);
}
