import { sql, type Kysely } from 'kysely';
import type { Engine } from '../../config.js';
import { CONTACTS_EPOCH } from './0653_contacts_epoch.js';

/**
 * PostgreSQL: the contacts epoch (0653) moves with every statement that creates or deletes
 * contacts, every update that changes a contact in a column other than last_activity_at and
 * updated_at, and every change of a contact's labels, so the count of a contact list, label view or filter that does not read
 * last_activity_at is reused until then (contacts/finder.ts), as SQLite's is. A custom attribute
 * filter counted 6 000-18 000 candidate rows on the heap at every request (6-30 ms at 100 000
 * contacts). last_activity_at is left out because every incoming message writes it: the epoch row
 * would be locked by all of them. Contact writes already lock the search epoch's row (0652) the
 * same way.
 */
export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  if (engine !== 'postgres') return;
  const bump = `update cache_epochs set v = v + 1 where id = ${CONTACTS_EPOCH};`;
  await sql.raw(`create function contacts_epoch_bump() returns trigger language plpgsql set search_path from current as $$ begin ${bump} return null; end $$`).execute(db);
  await sql.raw(`create trigger contacts_epoch_write after insert or delete on contacts for each statement execute function contacts_epoch_bump()`).execute(db);
  // Compared as whole rows, so a column added later is covered without touching this trigger.
  const rest = (row: string) => `(to_jsonb(${row}) - 'last_activity_at' - 'updated_at')`;
  await sql
    .raw(
      `create trigger contacts_epoch_update after update on contacts for each row
       when (${rest('old')} is distinct from ${rest('new')}) execute function contacts_epoch_bump()`,
    )
    .execute(db);
  const when = { insert: `new.taggable_type = 'Contact'`, delete: `old.taggable_type = 'Contact'`, update: `old.taggable_type = 'Contact' or new.taggable_type = 'Contact'` };
  for (const [event, condition] of Object.entries(when)) {
    await sql
      .raw(`create trigger contact_taggings_epoch_${event} after ${event} on taggings for each row when (${condition}) execute function contacts_epoch_bump()`)
      .execute(db);
  }
}
