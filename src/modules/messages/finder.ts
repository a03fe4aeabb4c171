import type { Expression, ExpressionBuilder, Kysely, SqlBool } from 'kysely';
import { precompiled } from '../../db/precompiled.js';
import { PACKED, packedRow, packs, unpackRows } from '../../db/packed-rows.js';
import type { Database } from '../../db/types.js';
import type { Db } from '../../context.js';
import { parseJson, type JsonObject } from '../../db/json.js';
import { isoTime } from '../../db/time.js';
import { isRecordId } from '../../lib/params.js';
import { attachmentsExist, hasAttachments, MESSAGE_PARTIAL_COLUMNS, userSenderData, type MessagePartialRow } from './presenter.js';
import { labelsOf } from '../conversations/presenter.js';
import { CONTACT_PUSH_COLUMNS, contactPushData, type ContactPushRow } from '../contacts/presenter.js';
import { MESSAGE_TYPE, type AttachmentRow, type ConversationRow } from './service.js';

export const LATEST_LIMIT = 20;
export const BEFORE_LIMIT = 20;
export const AFTER_LIMIT = 100;
export const BETWEEN_LIMIT = 1000;
export const ATTACHMENTS_PER_PAGE = 100;

export interface MessageCursor {
  before?: string;
  after?: string;
  filter_internal_messages?: string;
}

const ID_MAX = 2_147_483_647;

/**
 * Ruby's String#to_i (leading digits, else 0), clamped to the id column's range: ids are 32-bit
 * on PostgreSQL, which rejects a larger bound instead of matching everything.
 */
function toI(raw: string): number {
  const m = /^\s*([+-]?\d+)/.exec(raw);
  const n = m ? Number(m[1]) : 0;
  return Math.max(-ID_MAX - 1, Math.min(ID_MAX, n));
}

const blank = (v: string | undefined): v is undefined => v === undefined || v.trim() === '';

/**
 * MessageFinder: the latest 20; `before` the 20 older than an id; `after` up to 100 newer;
 * both, the range [after, before) up to 1000. Always oldest first. Every branch reads the
 * (conversation_id, id) index from one end, so the size of the conversation does not matter.
 * Only the partial's columns are read (processed_message_content alone doubles a page's text).
 */
export async function findMessages(db: Db, conversation: Pick<ConversationRow, 'id'>, cursor: MessageCursor): Promise<MessagePartialRow[]> {
  const before = blank(cursor.before) ? null : toI(cursor.before);
  const after = blank(cursor.after) ? null : toI(cursor.after);
  const filtered = !blank(cursor.filter_internal_messages);
  if (before === null && after === null && !filtered) {
    const latest = packs(db) ? unpackRows<MessagePartialRow>(await latestPacked(db, conversation.id), PACKED_NAMES) : await latestMessages(db, conversation.id);
    return latest.reverse();
  }
  let q = db.selectFrom('messages').select(MESSAGE_PARTIAL_COLUMNS).select(hasAttachments).where('conversation_id', '=', conversation.id);
  if (filtered) q = q.where('private', '=', 0).where('message_type', '!=', MESSAGE_TYPE.activity);
  if (after !== null && before !== null) {
    return q.where('id', '>=', after).where('id', '<', before).orderBy('id', 'asc').limit(BETWEEN_LIMIT).execute();
  }
  if (before !== null) {
    return (await q.where('id', '<', before).orderBy('id', 'desc').limit(BEFORE_LIMIT).execute()).reverse();
  }
  if (after !== null) {
    return q.where('id', '>', after).orderBy('id', 'asc').limit(AFTER_LIMIT).execute();
  }
  return (await q.orderBy('id', 'desc').limit(LATEST_LIMIT).execute()).reverse();
}

/** The default page (no cursor, no filter), what clients ask for most, of the conversation `which` picks: its columns are the caller's. */
const latestPage = (db: Kysely<Database>, which: (eb: ExpressionBuilder<Database, 'messages'>) => Expression<SqlBool>) =>
  db.selectFrom('messages').where(which).orderBy('id', 'desc').limit(LATEST_LIMIT);
const byId = (conversationId: number) => (eb: ExpressionBuilder<Database, 'messages'>) => eb('conversation_id', '=', conversationId);

const latestMessages = precompiled((db, conversationId: number) => latestPage(db, byId(conversationId)).select(MESSAGE_PARTIAL_COLUMNS).select(hasAttachments));
// SQLite: the same page with each row's values packed into one JSON text (db/packed-rows.ts).
const PACKED_NAMES = [...MESSAGE_PARTIAL_COLUMNS, 'has_attachments'];
const latestPacked = precompiled((db, conversationId: number) =>
  latestPage(db, byId(conversationId)).select((eb) => packedRow([...MESSAGE_PARTIAL_COLUMNS.map((c) => eb.ref(c)), attachmentsExist(eb)]).as(PACKED)),
);
const contactById = precompiled((db, id: number) => db.selectFrom('contacts').select(CONTACT_PUSH_COLUMNS).where('id', '=', id));

// PostgreSQL: the same reads asked for by the conversation's display id (readAheadByDisplayId).
const conversationIdOf = (eb: ExpressionBuilder<Database, 'messages' | 'contacts'>, accountId: number, displayId: number) =>
  eb.selectFrom('conversations').where('conversations.account_id', '=', accountId).where('conversations.display_id', '=', displayId);
const latestMessagesByDisplayId = precompiled((db, accountId: number, displayId: number) =>
  latestPage(db, (eb) => eb('conversation_id', '=', conversationIdOf(eb, accountId, displayId).select('conversations.id')))
    .select(MESSAGE_PARTIAL_COLUMNS)
    .select(hasAttachments),
);
const contactByDisplayId = precompiled((db, accountId: number, displayId: number) =>
  db
    .selectFrom('contacts')
    .select(CONTACT_PUSH_COLUMNS)
    .where('id', '=', (eb) => conversationIdOf(eb, accountId, displayId).select('conversations.contact_id')),
);

/**
 * PostgreSQL: the messages index's default page and the conversation's contact, asked for by the
 * conversation's display id in the same turn as the conversation itself, so the three leave in one
 * pipelined write and come back in one round trip instead of two (db/pg-pipeline.ts). The caller
 * shows them only once it has found and authorized the conversation. Null on SQLite, whose reads
 * cost no round trip (the extra lookup of the display id would only add to them), and for a page
 * with a cursor.
 */
export function readAheadByDisplayId(
  db: Db,
  accountId: number,
  displayId: number,
  cursor: MessageCursor,
): Promise<[MessagePartialRow[], ContactPushRow | undefined]> | null {
  if (packs(db) || !isRecordId(displayId) || !blank(cursor.before) || !blank(cursor.after) || !blank(cursor.filter_internal_messages)) return null;
  const read = Promise.all([latestMessagesByDisplayId(db, accountId, displayId), contactByDisplayId(db, accountId, displayId)]).then(
    ([rows, [contact]]): [MessagePartialRow[], ContactPushRow | undefined] => [rows.reverse(), contact],
  );
  // Not awaited when the conversation is missing or not the caller's.
  read.catch(() => undefined);
  return read;
}

/** The columns of the conversation the messages index reads (its page, meta and authorization). */
export const MESSAGES_CONVERSATION_COLUMNS = [
  'id',
  'display_id',
  'contact_id',
  'assignee_id',
  'additional_attributes',
  'cached_label_list',
  'agent_last_seen_at',
  'assignee_last_seen_at',
] as const;
type MessagesConversation = Pick<ConversationRow, (typeof MESSAGES_CONVERSATION_COLUMNS)[number] | 'account_id'>;

/** The conversation's contact as message senders show it (the meta shows it, and it is usually the sender of the incoming messages). */
export async function findConversationContact(db: Db, conversation: Pick<ConversationRow, 'contact_id'>): Promise<ContactPushRow | undefined> {
  return (await contactById(db, conversation.contact_id))[0];
}

/** messages/index.json.jbuilder's meta, for the conversation and its contact (findConversationContact). */
export async function messagesMeta(db: Db, conversation: MessagesConversation, contact: ContactPushRow | undefined, authEpoch?: number): Promise<Record<string, unknown>> {
  // Conversation#cached_label_list_array: every tagging change of a conversation rewrites its
  // cached list in the same transaction, so the list is the labels (as in the conversation list).
  const meta: Record<string, unknown> = {
    labels: labelsOf(conversation),
    additional_attributes: parseJson<JsonObject>(conversation.additional_attributes, {}),
    contact: contact ? contactPushData(contact) : null,
  };
  // The assignee renders as a message sender does (User#push_event_data, with the account's availability).
  const assignee = conversation.assignee_id === null ? null : await userSenderData(db, conversation.account_id, conversation.assignee_id, authEpoch);
  if (assignee) meta.assignee = assignee;
  meta.agent_last_seen_at = isoTime(conversation.agent_last_seen_at);
  meta.assignee_last_seen_at = isoTime(conversation.assignee_last_seen_at);
  return meta;
}

/** ConversationsController#attachments: the conversation's attachments, newest first, 100 a page. */
export async function listConversationAttachments(
  db: Db,
  conversation: ConversationRow,
  page: number,
): Promise<{ total: number; rows: AttachmentRow[] }> {
  const scope = db
    .selectFrom('attachments')
    .innerJoin('messages', 'messages.id', 'attachments.message_id')
    .where('messages.conversation_id', '=', conversation.id);
  const [count, rows] = await Promise.all([
    scope.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirst(),
    scope
      .selectAll('attachments')
      .orderBy('attachments.created_at', 'desc')
      .orderBy('attachments.id', 'desc')
      .limit(ATTACHMENTS_PER_PAGE)
      .offset((page - 1) * ATTACHMENTS_PER_PAGE)
      .execute(),
  ]);
  return { total: Number(count?.n ?? 0), rows };
}
