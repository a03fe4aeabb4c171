import { sql, type Kysely } from 'kysely';
import type { Engine } from '../../config.js';

/**
 * The list's default page (account, status, newest activity first) is read as stamps — id,
 * render_version, team_id (conversations/fragments.ts) — and served from the render cache. With
 * those columns in the index the page is read from the index alone, instead of 25 table rows
 * spread over the file. The entry already moved on every message (last_activity_at), so writes
 * touch no more pages than before. Replaces 0001's conversations_list (the same leading columns).
 */
export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  if (engine === 'postgres') {
    await sql`CREATE INDEX conversations_list_stamps ON conversations (account_id, status, last_activity_at, id) INCLUDE (render_version, team_id)`.execute(db);
  } else {
    await sql`CREATE INDEX conversations_list_stamps ON conversations (account_id, status, last_activity_at, id, render_version, team_id)`.execute(db);
  }
  await sql`DROP INDEX conversations_list`.execute(db);
}
