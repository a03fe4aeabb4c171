import { sql, type Kysely } from 'kysely';
import type { Engine } from '../../config.js';

/**
 * What lets the conversation list reuse a conversation's rendered JSON (conversations/fragments.ts)
 * while it is still exactly what a fresh render would give:
 *
 * - `conversations.render_version`: moves on every change of the conversation row and of what
 *   its list item shows from elsewhere — its messages and their attachments (last message,
 *   unread count), its contact (the sender). Kept by triggers, whoever writes.
 * - `render_epochs` (one row): moves on any change of the rarely written rows that many items
 *   show — users and memberships (assignees, message senders), agent bots, teams, inboxes and
 *   their API channel, contact inboxes. Every cached item is stale after such a change.
 *
 * Presence (availability_status) and the viewer's team membership are not data: the cache fills
 * the one in at serve time and keys on the other.
 */
export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  await db.schema.alterTable('conversations').addColumn('render_version', 'integer', (col) => col.notNull().defaultTo(0)).execute();
  await db.schema
    .createTable('render_epochs')
    .addColumn('id', 'integer', (col) => col.primaryKey())
    .addColumn('v', 'integer', (col) => col.notNull())
    .execute();
  await sql`insert into render_epochs (id, v) values (1, 0)`.execute(db);

  const bumpConversation = (idExpr: string) => `update conversations set render_version = render_version + 1 where id = ${idExpr};`;
  const bumpEpoch = 'update render_epochs set v = v + 1 where id = 1;';
  const dimensions = ['users', 'account_users', 'agent_bots', 'teams', 'inboxes', 'channel_api', 'contact_inboxes'];

  if (engine === 'postgres') {
    const fn = async (name: string, body: string) =>
      sql
        .raw(
          `create function ${name}() returns trigger language plpgsql set search_path from current as $$ begin ${body} return null; end $$`,
        )
        .execute(db);
    await sql
      .raw(
        `create function conversation_render_version() returns trigger language plpgsql as $$
         begin new.render_version := old.render_version + 1; return new; end $$`,
      )
      .execute(db);
    await sql.raw(`create trigger conversation_render_version before update on conversations for each row execute function conversation_render_version()`).execute(db);
    await fn(
      'message_render_version',
      `if tg_op in ('UPDATE', 'DELETE') then ${bumpConversation('old.conversation_id')} end if;
       if tg_op in ('UPDATE', 'INSERT') and (tg_op = 'INSERT' or new.conversation_id <> old.conversation_id) then ${bumpConversation('new.conversation_id')} end if;`,
    );
    await sql.raw(`create trigger message_render_version after insert or update or delete on messages for each row execute function message_render_version()`).execute(db);
    await fn(
      'attachment_render_version',
      `${bumpConversation(`(select conversation_id from messages where id = (case when tg_op = 'DELETE' then old.message_id else new.message_id end))`)}`,
    );
    await sql.raw(`create trigger attachment_render_version after insert or update or delete on attachments for each row execute function attachment_render_version()`).execute(db);
    await fn('contact_render_version', `update conversations set render_version = render_version + 1 where contact_id = new.id;`);
    await sql.raw(`create trigger contact_render_version after update on contacts for each row execute function contact_render_version()`).execute(db);
    await fn('render_epoch_bump', bumpEpoch);
    for (const table of dimensions) {
      await sql.raw(`create trigger ${table}_render_epoch after update or delete on ${table} for each statement execute function render_epoch_bump()`).execute(db);
    }
    return;
  }

  const trigger = (name: string, event: string, body: string, when = '') =>
    sql.raw(`create trigger ${name} after ${event} for each row ${when ? `when ${when}` : ''} begin ${body} end`).execute(db);
  // SQLite runs a trigger's own update without firing it again (recursive_triggers is off); the
  // WHEN clause also keeps the bumps below from counting twice.
  await trigger('conversation_render_version', 'update on conversations', bumpConversation('new.id'), 'new.render_version = old.render_version');
  await trigger('message_render_version_insert', 'insert on messages', bumpConversation('new.conversation_id'));
  await trigger('message_render_version_update', 'update on messages', bumpConversation('old.conversation_id') + bumpConversation('new.conversation_id'));
  await trigger('message_render_version_delete', 'delete on messages', bumpConversation('old.conversation_id'));
  const viaMessage = (row: string) => bumpConversation(`(select conversation_id from messages where id = ${row}.message_id)`);
  await trigger('attachment_render_version_insert', 'insert on attachments', viaMessage('new'));
  await trigger('attachment_render_version_update', 'update on attachments', viaMessage('old') + viaMessage('new'));
  await trigger('attachment_render_version_delete', 'delete on attachments', viaMessage('old'));
  await trigger('contact_render_version', 'update on contacts', 'update conversations set render_version = render_version + 1 where contact_id = new.id;');
  for (const table of dimensions) {
    await trigger(`${table}_render_epoch_update`, `update on ${table}`, bumpEpoch);
    await trigger(`${table}_render_epoch_delete`, `delete on ${table}`, bumpEpoch);
  }
}
