import type { TestApp } from '../../helpers.js';
import { now } from '../../../src/db/time.js';
import type { Row } from '../../../src/db/types.js';
import { secureToken, uuid } from '../../../src/lib/random.js';
import { issueAccessToken } from '../../../src/auth/tokens.js';

/**
 * Rows written straight with Kysely so these tests do not depend on the inbox, contact and
 * conversation modules: account → inbox (API or web widget channel) → contact → contact inbox
 * → conversation with the account's next display id.
 */
export async function createInbox(
  t: TestApp,
  accountId: number,
  options: { channel?: 'api' | 'web_widget'; memberIds?: number[]; name?: string } = {},
): Promise<Row<'inboxes'>> {
  const ts = now();
  const db = t.ctx.db;
  let channelType = 'Channel::Api';
  let channelId: number;
  if (options.channel === 'web_widget') {
    channelType = 'Channel::WebWidget';
    const ch = await db
      .insertInto('channel_web_widgets')
      .values({ account_id: accountId, website_token: secureToken(24), hmac_token: secureToken(24), created_at: ts, updated_at: ts })
      .returning('id')
      .executeTakeFirstOrThrow();
    channelId = ch.id;
  } else {
    const ch = await db
      .insertInto('channel_api')
      .values({ account_id: accountId, identifier: secureToken(24), hmac_token: secureToken(24), created_at: ts, updated_at: ts })
      .returning('id')
      .executeTakeFirstOrThrow();
    channelId = ch.id;
  }
  const inbox = await db
    .insertInto('inboxes')
    .values({ account_id: accountId, channel_type: channelType, channel_id: channelId, name: options.name ?? 'Inbox', created_at: ts, updated_at: ts })
    .returningAll()
    .executeTakeFirstOrThrow();
  for (const userId of options.memberIds ?? []) {
    await db.insertInto('inbox_members').values({ inbox_id: inbox.id, user_id: userId, created_at: ts, updated_at: ts }).execute();
  }
  return inbox;
}

export async function createContact(t: TestApp, accountId: number, values: { name?: string; email?: string; blocked?: boolean } = {}) {
  const ts = now();
  return t.ctx.db
    .insertInto('contacts')
    .values({
      account_id: accountId,
      name: values.name ?? 'Jane Contact',
      email: values.email ?? `jane_${secureToken(8).toLowerCase()}@example.com`,
      blocked: values.blocked ? 1 : 0,
      created_at: ts,
      updated_at: ts,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function createConversation(
  t: TestApp,
  accountId: number,
  inbox: Row<'inboxes'>,
  options: {
    contact?: Row<'contacts'>;
    status?: 'open' | 'resolved' | 'pending' | 'snoozed';
    assigneeId?: number | null;
    snoozedUntil?: number | null;
    waitingSince?: number | null;
  } = {},
): Promise<{ conversation: Row<'conversations'>; contact: Row<'contacts'> }> {
  const ts = now();
  const db = t.ctx.db;
  const contact = options.contact ?? (await createContact(t, accountId));
  const contactInbox = await db
    .insertInto('contact_inboxes')
    .values({ contact_id: contact.id, inbox_id: inbox.id, source_id: uuid(), pubsub_token: secureToken(24), created_at: ts, updated_at: ts })
    .returningAll()
    .executeTakeFirstOrThrow();
  const account = await db
    .updateTable('accounts')
    .set((eb) => ({ last_display_id: eb('last_display_id', '+', 1) }))
    .where('id', '=', accountId)
    .returning('last_display_id')
    .executeTakeFirstOrThrow();
  const status = { open: 0, resolved: 1, pending: 2, snoozed: 3 }[options.status ?? 'open'];
  const conversation = await db
    .insertInto('conversations')
    .values({
      account_id: accountId,
      inbox_id: inbox.id,
      display_id: account.last_display_id,
      uuid: uuid(),
      status,
      assignee_id: options.assigneeId ?? null,
      contact_id: contact.id,
      contact_inbox_id: contactInbox.id,
      snoozed_until: options.snoozedUntil ?? null,
      waiting_since: options.waitingSince ?? null,
      last_activity_at: ts,
      created_at: ts,
      updated_at: ts,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { conversation, contact };
}

export async function createAgentBot(t: TestApp, accountId: number, inboxId?: number): Promise<{ bot: Row<'agent_bots'>; token: string }> {
  const ts = now();
  const bot = await t.ctx.db
    .insertInto('agent_bots')
    .values({ name: 'Helper bot', account_id: accountId, created_at: ts, updated_at: ts })
    .returningAll()
    .executeTakeFirstOrThrow();
  if (inboxId) {
    await t.ctx.db
      .insertInto('agent_bot_inboxes')
      .values({ inbox_id: inboxId, agent_bot_id: bot.id, account_id: accountId, created_at: ts, updated_at: ts })
      .execute();
  }
  return { bot, token: await issueAccessToken(t.ctx.db, 'AgentBot', bot.id) };
}

export function reloadConversation(t: TestApp, id: number) {
  return t.ctx.db.selectFrom('conversations').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** Inserts `n` plain incoming messages directly (fast fixtures for the cursor tests). */
export async function insertMessages(t: TestApp, conversation: Row<'conversations'>, n: number): Promise<number[]> {
  const ts = now();
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = await t.ctx.db
      .insertInto('messages')
      .values({
        account_id: conversation.account_id,
        inbox_id: conversation.inbox_id,
        conversation_id: conversation.id,
        content: `message ${i + 1}`,
        message_type: 0,
        sender_type: 'Contact',
        sender_id: conversation.contact_id,
        created_at: ts + i,
        updated_at: ts + i,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    ids.push(row.id);
  }
  return ids;
}

/** A multipart/form-data body for app.inject. */
export function multipartBody(
  fields: Record<string, string>,
  files: { field?: string; filename: string; contentType: string; data: Buffer }[],
): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----parley${secureToken(16)}`;
  const chunks: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  for (const f of files) {
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${f.field ?? 'attachments[]'}"; filename="${f.filename}"\r\nContent-Type: ${f.contentType}\r\n\r\n`,
      ),
    );
    chunks.push(f.data);
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}
