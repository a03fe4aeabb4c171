import { sql, type Kysely } from 'kysely';
import type { Engine } from '../../config.js';

/**
 * Every new message moves its conversation's last_activity_at, and each index holding that
 * column moves an entry (a page where it was, a page where it goes), and every new message adds
 * an entry to each messages index: pages a reply's commit writes.
 * - conversations_inbox_status (inbox_id, status, last_activity_at) served no query: the list
 *   reads (account_id, inbox_id[, status], last_activity_at) indexes (0600). Deleting an inbox
 *   still needs its conversations by inbox_id (the foreign key's cascade), so (inbox_id) stays
 *   indexed, in an entry no message moves.
 * - messages_source (source_id) held an entry for every message, nearly all without a source id;
 *   only messages that have one are looked up by it (`source_id = ?` implies NOT NULL, so the
 *   partial index serves those lookups).
 * Two pages fewer per reply's commit, three fewer entries to move.
 */
export async function up(db: Kysely<unknown>, _engine: Engine): Promise<void> {
  await sql`CREATE INDEX conversations_inbox ON conversations (inbox_id)`.execute(db);
  await sql`DROP INDEX conversations_inbox_status`.execute(db);
  await sql`DROP INDEX messages_source`.execute(db);
  await sql`CREATE INDEX messages_source ON messages (source_id) WHERE source_id IS NOT NULL`.execute(db);
}
