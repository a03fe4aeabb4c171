import { sql, type ExpressionBuilder, type Kysely, type RawBuilder } from 'kysely';
import { precompiledIn } from '../../db/precompiled.js';
import type { Db } from '../../context.js';
import { parseJson, type JsonObject } from '../../db/json.js';
import type { Database, Row } from '../../db/types.js';
import { EpochCache } from '../../db/epochs.js';
import { readAuthEpoch } from '../../auth/cache.js';
import { isoTime, unixSeconds } from '../../db/time.js';
import { userPushData } from '../users/presenter.js';
import { contactPushData, contactsByIds, type ContactPushRow } from '../contacts/presenter.js';
import { contentTypeName, fileTypeName, messageStatusName, MESSAGE_TYPE, type AttachmentRow, type MessageRow } from './service.js';
import { attachmentUrl } from './files.js';

type Out = Record<string, unknown>;

/** AgentBot#push_event_data(inbox): the bot's avatar, falling back to the inbox's. */
function agentBotSenderData(bot: Row<'agent_bots'>, inboxAvatar?: string | null): Out {
  return { id: bot.id, name: bot.name, avatar_url: bot.avatar_url ?? inboxAvatar ?? '', type: 'agent_bot' };
}

type SenderUser = Pick<Row<'users'>, 'id' | 'name' | 'display_name' | 'avatar_url'>;
type SenderMembership = Pick<Row<'account_users'>, 'account_id' | 'user_id' | 'availability' | 'auto_offline'>;
interface UserSender {
  user: SenderUser;
  membership: SenderMembership | null;
}

// Users and memberships change rarely and every page of messages shows the same few agents:
// reused while the auth epoch (which covers both tables, inserts included) stands.
const userSenderCache = new EpochCache<UserSender>();

/** Message senders that are users, with their membership in each account, keyed "account:user". */
async function userSenders(db: Db, userIds: number[], accountIds: number[], knownEpoch?: number): Promise<Map<string, UserSender>> {
  if (userIds.length === 0) return new Map();
  const epoch = knownEpoch ?? (await readAuthEpoch(db));
  const keys = accountIds.flatMap((a) => userIds.map((u) => `${a}:${u}`));
  return userSenderCache.getMany(db as Kysely<Database>, epoch, keys, async (missing) => {
    const pairs = missing.map((key) => key.split(':').map(Number) as [number, number]);
    const missingUsers = [...new Set(pairs.map(([, u]) => u))];
    const [users, memberships] = await Promise.all([
      db.selectFrom('users').select(['id', 'name', 'display_name', 'avatar_url']).where('id', 'in', missingUsers).execute(),
      db
        .selectFrom('account_users')
        .select(['account_id', 'user_id', 'availability', 'auto_offline'])
        .where('user_id', 'in', missingUsers)
        .where('account_id', 'in', [...new Set(pairs.map(([a]) => a))])
        .execute(),
    ]);
    const byId = new Map(users.map((u) => [u.id, u]));
    const byKey = new Map(memberships.map((m) => [`${m.account_id}:${m.user_id}`, m]));
    const loaded = new Map<string, UserSender>();
    for (const [key, [, userId]] of missing.map((k, i) => [k, pairs[i]] as const)) {
      const user = byId.get(userId);
      if (user) loaded.set(key, { user, membership: byKey.get(key) ?? null });
    }
    return loaded;
  });
}

/** User#push_event_data for a user in an account (a message sender, a conversation's assignee); null: no such user. */
export async function userSenderData(db: Db, accountId: number, userId: number, authEpoch?: number): Promise<Out | null> {
  const found = (await userSenders(db, [userId], [accountId], authEpoch)).get(`${accountId}:${userId}`);
  return found ? userPushData(found.user, found.membership) : null;
}

/** Everything a batch of messages refers to, loaded with one query per table. */
interface MessageContext {
  displayIds: Map<number, number>;
  senders: Map<string, Out>;
  attachments: Map<number, AttachmentRow[]>;
}

const senderKey = (type: string | null, id: number | null) => `${type}:${id}`;

/** The columns the message partial shows or finds its sender and attachments by (the messages index reads only these). */
export const MESSAGE_PARTIAL_COLUMNS = [
  'id',
  'account_id',
  'inbox_id',
  'conversation_id',
  'content',
  'message_type',
  'content_type',
  'content_attributes',
  'private',
  'status',
  'source_id',
  'echo_id',
  'sender_type',
  'sender_id',
  'created_at',
] as const;
export type MessagePartialRow = Pick<MessageRow, (typeof MESSAGE_PARTIAL_COLUMNS)[number]> & {
  /** Whether the message has attachments, when the query that read it said so (finder.ts): no lookup for those without. */
  has_attachments?: number | boolean;
};

/** Whether each message has attachments (an index probe per row; most have none, and then their lookup is skipped). */
export const attachmentsExist = (eb: ExpressionBuilder<Database, 'messages'>) =>
  eb.exists(eb.selectFrom('attachments').select('attachments.id').whereRef('attachments.message_id', '=', 'messages.id'));
export const hasAttachments = (eb: ExpressionBuilder<Database, 'messages'>) => attachmentsExist(eb).as('has_attachments');

/** The attachments of a page of messages: one compiled statement per number of messages. */
const attachmentsOfMessages = precompiledIn((db, messageIds) => db.selectFrom('attachments').selectAll().where('message_id', 'in', messageIds).orderBy('id'));

const displayIdsOf = precompiledIn((db, ids) => db.selectFrom('conversations').select(['id', 'display_id']).where('id', 'in', ids));
/** Agent bots by id (message senders, conversation assignees). */
export const agentBotsByIds = precompiledIn((db, ids) => db.selectFrom('agent_bots').selectAll().where('id', 'in', ids));

async function loadContext(db: Db, rows: MessagePartialRow[], options: PresentOptions): Promise<MessageContext> {
  const { displayIds: knownDisplayIds, authEpoch } = options;
  const knownContacts = new Map<number, ContactPushRow>((options.contacts ?? []).map((c) => [c.id, c]));
  const ids = rows.filter((r) => r.has_attachments === undefined || Boolean(r.has_attachments)).map((r) => r.id);
  // Conversation display ids the caller already has need no query.
  const conversationIds = [...new Set(rows.map((r) => r.conversation_id))].filter((id) => !knownDisplayIds?.has(id));
  const idsOf = (type: string) => [...new Set(rows.filter((r) => r.sender_type === type && r.sender_id !== null).map((r) => r.sender_id!))];
  const userIds = idsOf('User');
  const contactIds = idsOf('Contact').filter((id) => !knownContacts.has(id));
  const botIds = idsOf('AgentBot');
  const accountIds = [...new Set(rows.map((r) => r.account_id))];

  const [conversations, userSenderRows, contacts, bots, attachments] = await Promise.all([
    conversationIds.length ? displayIdsOf(db, conversationIds) : [],
    userSenders(db, userIds, accountIds, authEpoch),
    contactIds.length ? contactsByIds(db, contactIds) : [],
    botIds.length ? agentBotsByIds(db, botIds) : [],
    options.attachments ?? (ids.length ? attachmentsOfMessages(db, ids) : []),
  ]);

  const senders = new Map<string, Out>();
  // A user's availability is per account; render it for the account of each message.
  for (const r of rows) {
    if (r.sender_type !== 'User' || r.sender_id === null) continue;
    const found = userSenderRows.get(`${r.account_id}:${r.sender_id}`);
    if (found) senders.set(`User:${r.sender_id}:${r.account_id}`, userPushData(found.user, found.membership));
  }
  for (const c of [...knownContacts.values(), ...contacts]) senders.set(senderKey('Contact', c.id), contactPushData(c));
  for (const b of bots) senders.set(senderKey('AgentBot', b.id), agentBotSenderData(b));

  const byMessage = new Map<number, AttachmentRow[]>();
  for (const a of attachments) {
    const list = byMessage.get(a.message_id);
    if (list) list.push(a);
    else byMessage.set(a.message_id, [a]);
  }
  const displayIds = new Map(knownDisplayIds);
  for (const c of conversations) displayIds.set(c.id, c.display_id);
  return { displayIds, senders, attachments: byMessage };
}

function senderOf(ctx: MessageContext, row: MessagePartialRow): Out | undefined {
  if (row.sender_type === null || row.sender_id === null) return undefined;
  if (row.sender_type === 'User') return ctx.senders.get(`User:${row.sender_id}:${row.account_id}`);
  return ctx.senders.get(senderKey(row.sender_type, row.sender_id));
}

/** Attachment#push_event_data, by file type. */
export function attachmentPushData(a: AttachmentRow): Out {
  const fileType = fileTypeName(a.file_type);
  const base: Out = { id: a.id, message_id: a.message_id, file_type: fileType, account_id: a.account_id };
  const meta = parseJson<JsonObject>(a.meta, {});
  switch (fileType) {
    case 'location':
      return {
        ...base,
        coordinates_lat: a.coordinates_lat,
        coordinates_long: a.coordinates_long,
        fallback_title: a.fallback_title,
        data_url: a.external_url,
      };
    case 'fallback':
      return { ...base, fallback_title: a.fallback_title, data_url: a.external_url };
    case 'contact':
      return { ...base, fallback_title: a.fallback_title, meta };
    case 'embed':
      return { ...base, data_url: a.external_url };
    default: {
      const url = a.file_key ? attachmentUrl(a) : (a.external_url ?? '');
      const out: Out = {
        ...base,
        extension: a.extension,
        data_url: url,
        thumb_url: fileType === 'image' ? url : a.file_key ? '' : (a.external_url ?? ''),
        file_size: a.byte_size ?? 0,
        width: typeof meta.width === 'number' ? meta.width : null,
        height: typeof meta.height === 'number' ? meta.height : null,
      };
      if (fileType === 'audio') out.transcribed_text = typeof meta.transcribed_text === 'string' ? meta.transcribed_text : '';
      return out;
    }
  }
}

function messageShape(ctx: MessageContext, row: MessagePartialRow, echo: boolean): Out {
  const out: Out = {
    id: row.id,
    content: row.content,
    inbox_id: row.inbox_id,
  };
  if (echo && row.echo_id) out.echo_id = row.echo_id;
  out.conversation_id = ctx.displayIds.get(row.conversation_id) ?? null;
  out.message_type = row.message_type;
  out.content_type = contentTypeName(row.content_type);
  out.status = messageStatusName(row.status);
  out.content_attributes = parseJson<JsonObject>(row.content_attributes, {});
  out.created_at = unixSeconds(row.created_at);
  out.private = row.private === 1;
  out.source_id = row.source_id;
  const sender = senderOf(ctx, row);
  if (sender) out.sender = sender;
  const attachments = ctx.attachments.get(row.id);
  if (attachments?.length) out.attachments = attachments.map((a) => attachmentPushData(a));
  return out;
}

/**
 * api/v1/models/_message.json.jbuilder for a batch of messages (the messages index, create,
 * update, destroy). Senders and attachments are loaded with one query each.
 * `echo`: include echo_id (only the create response knows it in Chatwoot). `displayIds`:
 * conversation id → display id the caller already has.
 */
export interface PresentOptions {
  echo?: boolean;
  displayIds?: Map<number, number>;
  /** The request's auth epoch when it has one (saves reading it again for the sender cache). */
  authEpoch?: number;
  /** Contacts the caller already has (a conversation's contact): not read again as senders. */
  contacts?: ContactPushRow[];
  /** Every attachment of these messages, when the caller has them (it just created them). */
  attachments?: AttachmentRow[];
}

export async function presentMessages(db: Db, rows: MessagePartialRow[], options: PresentOptions = {}): Promise<Out[]> {
  if (rows.length === 0) return [];
  const ctx = await loadContext(db, rows, options);
  return rows.map((row) => messageShape(ctx, row, options.echo === true));
}

export async function presentMessage(db: Db, row: MessageRow, options: PresentOptions = {}): Promise<Out> {
  return (await presentMessages(db, [row], options))[0];
}

/** Conversation#unread_incoming_messages.count, for many conversations: incoming since agent_last_seen_at, at most 10. */
export async function unreadCounts(db: Db, conversationIds: number[]): Promise<Map<number, number>> {
  if (conversationIds.length === 0) return new Map();
  const rows = await unreadOf(db, conversationIds);
  return new Map(rows.map((r) => [r.conversation_id, Math.min(Number(r.n), 10)]));
}

const unreadOf = precompiledIn((db, conversationIds) =>
  db
    .selectFrom('messages')
    .innerJoin('conversations', 'conversations.id', 'messages.conversation_id')
    .select(['messages.conversation_id'])
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('messages.conversation_id', 'in', conversationIds)
    .where('messages.message_type', '=', MESSAGE_TYPE.incoming)
    .where((eb) =>
      eb.or([eb('conversations.agent_last_seen_at', 'is', null), eb('messages.created_at', '>', eb.ref('conversations.agent_last_seen_at'))]),
    )
    .groupBy('messages.conversation_id'),
);

// messagePushData's conversation columns, with the contact inbox's source id.
const pushConversationsOf = precompiledIn((db, conversationIds) =>
  db
    .selectFrom('conversations')
    .leftJoin('contact_inboxes', 'contact_inboxes.id', 'conversations.contact_inbox_id')
    .select(['conversations.id', 'conversations.assignee_id', 'conversations.last_activity_at', 'conversations.created_at', 'contact_inboxes.source_id'])
    .where('conversations.id', 'in', conversationIds),
);

/** The conversation columns a message's push data shows, with its contact inbox's source id. */
export type PushConversation = Awaited<ReturnType<typeof pushConversationsOf>>[number];

export interface PushDataOptions {
  echo?: boolean;
  displayIds?: Map<number, number>;
  unread?: Promise<Map<number, number>>;
  /** Contacts the caller is reading anyway (a page's contacts): not read again as senders. */
  contacts?: Promise<ContactPushRow[]>;
  /** The messages' conversations, when the caller has them (with their contact inboxes' source ids). */
  conversations?: Promise<PushConversation[]>;
  /** The request's auth epoch, when it has one (senders are cached at it). */
  authEpoch?: number;
}

/**
 * Message#push_event_data for a batch: every column, created_at in seconds, the conversation's
 * display id and summary, sender and attachments. The shape inside conversation lists,
 * WebSocket broadcasts and webhooks' `messages` arrays. `echo: false` leaves out echo_id
 * (Chatwoot only has it in the broadcast right after the creation).
 */
export async function messagePushData(db: Db, rows: MessageRow[], options: PushDataOptions = {}): Promise<Out[]> {
  if (rows.length === 0) return [];
  const conversationIds = [...new Set(rows.map((r) => r.conversation_id))];
  // Read together: one round trip on PostgreSQL.
  const [ctx, conversations, unread, inboxes] = await Promise.all([
    (options.contacts ?? Promise.resolve(undefined)).then((contacts) => loadContext(db, rows, { displayIds: options.displayIds, contacts, authEpoch: options.authEpoch })),
    options.conversations ?? pushConversationsOf(db, conversationIds),
    options.unread ?? unreadCounts(db, conversationIds),
    rows.some((r) => r.sender_type === 'AgentBot')
      ? db.selectFrom('inboxes').select(['id', 'avatar_url']).where('id', 'in', [...new Set(rows.map((r) => r.inbox_id))]).execute()
      : [],
  ]);
  const convById = new Map(conversations.map((c) => [c.id, c]));
  const inboxAvatar = new Map(inboxes.map((i) => [i.id, i.avatar_url]));
  return rows.map((row) => {
    const conv = convById.get(row.conversation_id);
    const data: Out = {
      id: row.id,
      content: row.content,
      account_id: row.account_id,
      inbox_id: row.inbox_id,
      conversation_id: ctx.displayIds.get(row.conversation_id) ?? null,
      message_type: row.message_type,
      created_at: unixSeconds(row.created_at),
      updated_at: isoTime(row.updated_at),
      private: row.private === 1,
      status: messageStatusName(row.status),
      source_id: row.source_id,
      content_type: contentTypeName(row.content_type),
      content_attributes: parseJson<JsonObject>(row.content_attributes, {}),
      sender_type: row.sender_type,
      sender_id: row.sender_id,
      external_source_ids: parseJson<JsonObject>(row.external_source_ids, {}),
      additional_attributes: parseJson<JsonObject>(row.additional_attributes, {}),
      processed_message_content: row.processed_message_content,
      sentiment: {},
      conversation: conv
        ? {
            assignee_id: conv.assignee_id,
            unread_count: unread.get(conv.id) ?? 0,
            last_activity_at: unixSeconds(conv.last_activity_at ?? conv.created_at),
            contact_inbox: { source_id: conv.source_id ?? null },
          }
        : null,
    };
    if (options.echo !== false && row.echo_id) data.echo_id = row.echo_id;
    const attachments = ctx.attachments.get(row.id);
    if (attachments?.length) data.attachments = attachments.map((a) => attachmentPushData(a));
    if (row.sender_type === 'AgentBot' && row.sender_id !== null) {
      const bot = ctx.senders.get(senderKey('AgentBot', row.sender_id));
      if (bot) data.sender = { ...bot, avatar_url: bot.avatar_url || inboxAvatar.get(row.inbox_id) || '' };
    } else {
      const sender = senderOf(ctx, row);
      if (sender) data.sender = sender;
    }
    return data;
  });
}

/**
 * Each conversation's last message (chat-only or any) and last non-activity message, read in one
 * statement: the ids come from the (conversation_id, id) index entries of these conversations.
 */
const lastMessagesOf = (lastId: RawBuilder<unknown>) =>
  precompiledIn((db, ids) =>
    db
      .selectFrom('messages')
      .selectAll()
      .select(hasAttachments)
      .where((eb) =>
        eb(
          'messages.id',
          'in',
          sql<number>`(select ${lastId} from messages m where m.conversation_id in (${sql.join(ids)}) group by m.conversation_id
          union select max(case when m.message_type <> ${MESSAGE_TYPE.activity} then m.id end) from messages m where m.conversation_id in (${sql.join(ids)}) group by m.conversation_id)`,
        ),
      ),
  );
const lastMessages = lastMessagesOf(sql`max(m.id)`);
const lastChatMessages = lastMessagesOf(sql`max(case when m.message_type <> ${MESSAGE_TYPE.activity} and m.private = 0 then m.id end)`);

export interface ConversationMessageSummary {
  /** `[last message]` (any type, as the conversation list renders it) or `[]`. */
  messages: Out[];
  /** The latest message that is not an activity, or null. */
  last_non_activity_message: Out | null;
}

/**
 * For the conversation list (api/v1/conversations/partials/_conversation): each conversation's
 * last message and last non-activity message in Message#push_event_data shape, in a fixed number
 * of queries however many conversations. `chatOnly`: the last message excludes activities and
 * private notes (Conversations::EventDataPresenter#push_messages, used by WebSocket payloads).
 * `known`: conversations the caller has loaded (their display ids need no query); `unread`: the
 * caller's unread counts of these conversations, so they are counted once.
 */
export async function conversationMessageSummaries(
  db: Db,
  conversationIds: number[],
  options: Pick<PushDataOptions, 'unread' | 'contacts' | 'conversations' | 'authEpoch'> & {
    chatOnly?: boolean;
    known?: { id: number; display_id: number }[];
  } = {},
): Promise<Map<number, ConversationMessageSummary>> {
  const out = new Map<number, ConversationMessageSummary>();
  const ids = [...new Set(conversationIds)];
  if (ids.length === 0) return out;
  const rows = await (options.chatOnly ? lastChatMessages : lastMessages)(db, ids);
  const isLastCandidate = (r: MessageRow) => !options.chatOnly || (r.message_type !== MESSAGE_TYPE.activity && r.private === 0);
  // The highest id of each kind among the fetched rows is that kind's last message.
  const lastRow = new Map<number, MessageRow>();
  const lastNonActivityRow = new Map<number, MessageRow>();
  for (const r of rows) {
    if (isLastCandidate(r) && (lastRow.get(r.conversation_id)?.id ?? -1) < r.id) lastRow.set(r.conversation_id, r);
    if (r.message_type !== MESSAGE_TYPE.activity && (lastNonActivityRow.get(r.conversation_id)?.id ?? -1) < r.id) lastNonActivityRow.set(r.conversation_id, r);
  }
  // echo_id belongs to the broadcast that follows a creation, not to lists.
  const displayIds = options.known ? new Map(options.known.map((c) => [c.id, c.display_id])) : undefined;
  const { unread, contacts, conversations, authEpoch } = options;
  const presented = await messagePushData(db, rows, { echo: false, displayIds, unread, contacts, conversations, authEpoch });
  const byId = new Map(rows.map((r, i) => [r.id, presented[i]]));
  const lastOf = new Map([...lastRow].map(([conversationId, r]) => [conversationId, byId.get(r.id)]));
  const lastNonOf = new Map([...lastNonActivityRow].map(([conversationId, r]) => [conversationId, byId.get(r.id)]));
  for (const id of ids) {
    const m = lastOf.get(id);
    out.set(id, { messages: m ? [m] : [], last_non_activity_message: lastNonOf.get(id) ?? null });
  }
  return out;
}

/** conversations/attachments.json.jbuilder's payload entries. */
export async function presentConversationAttachments(
  db: Db,
  attachments: AttachmentRow[],
): Promise<Out[]> {
  const messageIds = [...new Set(attachments.map((a) => a.message_id))];
  const messages = messageIds.length ? await db.selectFrom('messages').selectAll().where('id', 'in', messageIds).execute() : [];
  const ctx = await loadContext(db, messages, {});
  const messageById = new Map(messages.map((m) => [m.id, m]));
  return attachments.map((a) => {
    const message = messageById.get(a.message_id);
    const data = attachmentPushData(a);
    const out: Out = {
      message_id: data.message_id,
      thumb_url: data.thumb_url ?? null,
      data_url: data.data_url ?? null,
      file_size: data.file_size ?? null,
      file_type: data.file_type,
      extension: data.extension ?? null,
      width: data.width ?? null,
      height: data.height ?? null,
      created_at: message ? unixSeconds(message.created_at) : null,
    };
    const sender = message ? senderOf(ctx, message) : undefined;
    if (sender) out.sender = sender;
    return out;
  });
}
