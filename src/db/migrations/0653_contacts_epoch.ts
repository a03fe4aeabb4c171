import { sql, type Kysely } from 'kysely';
import type { Engine } from '../../config.js';

/**
 * SQLite: `cache_epochs` row 4 moves with every change of contacts (any column) and of contacts'
 * labels, so the count of a contact list, label view or filter (contacts/finder.ts) can be reused
 * until then. Those counts read contacts, their taggings and the search table (which follows
 * contacts); a filter on a custom attribute counted by reading every contact's JSON (21 ms on
 * 100 000 contacts, 0.3 ms for the page itself).
 * PostgreSQL: nothing (every incoming message writes its contact's last_activity_at: an epoch row
 * there would be locked by all of them).
 */
export const CONTACTS_EPOCH = 4;

export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  await sql`insert into cache_epochs (id, v) values (${CONTACTS_EPOCH}, 0)`.execute(db);
  if (engine === 'postgres') return;
  const bump = `update cache_epochs set v = v + 1 where id = ${CONTACTS_EPOCH};`;
  for (const event of ['insert', 'update', 'delete']) {
    await sql.raw(`create trigger contacts_epoch_${event} after ${event} on contacts begin ${bump} end`).execute(db);
  }
  await sql.raw(`create trigger contact_taggings_epoch_insert after insert on taggings when new.taggable_type = 'Contact' begin ${bump} end`).execute(db);
  await sql.raw(`create trigger contact_taggings_epoch_delete after delete on taggings when old.taggable_type = 'Contact' begin ${bump} end`).execute(db);
  await sql
    .raw(`create trigger contact_taggings_epoch_update after update on taggings when old.taggable_type = 'Contact' or new.taggable_type = 'Contact' begin ${bump} end`)
    .execute(db);
}
