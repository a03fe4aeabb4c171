import { randomUUID } from 'node:crypto';
import type { TestApp } from '../../helpers.js';
import type { Row } from '../../../src/db/types.js';

let seq = 0;

/** An API-channel inbox written straight to the tables (the inboxes module is not needed). */
export async function createApiInbox(t: TestApp, accountId: number, name = 'API inbox'): Promise<Row<'inboxes'>> {
  const ts = Date.now();
  const channel = await t.ctx.db
    .insertInto('channel_api')
    .values({ account_id: accountId, identifier: randomUUID(), hmac_token: randomUUID(), created_at: ts, updated_at: ts })
    .returning('id')
    .executeTakeFirstOrThrow();
  return t.ctx.db
    .insertInto('inboxes')
    .values({ account_id: accountId, channel_type: 'Channel::Api', channel_id: channel.id, name, created_at: ts, updated_at: ts })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function addInboxMember(t: TestApp, inboxId: number, userId: number): Promise<void> {
  const ts = Date.now();
  await t.ctx.db.insertInto('inbox_members').values({ inbox_id: inboxId, user_id: userId, created_at: ts, updated_at: ts }).execute();
}

export async function createConversation(
  t: TestApp,
  input: { accountId: number; inboxId: number; contactId: number; contactInboxId?: number | null },
): Promise<Row<'conversations'>> {
  const ts = Date.now();
  seq += 1;
  return t.ctx.db
    .insertInto('conversations')
    .values({
      account_id: input.accountId,
      inbox_id: input.inboxId,
      display_id: seq * 1000 + Math.floor(Math.random() * 999),
      uuid: randomUUID(),
      contact_id: input.contactId,
      contact_inbox_id: input.contactInboxId ?? null,
      last_activity_at: ts,
      created_at: ts,
      updated_at: ts,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function createIncomingMessage(t: TestApp, conversation: Row<'conversations'>, content = 'hello'): Promise<Row<'messages'>> {
  const ts = Date.now();
  return t.ctx.db
    .insertInto('messages')
    .values({
      account_id: conversation.account_id,
      inbox_id: conversation.inbox_id,
      conversation_id: conversation.id,
      content,
      message_type: 0,
      sender_type: 'Contact',
      sender_id: conversation.contact_id,
      created_at: ts,
      updated_at: ts,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function createDefinition(
  t: TestApp,
  accountId: number,
  key: string,
  displayType: number,
  model = 1,
  extra: { attribute_values?: string[] } = {},
): Promise<void> {
  const ts = Date.now();
  await t.ctx.db
    .insertInto('custom_attribute_definitions')
    .values({
      account_id: accountId,
      attribute_display_name: key,
      attribute_key: key,
      attribute_display_type: displayType,
      attribute_model: model,
      attribute_values: JSON.stringify(extra.attribute_values ?? []),
      created_at: ts,
      updated_at: ts,
    })
    .execute();
}
