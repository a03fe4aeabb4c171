import { sql, type Kysely } from 'kysely';
import type { Engine } from '../../config.js';

/** The transaction-local setting by which a transaction says it moves a conversation's render version itself. */
export const RENDER_BUMPED_SETTING = 'parley.render_bumped';

/**
 * PostgreSQL: a message insert moves its conversation's render version (0610) unless its
 * transaction has said (RENDER_BUMPED_SETTING = the conversation id) that it updates that
 * conversation itself, as a message creation does with last_activity_at (messages/service.ts).
 * The trigger's update was a second write of the conversation row in every reply: a second
 * version of it in all fourteen of its indexes, and, since the row was already changed by the
 * transaction, PostgreSQL's foreign-key checks on the update that followed (five lookups). The
 * list cache needs one move per transaction, anywhere in it: no reader sees the transaction's
 * rows before its commit.
 */
export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  if (engine !== 'postgres') return;
  const bump = (idExpr: string) => `update conversations set render_version = render_version + 1 where id = ${idExpr};`;
  await sql
    .raw(
      `create or replace function message_render_version() returns trigger language plpgsql set search_path from current as $$ begin
       if tg_op in ('UPDATE', 'DELETE') then ${bump('old.conversation_id')} end if;
       if tg_op = 'UPDATE' and new.conversation_id <> old.conversation_id then ${bump('new.conversation_id')} end if;
       if tg_op = 'INSERT' and coalesce(current_setting('${RENDER_BUMPED_SETTING}', true), '') <> new.conversation_id::text then ${bump('new.conversation_id')} end if;
       return null; end $$`,
    )
    .execute(db);
}
