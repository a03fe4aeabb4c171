import { sql, type Kysely } from 'kysely';
import type { Engine } from '../../config.js';
import { CONTACT_SEARCH_EPOCH } from './0651_contacts_search_epoch.js';
import { CONTACTS_EPOCH } from './0653_contacts_epoch.js';
import { EPOCH_STRIPES } from './0720_striped_contact_epochs.js';

/**
 * PostgreSQL: the contact epochs (0652, 0710, striped by 0720) move at commit, once a transaction,
 * as the counts epoch does since 0730.
 *
 * Their bumps ran as each statement wrote, taking the transaction's stripe row there and holding it
 * to the commit. Two transactions whose ids share a stripe could then deadlock: a contact merge
 * bumps at its base contact's update and then deletes the mergee, while an update of the mergee
 * waits for that stripe holding the mergee's row. A deferred constraint trigger takes the stripe
 * last, when the transaction waits for nothing else, so a stripe's holder never waits on its waiter.
 *
 * Constraint triggers run for each row, where the contact triggers ran for each statement; the
 * guard (a setting local to the transaction) keeps it to one update of the stripe however many rows
 * a transaction writes. The epochs' meaning is unchanged: what they cover (0652, 0710), and a sum
 * that only ever grows.
 */
export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  if (engine !== 'postgres') return;
  for (const [trigger, table] of [
    ['contacts_search_epoch', 'contacts'],
    ['contacts_epoch_write', 'contacts'],
    ['contacts_epoch_update', 'contacts'],
    ['contact_taggings_epoch_insert', 'taggings'],
    ['contact_taggings_epoch_delete', 'taggings'],
    ['contact_taggings_epoch_update', 'taggings'],
  ]) {
    await sql.raw(`drop trigger ${trigger} on ${table}`).execute(db);
  }
  await sql`drop function contacts_search_epoch_bump()`.execute(db);
  await sql`drop function contacts_epoch_bump()`.execute(db);

  // The epoch is the trigger's argument; the guard's setting is named after it.
  await sql
    .raw(
      `create function striped_epoch_bump_at_commit() returns trigger language plpgsql set search_path from current as $$
       declare
         target integer := tg_argv[0]::integer;
         guard text := 'parley.epoch_bumped_' || tg_argv[0];
       begin
         if current_setting(guard, true) = txid_current()::text then return null; end if;
         perform set_config(guard, txid_current()::text, true);
         update cache_epoch_stripes set v = v + 1 where epoch = target and stripe = (txid_current() % ${EPOCH_STRIPES})::integer;
         return null;
       end $$`,
    )
    .execute(db);
  const atCommit = (name: string, events: string, table: string, epoch: number, when = '') =>
    sql
      .raw(
        `create constraint trigger ${name} after ${events} on ${table} deferrable initially deferred
         for each row ${when ? `when (${when})` : ''} execute function striped_epoch_bump_at_commit('${epoch}')`,
      )
      .execute(db);

  // 0652: what contact search reads (the columns 0650's search sync watches).
  await atCommit('contacts_search_epoch', 'insert or delete or update of id, account_id, name, email, phone_number, identifier, additional_attributes', 'contacts', CONTACT_SEARCH_EPOCH);
  // 0710: contacts created or deleted, changed in a column other than last_activity_at and updated_at, or relabelled.
  await atCommit('contacts_epoch_write', 'insert or delete', 'contacts', CONTACTS_EPOCH);
  const rest = (row: string) => `(to_jsonb(${row}) - 'last_activity_at' - 'updated_at')`;
  await atCommit('contacts_epoch_update', 'update', 'contacts', CONTACTS_EPOCH, `${rest('old')} is distinct from ${rest('new')}`);
  await atCommit('contact_taggings_epoch_insert', 'insert', 'taggings', CONTACTS_EPOCH, `new.taggable_type = 'Contact'`);
  await atCommit('contact_taggings_epoch_delete', 'delete', 'taggings', CONTACTS_EPOCH, `old.taggable_type = 'Contact'`);
  await atCommit('contact_taggings_epoch_update', 'update', 'taggings', CONTACTS_EPOCH, `old.taggable_type = 'Contact' or new.taggable_type = 'Contact'`);
}
