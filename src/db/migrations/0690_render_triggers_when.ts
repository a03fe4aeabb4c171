import { sql, type Kysely } from 'kysely';
import type { Engine } from '../../config.js';
import { RENDER_BUMPED_SETTING } from './0670_message_render_once.js';

/**
 * PostgreSQL: the render-version triggers (0610, 0670) decide in their WHEN clause whether they
 * have anything to do, so a reply calls neither function. A call of a PL/pgSQL function with
 * `set search_path` saves and restores the setting around its body, and a reply made two: the
 * bookkeeping update, which moves render_version itself, and the message insert, whose
 * transaction has said it does (RENDER_BUMPED_SETTING). What each trigger does when it fires is
 * unchanged: a conversation update that does not move render_version moves it by one; a message
 * insert, update or delete moves its conversation's.
 */
export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  if (engine !== 'postgres') return;
  await sql`drop trigger conversation_render_version on conversations`.execute(db);
  await sql
    .raw(
      `create trigger conversation_render_version before update on conversations for each row
       when (new.render_version = old.render_version) execute function conversation_render_version()`,
    )
    .execute(db);
  await sql`drop trigger message_render_version on messages`.execute(db);
  await sql.raw(`create trigger message_render_version after update or delete on messages for each row execute function message_render_version()`).execute(db);
  await sql
    .raw(
      `create trigger message_render_version_insert after insert on messages for each row
       when (coalesce(current_setting('${RENDER_BUMPED_SETTING}', true), '') <> new.conversation_id::text)
       execute function message_render_version()`,
    )
    .execute(db);
}
