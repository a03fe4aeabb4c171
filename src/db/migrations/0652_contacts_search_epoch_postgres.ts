import { sql, type Kysely } from 'kysely';
import type { Engine } from '../../config.js';
import { CONTACT_SEARCH_EPOCH } from './0651_contacts_search_epoch.js';

/**
 * PostgreSQL: the contact search epoch (0651) moves with every statement that may change what
 * search sees (contacts created, deleted, or written in a searched column), so a search's match
 * count is reused until then, as on SQLite. Counting a broad match there re-checks thousands of
 * trigram candidates (3–11 ms on the medium dataset, against 0.3 ms for the page itself). The
 * epoch row is locked only by those transactions (not by messages touching a contact's
 * last_activity_at), and its read is shared by the requests of one event-loop turn (db/coalesce.ts).
 */
export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  if (engine !== 'postgres') return;
  const bump = `update cache_epochs set v = v + 1 where id = ${CONTACT_SEARCH_EPOCH};`;
  await sql.raw(`create function contacts_search_epoch_bump() returns trigger language plpgsql set search_path from current as $$ begin ${bump} return null; end $$`).execute(db);
  // On contacts, with the columns 0650's sync watches (0650 may rebuild its table, which would drop a trigger on it).
  await sql
    .raw(
      `create trigger contacts_search_epoch after insert or delete or update of id, account_id, name, email, phone_number, identifier, additional_attributes on contacts for each statement execute function contacts_search_epoch_bump()`,
    )
    .execute(db);
}
