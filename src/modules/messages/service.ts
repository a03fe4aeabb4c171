import type { AppContext, Db } from '../../context.js';
import { DEFAULT_MESSAGES_PER_MINUTE, messagesPerMinuteLimit } from '../../config.js';
import { isPlainObject, parseJson, toJson, type JsonObject } from '../../db/json.js';
import type { Database, Row, RowUpdate } from '../../db/types.js';
import { now } from '../../db/time.js';
import { PostgresAdapter, sql, type Kysely } from 'kysely';
import { commitAhead, precompiled, precompiledRow } from '../../db/precompiled.js';
import { RENDER_BUMPED_SETTING } from '../../db/migrations/0670_message_render_once.js';
import { notFound, unauthorized, unprocessable } from '../../lib/errors.js';
import { castBoolean, isRecordId, recordId } from '../../lib/params.js';
import { storageFor } from '../../storage/index.js';
import { lockContact } from '../contacts/service.js';
import { conversationAllows, type ConversationAccess } from '../conversations/access.js';
import { insertReplyAtOnce, type ReplyColumns } from './reply-statement.js';

export type MessageRow = Row<'messages'>;
export type AttachmentRow = Row<'attachments'>;
export type ConversationRow = Row<'conversations'>;

// ---- Chatwoot's enums (app/models/message.rb, attachment.rb, conversation.rb) ----

export const MESSAGE_TYPES = ['incoming', 'outgoing', 'activity', 'template'] as const;
export type MessageTypeName = (typeof MESSAGE_TYPES)[number];
export const MESSAGE_TYPE = { incoming: 0, outgoing: 1, activity: 2, template: 3 } as const;

export const CONTENT_TYPES = [
  'text', 'input_text', 'input_textarea', 'input_email', 'input_select', 'cards', 'form', 'article',
  'incoming_email', 'input_csat', 'integrations', 'sticker', 'voice_call',
] as const;
export type ContentTypeName = (typeof CONTENT_TYPES)[number];

export const MESSAGE_STATUSES = ['sent', 'delivered', 'read', 'failed'] as const;
export type MessageStatusName = (typeof MESSAGE_STATUSES)[number];

export const FILE_TYPES = [
  'image', 'audio', 'video', 'file', 'location', 'fallback', 'share', 'story_mention', 'contact', 'ig_reel', 'ig_post',
  'ig_story', 'embed',
] as const;
export type FileTypeName = (typeof FILE_TYPES)[number];

const CONVERSATION_STATUS = { open: 0, resolved: 1, pending: 2, snoozed: 3 } as const;
const CONVERSATION_STATUS_NAMES = ['open', 'resolved', 'pending', 'snoozed'] as const;

export const contentTypeName = (n: number): string => CONTENT_TYPES[n] ?? 'text';
export const messageStatusName = (n: number): string => MESSAGE_STATUSES[n] ?? 'sent';
export const fileTypeName = (n: number): string => FILE_TYPES[n] ?? 'image';

/** I18n conversations.messages.deleted */
export const DELETED_MESSAGE_CONTENT = 'This message was deleted';
export const MAX_CONTENT_LENGTH = 150_000;
/** Message::NUMBER_OF_PERMITTED_ATTACHMENTS */
export const MAX_ATTACHMENTS = 15;
/** Limits.conversation_message_per_minute_limit (a bad value stops the start in loadConfig before any message is made). */
const MESSAGES_PER_MINUTE = (() => {
  try {
    return messagesPerMinuteLimit();
  } catch {
    return DEFAULT_MESSAGES_PER_MINUTE;
  }
})();

// ---- who acts and who sends ----

export type SenderType = 'User' | 'Contact' | 'AgentBot';
export interface MessageSender {
  type: SenderType;
  id: number;
}

/**
 * Who performs the change (Chatwoot's Current.user / the token's owner). It decides the
 * sender of outgoing messages and the wording of the activity messages the change causes.
 */
export type Actor =
  | { kind: 'user'; user: Pick<Row<'users'>, 'id' | 'name'> }
  | { kind: 'bot'; bot: Pick<Row<'agent_bots'>, 'id' | 'name'> }
  | { kind: 'contact'; contactId: number }
  | null;

/** A file already written to storage, to be attached to the message being created. */
export interface StoredFile {
  fileKey: string;
  fileName: string;
  contentType: string;
  byteSize: number;
  /** Image dimensions and the like, rendered as width/height. */
  meta?: JsonObject;
}

/** An attachment without a stored file (location, fallback, contact card, embed, external media). */
export interface ExternalAttachment {
  fileType: FileTypeName;
  externalUrl?: string | null;
  coordinatesLat?: number;
  coordinatesLong?: number;
  fallbackTitle?: string | null;
  extension?: string | null;
  meta?: JsonObject;
}

export interface CreateMessageInput {
  actor: Actor;
  content?: unknown;
  /** Name or number; default outgoing (MessageBuilder). */
  message_type?: unknown;
  private?: unknown;
  content_type?: unknown;
  /** An object, or a JSON string of one (multipart forms). */
  content_attributes?: unknown;
  additional_attributes?: JsonObject;
  template_params?: unknown;
  campaign_id?: unknown;
  echo_id?: unknown;
  source_id?: unknown;
  external_created_at?: unknown;
  /** With sender_type 'AgentBot', an agent bot of the account (or a global one) sends the outgoing message. */
  sender_type?: unknown;
  sender_id?: unknown;
  /** Overrides the sender MessageBuilder would choose (Client API / widget: the contact). */
  sender?: MessageSender | null;
  status?: MessageStatusName;
  files?: StoredFile[];
  externalAttachments?: ExternalAttachment[];
  /** Skip the "Incoming messages are only allowed in Api inboxes" rule (channels that receive incoming messages themselves). */
  allowIncomingOnAnyInbox?: boolean;
}

export interface CreatedMessage {
  message: MessageRow;
  attachments: AttachmentRow[];
  conversation: ConversationRow;
  /** Activity messages the creation caused (e.g. "System reopened the conversation …"). */
  activityMessages: MessageRow[];
  /** Set when the message changed the conversation's status (reopen, unsnooze). */
  statusChangedTo: string | null;
  echoId: string | null;
}

// ---- validation (MessageBuilder + Message validations) ----

function enumIndex<T extends readonly string[]>(values: T, raw: unknown, attribute: string, fallback: T[number]): number {
  if (raw === undefined || raw === null || raw === '') return values.indexOf(fallback);
  if (typeof raw === 'number' && Number.isInteger(raw) && raw >= 0 && raw < values.length) return raw;
  const s = String(raw);
  if (/^\d+$/.test(s) && Number(s) < values.length) return Number(s);
  const i = values.indexOf(s);
  if (i < 0) throw unprocessable(`'${s}' is not a valid ${attribute}`);
  return i;
}

function parseContentAttributes(raw: unknown): JsonObject {
  if (raw === undefined || raw === null || raw === '') return {};
  if (typeof raw === 'string') {
    try {
      const parsed: unknown = JSON.parse(raw);
      return isPlainObject(parsed) ? parsed : {};
    } catch {
      return {};
    }
  }
  return isPlainObject(raw) ? { ...raw } : {};
}

const ITEM_KEYS: Record<string, readonly string[]> = {
  input_select: ['title', 'value'],
  cards: ['title', 'description', 'media_url', 'actions'],
  form: ['type', 'placeholder', 'label', 'name', 'options', 'default', 'required', 'pattern', 'title', 'pattern_error'],
  article: ['title', 'description', 'link'],
};
const CARD_ACTION_KEYS = ['text', 'type', 'payload', 'uri'];

/** ContentAttributeValidator: structured content types need items with known keys. */
function contentAttributeProblems(contentType: string, attrs: JsonObject): string[] {
  const allowed = ITEM_KEYS[contentType];
  if (!allowed) return [];
  const items = attrs.items;
  if (!Array.isArray(items) || items.length === 0) return ['Content attributes At least one item is required.'];
  if (items.some((item) => !isPlainObject(item))) return ['Content attributes Items should be a hash.'];
  const problems: string[] = [];
  const objects = items as JsonObject[];
  const invalid = objects.flatMap((item) => Object.keys(item)).filter((k) => !allowed.includes(k));
  if (invalid.length > 0) problems.push(`Content attributes contains invalid keys for items : [${invalid.map((k) => `:${k}`).join(', ')}]`);
  if (contentType === 'cards') {
    if (objects.some((item) => !Array.isArray(item.actions) || item.actions.length === 0)) {
      problems.push('Content attributes contains items missing actions');
    } else {
      const bad = objects
        .flatMap((item) => (item.actions as unknown[]).flatMap((a) => (isPlainObject(a) ? Object.keys(a) : [])))
        .filter((k) => !CARD_ACTION_KEYS.includes(k));
      if (bad.length > 0) problems.push(`Content attributes contains invalid keys for actions:  [${bad.map((k) => `:${k}`).join(', ')}]`);
    }
  }
  return problems;
}

function validationFailed(problems: string[]): never {
  throw unprocessable(`Validation failed: ${problems.join(', ')}`);
}

function optionalString(raw: unknown): string | null {
  if (raw === undefined || raw === null || raw === '') return null;
  return typeof raw === 'string' ? raw : typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : null;
}

// ---- conversation bookkeeping ----

/**
 * The insert returns only the new message's id: the caller has every other value it stores. On
 * SQLite, `returning *` of these rows measured 10 µs (the message) and 20–40 µs (the conversation)
 * more than returning the one generated value, per reply (bench/README.md, "Writes that return
 * what only the database knows").
 */
const insertMessageRow = precompiledRow((db, row: NewMessageValues) => db.insertInto('messages').values(row).returning('id'));

/** What writeMessage inserts: every column of a message but the two the table makes. */
type NewMessageValues = Omit<MessageRow, 'id' | 'external_source_ids'>;

/**
 * Inserts `values` (issued at once, in call order) and answers with the row they became: the table
 * adds its id and external_source_ids' default (nothing else: no trigger changes a new message).
 */
function insertStoredMessage(trx: Db, values: NewMessageValues): Promise<MessageRow> {
  return Promise.resolve(insertMessageRow(trx, values)).then(([{ id }]) => ({ id, ...values, external_source_ids: '{}' }));
}

/** A message's bookkeeping on its conversation (`id`): the given columns, and the list's render version, which it returns. */
const updateConversationActivity = precompiledRow((db, { id, ...set }: RowUpdate<'conversations'> & { id: number }) =>
  db
    .updateTable('conversations')
    .set((eb) => ({ ...set, render_version: eb('render_version', '+', 1) }))
    .where('id', '=', id)
    .returning('render_version'),
);

/**
 * The conversation as the transaction sees it, with the created_at of its N-th newest message
 * (Chatwoot's flood limit): one read for both. The walk to that message reads ids from the index
 * alone; only that one message's row is read (most conversations have fewer than N: none).
 * PostgreSQL: the row is locked first, so concurrent messages of one conversation take their turn
 * here (as the insert's render-version trigger would make them anyway) and each stamps its
 * created_at after the previous one committed: last_activity_at never moves back. (SQLite runs one
 * transaction at a time; its compiler leaves the lock out.)
 * PostgreSQL: the same read tells the message trigger that this transaction updates the
 * conversation itself (migration 0670, RENDER_BUMPED_SETTING = its id), so the insert does not
 * write the conversation row a second time.
 */
function lockedConversation(db: Kysely<Database>) {
  const read = db
    .selectFrom('conversations')
    .selectAll('conversations')
    .select((eb) =>
      eb
        .selectFrom('messages')
        .select('created_at')
        .where('messages.id', '=', (sub) =>
          sub
            .selectFrom('messages as recent')
            .select('recent.id')
            .whereRef('recent.conversation_id', '=', 'conversations.id')
            .orderBy('recent.id', 'desc')
            .limit(1)
            .offset(MESSAGES_PER_MINUTE - 1),
        )
        .as('nth_newest_message_at'),
    )
    .forUpdate('conversations');
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return read;
  return read.select(sql<null>`set_config(${RENDER_BUMPED_SETTING}, conversations.id::text, true)`.as('render_bumped')) as unknown as typeof read;
}
const conversationForMessage = precompiled((db, id: number) => lockedConversation(db).where('conversations.id', '=', id));
const conversationForMessageByDisplayId = precompiled((db, accountId: number, displayId: number) =>
  lockedConversation(db).where('conversations.account_id', '=', accountId).where('conversations.display_id', '=', displayId),
);
/** The locked read's row (PostgreSQL's also carries the set_config's `render_bumped`, which nothing reads). */
type LockedConversation = ConversationRow & { nth_newest_message_at: number | null; render_bumped?: null };

async function insertActivity(db: Db, conversation: ConversationRow, content: string, contentAttributes: JsonObject, at: number): Promise<MessageRow> {
  return db
    .insertInto('messages')
    .values({
      account_id: conversation.account_id,
      inbox_id: conversation.inbox_id,
      conversation_id: conversation.id,
      content,
      message_type: MESSAGE_TYPE.activity,
      content_type: 0,
      content_attributes: toJson(contentAttributes),
      private: 0,
      status: 0,
      processed_message_content: content,
      created_at: at,
      updated_at: at,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Runs `work` in the caller's transaction when `db` is one, otherwise in a new transaction. */
function inTransaction<T>(db: Db, work: (trx: Db) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db) : db.transaction().execute(work);
}

/**
 * Writes an activity message into the conversation's timeline (message_type 2, no sender)
 * and moves the conversation's last_activity_at, as every new message does. Works inside an
 * open transaction.
 */
export async function createActivityMessage(
  db: Db,
  conversation: ConversationRow,
  content: string,
  contentAttributes: Record<string, unknown> = {},
): Promise<MessageRow> {
  return inTransaction(db, async (trx) => {
    const t = now();
    const message = await insertActivity(trx, conversation, content, contentAttributes, t);
    await trx.updateTable('conversations').set({ last_activity_at: t, updated_at: t }).where('id', '=', conversation.id).execute();
    return message;
  });
}

/** Message#reopen_conversation's activity wording (ActivityMessageHandler#status_change_activity). */
function statusActivityContent(status: string, actor: Actor, systemReopen: boolean): string | null {
  if (systemReopen) return 'System reopened the conversation due to a new incoming message.';
  // Current.user is the token's owner: a user or an agent bot.
  const name = actor?.kind === 'user' ? actor.user.name : actor?.kind === 'bot' ? actor.bot.name : null;
  if (name === null) return null;
  switch (status) {
    case 'open':
      return `Conversation was reopened by ${name}`;
    case 'pending':
      return `Conversation was marked as pending by ${name}`;
    case 'resolved':
      return `Conversation was marked resolved by ${name}`;
    case 'snoozed':
      return `Conversation was snoozed by ${name}`;
    default:
      return null;
  }
}

interface Bookkeeping {
  conversation: ConversationRow;
  statusChangedTo: string | null;
  activityMessages: MessageRow[];
}

/** What the bookkeeping decides from: the new message's values (known before its insert is answered). */
type BookkeepingMessage = Pick<
  MessageRow,
  'message_type' | 'private' | 'sender_type' | 'sender_id' | 'content_attributes' | 'additional_attributes' | 'created_at'
>;

/**
 * PostgreSQL decides the same for the caller's reply in one statement (reply-statement.ts): a
 * change to the outgoing rules here (first reply, waiting_since, the flood limit) goes there too.
 *
 * Message's after-create callbacks, in Chatwoot's order: reopen_conversation,
 * set_conversation_activity, first reply / waiting_since, update_contact_activity. Its
 * statements must run after the message's insert (the first-reply check counts the new message);
 * they may be issued before the insert is answered, as a transaction runs its statements in order.
 */
async function applyMessageBookkeeping(
  trx: Db,
  conv: ConversationRow,
  message: BookkeepingMessage,
  actor: Actor,
  /** Called right after the transaction's last statement is issued, when this is it (commitAhead). */
  lastStatementIssued?: () => void,
): Promise<Bookkeeping> {
  const t = now();
  const changes: { status?: number; snoozed_until?: null; waiting_since?: number | null; first_reply_created_at?: number } = {};
  let statusChangedTo: string | null = null;
  let systemReopen = false;
  const incoming = message.message_type === MESSAGE_TYPE.incoming;
  const priv = message.private === 1;

  // reopen_conversation: incoming messages wake snoozed and resolved conversations, unless the contact is blocked (muted).
  if (incoming) {
    const contact = await trx.selectFrom('contacts').select('blocked').where('id', '=', conv.contact_id).executeTakeFirst();
    const muted = contact?.blocked === 1;
    if (!muted && conv.status === CONVERSATION_STATUS.snoozed) {
      statusChangedTo = 'open';
    } else if (!muted && conv.status === CONVERSATION_STATUS.resolved) {
      const activeBot = await trx
        .selectFrom('agent_bot_inboxes')
        .select('id')
        .where('inbox_id', '=', conv.inbox_id)
        .where('status', '=', 0)
        .executeTakeFirst();
      if (activeBot) {
        statusChangedTo = 'pending';
      } else {
        statusChangedTo = 'open';
        const inbox = await trx.selectFrom('inboxes').select('channel_type').where('id', '=', conv.inbox_id).executeTakeFirst();
        // API inboxes: a contact's message reopens "by the system" (Current.executed_by = contact).
        systemReopen =
          inbox?.channel_type === 'Channel::Api' && !priv && message.sender_type === 'Contact' && actor?.kind !== 'contact';
      }
    }
    if (statusChangedTo) {
      changes.status = CONVERSATION_STATUS[statusChangedTo as keyof typeof CONVERSATION_STATUS];
      changes.snoozed_until = null;
    }
  }

  // dispatch_create_events: the first human reply, else waiting_since upkeep.
  const { humanResponse, botResponse } = responseKind(message);
  let firstReply = false;
  if (humanResponse && !priv && conv.first_reply_created_at === null) {
    const earlier = await trx
      .selectFrom('messages')
      .select(['id', 'sender_type', 'additional_attributes'])
      .where('conversation_id', '=', conv.id)
      .where('message_type', '=', MESSAGE_TYPE.outgoing)
      .where('private', '=', 0)
      .orderBy('id')
      .limit(100)
      .execute();
    const human = earlier.filter(
      (m) => m.sender_type !== 'AgentBot' && !present(parseJson<JsonObject>(m.additional_attributes, {}).campaign_id),
    );
    firstReply = human.length <= 1;
  }
  if (firstReply) {
    changes.first_reply_created_at = message.created_at;
    changes.waiting_since = null;
  } else {
    let waiting = conv.waiting_since;
    if (waiting !== null && !priv && (humanResponse || botResponse)) {
      changes.waiting_since = null;
      waiting = null;
    }
    if (incoming && waiting === null) changes.waiting_since = message.created_at;
  }
  // handle_resolved_status_change has nothing to do here: messages only ever reopen.

  // The list's render version moves here, in the same row write, so the trigger that moves it
  // after any other update of the row (migration 0610) has nothing to do.
  const set = { ...changes, last_activity_at: message.created_at, updated_at: t };
  const updated = updateConversationActivity(trx, { ...set, id: conv.id });
  const contactActivity = message.sender_type === 'Contact' && message.sender_id !== null;
  // Nothing follows this update: the transaction may commit with it.
  if (!statusChangedTo && !contactActivity) lastStatementIssued?.();
  // The row as updated: the locked read's, with what the update set (no trigger changes another
  // column of a conversation's row; render_version, which the message's insert moved too, is read back).
  const [{ render_version }] = await updated;
  const conversation: ConversationRow = { ...conv, ...set, render_version };

  const activityMessages: MessageRow[] = [];
  if (statusChangedTo) {
    const content = statusActivityContent(statusChangedTo, actor, systemReopen);
    if (content) {
      const activity = await insertActivity(trx, conversation, content, {}, Math.max(t, message.created_at));
      activityMessages.push(activity);
    }
  }

  // update_contact_activity
  if (contactActivity) {
    await trx.updateTable('contacts').set({ last_activity_at: t }).where('id', '=', message.sender_id!).execute();
  }
  return { conversation, statusChangedTo, activityMessages };
}

/** Whether a new message is a human's response (its first one counts as the first reply) or a bot's (Message#human_response?, #bot_response?). */
function responseKind(message: Pick<MessageRow, 'message_type' | 'sender_type' | 'content_attributes' | 'additional_attributes'>): {
  humanResponse: boolean;
  botResponse: boolean;
} {
  const outgoing = message.message_type === MESSAGE_TYPE.outgoing;
  const humanResponse =
    outgoing &&
    message.sender_type === 'User' &&
    !present(parseJson<JsonObject>(message.content_attributes, {}).automation_rule_id) &&
    !present(parseJson<JsonObject>(message.additional_attributes, {}).campaign_id);
  return { humanResponse, botResponse: outgoing && message.sender_type === 'AgentBot' };
}

function present(v: unknown): boolean {
  if (v === undefined || v === null || v === false) return false;
  if (typeof v === 'string') return v.trim() !== '';
  if (Array.isArray(v)) return v.length > 0;
  if (isPlainObject(v)) return Object.keys(v).length > 0;
  return true;
}

// ---- creation ----

/** Chatwoot's prevent_message_flooding: at most N messages a minute in one conversation. */
function assertNotFlooding(nthNewestMessageAt: number | null): void {
  if (nthNewestMessageAt !== null && nthNewestMessageAt >= now() - 60_000) validationFailed(['Too many messages']);
}

async function resolveSender(db: Db, conversation: ConversationRow, input: CreateMessageInput, messageType: number): Promise<MessageSender | null> {
  if (input.sender !== undefined) return input.sender;
  // MessageBuilder#sender: outgoing messages come from the caller (or a named agent bot), everything else from the contact.
  if (messageType !== MESSAGE_TYPE.outgoing) return { type: 'Contact', id: conversation.contact_id };
  if (input.sender_type === 'AgentBot') {
    const botId = Number(input.sender_id);
    if (isRecordId(botId)) {
      const bot = await db
        .selectFrom('agent_bots')
        .select('id')
        .where('id', '=', botId)
        .where((eb) => eb.or([eb('account_id', 'is', null), eb('account_id', '=', conversation.account_id)]))
        .executeTakeFirst();
      if (bot) return { type: 'AgentBot', id: bot.id };
    }
  }
  return actorAsSender(input.actor);
}

/** The sender of a message its caller sends. */
function actorAsSender(actor: Actor): MessageSender | null {
  if (actor?.kind === 'user') return { type: 'User', id: actor.user.id };
  if (actor?.kind === 'bot') return { type: 'AgentBot', id: actor.bot.id };
  if (actor?.kind === 'contact') return { type: 'Contact', id: actor.contactId };
  return null;
}

/** What a message creation decides from its input alone (MessageBuilder's casts and the validations that need no row). */
interface MessageDraft {
  messageType: number;
  contentType: number;
  isPrivate: boolean;
  content: string | null;
  contentAttributes: JsonObject;
  additional: JsonObject;
}

function draftMessage(input: CreateMessageInput): MessageDraft {
  const messageType = enumIndex(MESSAGE_TYPES, input.message_type, 'message_type', 'outgoing');
  const contentType = enumIndex(CONTENT_TYPES, input.content_type, 'content_type', 'text');
  const isPrivate = castBoolean(input.private) ?? false;
  const content = input.content === undefined || input.content === null ? null : typeof input.content === 'string' ? input.content : String(input.content);

  const contentAttributes = parseContentAttributes(input.content_attributes);
  if (present(input.external_created_at)) contentAttributes.external_created_at = input.external_created_at;
  const additional: JsonObject = { ...(input.additional_attributes ?? {}) };
  if (present(input.campaign_id)) additional.campaign_id = input.campaign_id;
  if (present(input.template_params)) {
    const tp = typeof input.template_params === 'string' ? safeParse(input.template_params) : input.template_params;
    additional.template_params = tp;
  }

  const problems: string[] = [];
  if (content !== null && content.length > MAX_CONTENT_LENGTH) problems.push(`Content is too long (maximum is ${MAX_CONTENT_LENGTH} characters)`);
  problems.push(...contentAttributeProblems(CONTENT_TYPES[contentType], contentAttributes));
  if (additional.template_params !== undefined) {
    const tp = additional.template_params;
    if (!isPlainObject(tp)) problems.push('Template params must be of type object');
    else if (typeof tp.name !== 'string') problems.push(tp.name === undefined ? 'Name is required' : 'Name must be of type string');
  }
  const fileCount = (input.files?.length ?? 0) + (input.externalAttachments?.length ?? 0);
  if (fileCount > MAX_ATTACHMENTS) problems.push('Attachments exceeded maximum allowed');
  if (problems.length > 0) validationFailed(problems);
  return { messageType, contentType, isPrivate, content, contentAttributes, additional };
}

/**
 * A conversation for the message's own transaction to find, lock and authorize in one read
 * (insertMessage), instead of a read before the transaction and the locked one in it. Only for
 * outgoing messages of the caller (isCallersReply): a contact's message must lock the contact
 * before the conversation (lockContact), so it needs the conversation's contact first.
 */
export interface ConversationRef {
  accountId: number;
  displayId: number;
  /** Who is asking: the transaction answers Chatwoot's 401 unless it allows the conversation (PostgreSQL's reply statement decides it in SQL). */
  access: ConversationAccess;
}

/** Whether `input` makes an outgoing message sent by its user or bot (what a ConversationRef may create). */
export function isCallersReply(input: CreateMessageInput): boolean {
  const type = input.message_type;
  const outgoing = type === undefined || type === null || type === '' || type === 'outgoing';
  return outgoing && input.sender === undefined && (input.actor?.kind === 'user' || input.actor?.kind === 'bot');
}

/** The new message's own columns (its conversation's are the caller's to add). */
function messageColumns(draft: MessageDraft, sender: MessageSender | null, input: CreateMessageInput, t: number): ReplyColumns {
  const { messageType, contentType, isPrivate, content, contentAttributes, additional } = draft;
  const emailQuoted = isPlainObject(contentAttributes.email) ? quotedEmail(contentAttributes.email) : null;
  return {
    content,
    message_type: messageType,
    content_type: contentType,
    content_attributes: toJson(contentAttributes),
    private: isPrivate ? 1 : 0,
    status: MESSAGE_STATUSES.indexOf(input.status ?? 'sent'),
    source_id: optionalString(input.source_id),
    echo_id: optionalString(input.echo_id),
    sender_type: sender?.type ?? null,
    sender_id: sender?.id ?? null,
    additional_attributes: toJson(additional),
    processed_message_content: (emailQuoted ?? content)?.slice(0, MAX_CONTENT_LENGTH) ?? null,
    created_at: t,
  };
}

/** The message, its attachments and the conversation's bookkeeping, on the conversation as its locked read found it. */
async function writeMessage(
  trx: Db,
  current: LockedConversation,
  draft: MessageDraft,
  sender: MessageSender | null,
  input: CreateMessageInput,
  lastStatementIssued?: () => void,
): Promise<CreatedMessage> {
  const { nth_newest_message_at: nthNewestMessageAt, render_bumped: _, ...conversation } = current;
  assertNotFlooding(nthNewestMessageAt);
  const t = now();
  const values = {
    account_id: conversation.account_id,
    inbox_id: conversation.inbox_id,
    conversation_id: conversation.id,
    ...messageColumns(draft, sender, input, t),
    updated_at: t,
  };

  // Stored files, then external ones (locations, fallbacks, contacts, embeds), in that order.
  const attachmentValues = [
    ...(input.files ?? []).map((file) => ({
      file_type: FILE_TYPES.indexOf(fileTypeFor(file.contentType)),
      file_key: file.fileKey,
      file_name: file.fileName,
      content_type: file.contentType,
      byte_size: file.byteSize,
      meta: toJson(file.meta ?? {}),
    })),
    ...(input.externalAttachments ?? []).map((ext) => ({
      file_type: FILE_TYPES.indexOf(ext.fileType),
      external_url: ext.externalUrl ?? null,
      coordinates_lat: ext.coordinatesLat ?? 0,
      coordinates_long: ext.coordinatesLong ?? 0,
      fallback_title: ext.fallbackTitle ?? null,
      extension: ext.extension ?? null,
      meta: toJson(ext.meta ?? {}),
    })),
  ];
  const attachments: AttachmentRow[] = [];
  let message: MessageRow;
  let book: Bookkeeping;
  if (attachmentValues.length === 0) {
    // The bookkeeping's statements go out right behind the insert (PostgreSQL: in one write,
    // db/precompiled.ts), instead of after its answer.
    [message, book] = await Promise.all([
      insertStoredMessage(trx, values),
      applyMessageBookkeeping(trx, conversation, values, input.actor, lastStatementIssued),
    ]);
  } else {
    message = await insertStoredMessage(trx, values);
    for (const attachment of attachmentValues) {
      attachments.push(
        await trx
          .insertInto('attachments')
          .values({ ...attachment, account_id: conversation.account_id, message_id: message.id, created_at: t, updated_at: t })
          .returningAll()
          .executeTakeFirstOrThrow(),
      );
    }
    book = await applyMessageBookkeeping(trx, conversation, message, input.actor, lastStatementIssued);
  }
  return {
    message,
    attachments,
    conversation: book.conversation,
    activityMessages: book.activityMessages,
    statusChangedTo: book.statusChangedTo,
    echoId: message.echo_id,
  };
}

/**
 * Messages::MessageBuilder + Message's callbacks, inside `db`'s transaction (a new one when
 * `db` is not a transaction). Files must already be in storage; the caller removes them if
 * this throws. Emits nothing: call emitMessageCreated after the commit.
 */
export async function insertMessage(
  db: Db,
  target: ConversationRow | ConversationRef,
  input: CreateMessageInput,
  /** The caller's transaction ends when this returns (createMessage's does): its COMMIT may leave with the last statement. */
  options: { endsTransaction?: boolean } = {},
): Promise<CreatedMessage> {
  const owns = options.endsTransaction === true || !db.isTransaction;
  const lastStatementIssued = (trx: Db) => (owns ? () => commitAhead(trx) : undefined);
  if (!('id' in target)) {
    return inTransaction(db, async (trx) => {
      if (!isRecordId(target.displayId)) throw notFound();
      const [current] = await conversationForMessageByDisplayId(trx, target.accountId, target.displayId);
      if (!current) throw notFound();
      if (!(await conversationAllows(trx, target.access, current))) throw unauthorized();
      const draft = draftMessage(input);
      if (!isCallersReply(input)) throw new Error('a ConversationRef only creates outgoing messages of the caller');
      return writeMessage(trx, current, draft, await resolveSender(trx, current, input, draft.messageType), input, lastStatementIssued(trx));
    });
  }
  const conversation = target;
  const draft = draftMessage(input);
  const { messageType } = draft;
  return inTransaction(db, async (trx) => {
    if (messageType === MESSAGE_TYPE.incoming && !input.allowIncomingOnAnyInbox) {
      const inbox = await trx.selectFrom('inboxes').select('channel_type').where('id', '=', conversation.inbox_id).executeTakeFirst();
      if (inbox?.channel_type !== 'Channel::Api') throw unprocessable('Incoming messages are only allowed in Api inboxes');
    }
    const sender = await resolveSender(trx, conversation, input, messageType);
    // A contact's message updates the contact (update_contact_activity): the contact is locked
    // before the conversation (lockContact tells why).
    if (sender?.type === 'Contact') await lockContact(trx, sender.id);
    // Read in the transaction: what the bookkeeping decides from (status, first reply, waiting) is
    // the conversation as it is now, not as the request loaded it. Only render_version moves
    // before the bookkeeping's update (SQLite: the insert's trigger), and that update adds to it.
    // PostgreSQL: the same read tells the trigger to leave it (the bookkeeping below always
    // updates the conversation).
    const [current] = await conversationForMessage(trx, conversation.id);
    if (!current) throw notFound();
    return writeMessage(trx, current, draft, sender, input, lastStatementIssued(trx));
  });
}

function safeParse(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function quotedEmail(email: JsonObject): string | null {
  const text = isPlainObject(email.text_content) ? email.text_content.quoted : undefined;
  const html = isPlainObject(email.html_content) ? email.html_content.quoted : undefined;
  const q = typeof text === 'string' && text !== '' ? text : typeof html === 'string' && html !== '' ? html : null;
  return q;
}

/** FileTypeHelper#file_type: image/*, audio/*, video/* by MIME type, everything else a file. */
export function fileTypeFor(contentType: string | null | undefined): FileTypeName {
  const ct = (contentType ?? '').toLowerCase();
  if (ct.startsWith('image/')) return 'image';
  if (ct.startsWith('audio/')) return 'audio';
  if (ct.startsWith('video/')) return 'video';
  return 'file';
}

/** Emits message.created (and the conversation events the message caused) once the transaction has committed. */
export function emitMessageCreated(ctx: AppContext, created: CreatedMessage): void {
  const accountId = created.message.account_id;
  const conversationId = created.message.conversation_id;
  ctx.events.emit('message.created', { accountId, conversationId, messageId: created.message.id });
  if (created.statusChangedTo) {
    ctx.events.emit('conversation.status_changed', { accountId, conversationId, status: created.statusChangedTo });
  }
  for (const activity of created.activityMessages) {
    ctx.events.emit('message.created', { accountId, conversationId, messageId: activity.id });
  }
  ctx.events.emit('conversation.updated', {
    accountId,
    conversationId,
    changed: created.statusChangedTo ? ['last_activity_at', 'status', 'waiting_since'] : ['last_activity_at', 'waiting_since'],
  });
}

/**
 * Creates a message the way every entry point does (REST, Client API, widget): validates,
 * writes message + attachments + conversation bookkeeping in one transaction, then emits.
 * Stored files are deleted again when the creation fails.
 */
export async function createMessage(ctx: AppContext, conversation: ConversationRow | ConversationRef, input: CreateMessageInput): Promise<CreatedMessage> {
  let created: CreatedMessage;
  try {
    created =
      (await replyAtOnce(ctx, conversation, input)) ??
      (await ctx.db.transaction().execute((trx) => insertMessage(trx, conversation, input, { endsTransaction: true })));
  } catch (error) {
    await removeStoredFiles(ctx, (input.files ?? []).map((f) => f.fileKey));
    throw error;
  }
  emitMessageCreated(ctx, created);
  return created;
}

/**
 * PostgreSQL: the caller's reply without files in one statement (reply-statement.ts tells why),
 * with the transaction's answers: 404, 401, then the draft's 422s, then the flood limit's. Null
 * when the transaction must make it: SQLite, a conversation given as a row, files, another
 * sender (sender_type), or a draft that fails its validation (the transaction answers its 404 and
 * 401 first).
 */
async function replyAtOnce(ctx: AppContext, target: ConversationRow | ConversationRef, input: CreateMessageInput): Promise<CreatedMessage | null> {
  if (ctx.config.engine !== 'postgres' || 'id' in target || !isCallersReply(input)) return null;
  if ((input.files?.length ?? 0) > 0 || (input.externalAttachments?.length ?? 0) > 0 || input.sender_type === 'AgentBot') return null;
  if (!isRecordId(target.displayId)) throw notFound();
  let draft: MessageDraft;
  try {
    draft = draftMessage(input);
  } catch {
    return null;
  }
  const columns = messageColumns(draft, actorAsSender(input.actor), input, now());
  const { humanResponse, botResponse } = responseKind(columns);
  const outcome = await insertReplyAtOnce(ctx.db, {
    accountId: target.accountId,
    displayId: target.displayId,
    access: target.access,
    messagesPerMinute: MESSAGES_PER_MINUTE,
    columns,
    mayBeFirstReply: humanResponse && !draft.isPrivate,
    clearsWaiting: !draft.isPrivate && (humanResponse || botResponse),
  });
  if (!outcome.written) {
    if (outcome.refusal === 'not found') throw notFound();
    if (outcome.refusal === 'unauthorized') throw unauthorized();
    validationFailed(['Too many messages']);
  }
  const { message, conversation } = outcome;
  return { message, attachments: [], conversation, activityMessages: [], statusChangedTo: null, echoId: message.echo_id };
}

export async function removeStoredFiles(ctx: AppContext, keys: (string | null)[]): Promise<void> {
  const storage = storageFor(ctx.config);
  for (const key of keys) {
    if (!key) continue;
    try {
      await storage.delete(key);
    } catch (error) {
      ctx.log.warn({ err: error, key }, 'could not delete stored file');
    }
  }
}

// ---- reading, updating, deleting ----

export async function findMessage(db: Db, conversation: ConversationRow, rawId: unknown): Promise<MessageRow> {
  const id = recordId(rawId);
  const row = await db.selectFrom('messages').selectAll().where('id', '=', id).where('conversation_id', '=', conversation.id).executeTakeFirst();
  if (!row) throw notFound();
  return row;
}

/**
 * Messages::StatusUpdateService: any known status, except read → delivered; `external_error`
 * is kept only with failed. Returns null (nothing changed) when the transition is refused.
 */
export async function updateMessageStatus(
  ctx: AppContext,
  message: MessageRow,
  status: unknown,
  externalError?: unknown,
): Promise<MessageRow> {
  const name = typeof status === 'string' ? status : '';
  const index = MESSAGE_STATUSES.indexOf(name as MessageStatusName);
  if (index < 0) return message;
  if (message.status === MESSAGE_STATUSES.indexOf('read') && name === 'delivered') return message;
  const attrs = parseJson<JsonObject>(message.content_attributes, {});
  // update!(status:, external_error: (failed ? external_error : nil)) leaves the key, null when not failed.
  attrs.external_error = name === 'failed' && externalError !== undefined ? externalError : null;
  const updated = await ctx.db
    .updateTable('messages')
    .set({ status: index, content_attributes: toJson(attrs), updated_at: now() })
    .where('id', '=', message.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  ctx.events.emit('message.updated', { accountId: updated.account_id, conversationId: updated.conversation_id, messageId: updated.id });
  return updated;
}

/** MessagesController#destroy: the message stays, emptied; its attachments go (rows and files). */
export async function deleteMessage(ctx: AppContext, message: MessageRow): Promise<MessageRow> {
  const { updated, keys } = await ctx.db.transaction().execute(async (trx) => {
    const rows = await trx.selectFrom('attachments').select('file_key').where('message_id', '=', message.id).execute();
    await trx.deleteFrom('attachments').where('message_id', '=', message.id).execute();
    const row = await trx
      .updateTable('messages')
      .set({
        content: DELETED_MESSAGE_CONTENT,
        processed_message_content: DELETED_MESSAGE_CONTENT,
        content_type: 0,
        content_attributes: toJson({ deleted: true }),
        updated_at: now(),
      })
      .where('id', '=', message.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return { updated: row, keys: rows.map((r) => r.file_key) };
  });
  await removeStoredFiles(ctx, keys);
  ctx.events.emit('message.updated', { accountId: updated.account_id, conversationId: updated.conversation_id, messageId: updated.id });
  return updated;
}

export const conversationStatusName = (n: number): string => CONVERSATION_STATUS_NAMES[n] ?? 'open';
