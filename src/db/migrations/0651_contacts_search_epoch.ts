import { sql, type Kysely } from 'kysely';
import type { Engine } from '../../config.js';

/**
 * SQLite: `cache_epochs` row 3 moves with every change of what contact search sees (contacts
 * inserted or deleted, or their searched columns updated — the columns 0650's search triggers
 * watch), so a search's match count can be reused until then (contacts/finder.ts). Counting a
 * broad match ("mar", "555") walks thousands of index entries; type-ahead asks the same again.
 * PostgreSQL: nothing (an epoch read there is a round trip like the count, and its row would be
 * locked by every contact change).
 */
export const CONTACT_SEARCH_EPOCH = 3;

export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  await sql`insert into cache_epochs (id, v) values (${CONTACT_SEARCH_EPOCH}, 0)`.execute(db);
  if (engine === 'postgres') return;
  const bump = `update cache_epochs set v = v + 1 where id = ${CONTACT_SEARCH_EPOCH};`;
  await sql.raw(`create trigger contacts_search_epoch_insert after insert on contacts begin ${bump} end`).execute(db);
  await sql.raw(`create trigger contacts_search_epoch_delete after delete on contacts begin ${bump} end`).execute(db);
  await sql
    .raw(`create trigger contacts_search_epoch_update after update of account_id, name, email, phone_number, identifier, additional_attributes on contacts begin ${bump} end`)
    .execute(db);
}
