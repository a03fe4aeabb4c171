import type { Db } from '../../context.js';
import { parseJson, type JsonObject } from '../../db/json.js';
import type { Kysely } from 'kysely';
import type { Database, Row } from '../../db/types.js';
import { EpochCache } from '../../db/epochs.js';
import { precompiledIn } from '../../db/precompiled.js';
import { bool, isoTime, unixSeconds } from '../../db/time.js';
import { presentAgent } from '../users/presenter.js';
import { agentBotsByIds, conversationMessageSummaries, unreadCounts } from '../messages/presenter.js';
import { contactsByIds, presentContacts } from '../contacts/presenter.js';
import { presentTeam } from '../teams/presenter.js';

type ConversationRow = Row<'conversations'>;
type ContactRow = Row<'contacts'>;

export const STATUSES = ['open', 'resolved', 'pending', 'snoozed'] as const;
export type StatusName = (typeof STATUSES)[number];
export const PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;
export type PriorityName = (typeof PRIORITIES)[number];

export const statusName = (n: number): StatusName => STATUSES[n] ?? 'open';
export const priorityName = (n: number | null): PriorityName | null => (n === null ? null : (PRIORITIES[n] ?? null));

/** Ruby's `nil.to_i` is 0: Chatwoot renders missing times as 0 in the conversation partial. */
const seconds = (ms: number | null): number => unixSeconds(ms) ?? 0;

export const labelsOf = (row: Pick<ConversationRow, 'cached_label_list'>): string[] =>
  (row.cached_label_list ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** api/v1/models/_agent_bot_slim.json.jbuilder */
export function agentBotSlimJson(bot: Row<'agent_bots'>): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: bot.id,
    name: bot.name,
    description: bot.description,
    thumbnail: bot.avatar_url ?? '',
  };
  if (bot.account_id !== null) out.outgoing_url = bot.outgoing_url;
  out.bot_type = bot.bot_type === 0 ? 'webhook' : String(bot.bot_type);
  return out;
}

/** Marks a rendered item that depends on the time it was rendered at (conversations/fragments.ts). */
export const CLOCK_DEPENDENT = Symbol('clockDependent');

const byId = <T extends { id: number }>(rows: T[]): Map<number, T> => new Map(rows.map((r) => [r.id, r]));
const uniq = (ids: (number | null)[]): number[] => [...new Set(ids.filter((v): v is number => v !== null))];

interface Related {
  contacts: Map<number, ContactRow>;
  senders: Map<number, Record<string, unknown>>;
  inboxes: Map<number, Row<'inboxes'>>;
  apiWindows: Map<number, number>;
  /** Assignees with their membership in the conversations' account (users without one are left out). */
  assignees: Map<number, { user: Row<'users'>; membership: Row<'account_users'> }>;
  bots: Map<number, Row<'agent_bots'>>;
  teams: Map<number, Row<'teams'>>;
  viewerTeams: Set<number>;
  contactInboxes: Map<number, Row<'contact_inboxes'>>;
  summaries: Map<number, { messages: Record<string, unknown>[]; last_non_activity_message: Record<string, unknown> | null }>;
  unread: Map<number, number>;
  lastIncomingAt: Map<number, number>;
}

// loadRelated's reads, compiled once per number of ids (building them cost more than running them).
// With the API channel's settings (agent_reply_time_window) in the same statement.
const inboxesWithApiByIds = precompiledIn((db, ids) =>
  db
    .selectFrom('inboxes')
    .leftJoin('channel_api', (j) => j.onRef('channel_api.id', '=', 'inboxes.channel_id').on('inboxes.channel_type', '=', 'Channel::Api'))
    .selectAll('inboxes')
    .select('channel_api.additional_attributes as api_attributes')
    .where('inboxes.id', 'in', ids),
);
const usersByIds = precompiledIn((db, ids) => db.selectFrom('users').selectAll().where('id', 'in', ids));
const membershipsByUserIds = precompiledIn((db, userIds, accountId: number) =>
  db.selectFrom('account_users').selectAll().where('account_id', '=', accountId).where('user_id', 'in', userIds),
);
const teamsByIds = precompiledIn((db, ids) => db.selectFrom('teams').selectAll().where('id', 'in', ids));
const viewerTeamsAmong = precompiledIn((db, teamIds, userId: number) =>
  db.selectFrom('team_members').select('team_id').where('user_id', '=', userId).where('team_id', 'in', teamIds),
);
const contactInboxesByIds = precompiledIn((db, ids) => db.selectFrom('contact_inboxes').selectAll().where('id', 'in', ids));

// Assignees and their memberships change rarely and a page shows the same few agents: reused
// while the auth epoch (which covers both tables) stands, for a caller that read it.
const assigneeCache = new EpochCache<{ user: Row<'users'>; membership: Row<'account_users'> }>();

async function assigneesOf(db: Db, accountId: number, userIds: number[], authEpoch: number | undefined) {
  const found = await assigneeCache.getMany(db as Kysely<Database>, authEpoch, userIds.map((id) => `${accountId}:${id}`), async (missing) => {
    const ids = missing.map((key) => Number(key.split(':')[1]));
    const [users, memberships] = await Promise.all([usersByIds(db, ids), membershipsByUserIds(db, ids, accountId)]);
    const membershipOf = new Map(memberships.map((m) => [m.user_id, m]));
    const loaded = new Map<string, { user: Row<'users'>; membership: Row<'account_users'> }>();
    for (const user of users) {
      const membership = membershipOf.get(user.id);
      if (membership) loaded.set(`${accountId}:${user.id}`, { user, membership });
    }
    return loaded;
  });
  return [...found.values()];
}

/** Every per-row lookup of the list, in a fixed number of queries whatever the page size. */
async function loadRelated(db: Db, rows: ConversationRow[], viewerUserId: number | null, authEpoch: number | undefined): Promise<Related> {
  const ids = rows.map((r) => r.id);
  const contactIds = uniq(rows.map((r) => r.contact_id));
  const inboxIds = uniq(rows.map((r) => r.inbox_id));
  const assigneeIds = uniq(rows.map((r) => r.assignee_id));
  const botIds = uniq(rows.map((r) => r.assignee_agent_bot_id));
  const teamIds = uniq(rows.map((r) => r.team_id));
  const contactInboxIds = uniq(rows.map((r) => r.contact_inbox_id));
  const accountId = rows[0]?.account_id ?? 0;
  const none = Promise.resolve([]);
  // Conversation#unread_incoming_messages (at most 10), shared with the last messages' push data.
  const unread = unreadCounts(db, ids);
  // The last messages' push data shows their senders and conversations: these reads serve it too.
  const contactsRead: Promise<ContactRow[]> = contactIds.length ? Promise.resolve(contactsByIds(db, contactIds)) : none;
  const contactInboxesRead: Promise<Row<'contact_inboxes'>[]> = contactInboxIds.length ? Promise.resolve(contactInboxesByIds(db, contactInboxIds)) : none;
  const pushConversations = contactInboxesRead.then((found) => {
    const sourceIds = new Map(found.map((ci) => [ci.id, ci.source_id]));
    return rows.map((r) => ({
      id: r.id,
      assignee_id: r.assignee_id,
      last_activity_at: r.last_activity_at,
      created_at: r.created_at,
      source_id: r.contact_inbox_id === null ? null : (sourceIds.get(r.contact_inbox_id) ?? null),
    }));
  });

  const [contacts, inboxes, assignees, bots, teams, viewerTeams, contactInboxes, summaries, unreadByConversation] = await Promise.all([
    contactsRead,
    inboxIds.length ? inboxesWithApiByIds(db, inboxIds) : none,
    assigneeIds.length ? assigneesOf(db, accountId, assigneeIds, authEpoch) : none,
    botIds.length ? agentBotsByIds(db, botIds) : none,
    teamIds.length ? teamsByIds(db, teamIds) : none,
    teamIds.length && viewerUserId !== null ? viewerTeamsAmong(db, teamIds, viewerUserId) : none,
    contactInboxesRead,
    conversationMessageSummaries(db, ids, { known: rows, unread, contacts: contactsRead, conversations: pushConversations, authEpoch }),
    unread,
  ]);

  const apiWindows = new Map<number, number>();
  for (const inbox of inboxes) {
    if (inbox.channel_type !== 'Channel::Api' || inbox.api_attributes === null) continue;
    const hours = Number(parseJson<JsonObject>(inbox.api_attributes, {}).agent_reply_time_window);
    if (Number.isFinite(hours) && hours > 0) apiWindows.set(inbox.id, hours);
  }

  const lastIncomingAt = new Map<number, number>();
  const windowed = rows.filter((r) => apiWindows.has(r.inbox_id)).map((r) => r.id);
  if (windowed.length) {
    const incoming = await db
      .selectFrom('messages')
      .select((eb) => ['conversation_id', eb.fn.max('created_at').as('at')])
      .where('conversation_id', 'in', windowed)
      .where('message_type', '=', 0)
      .groupBy('conversation_id')
      .execute();
    for (const r of incoming) if (r.at !== null) lastIncomingAt.set(r.conversation_id, Number(r.at));
  }

  const senders = await presentContacts(db, contacts, { withContactInboxes: false });
  return {
    contacts: byId(contacts),
    senders: new Map(contacts.map((c, i) => [c.id, senders[i]])),
    inboxes: byId(inboxes),
    apiWindows,
    assignees: new Map(assignees.map((a) => [a.user.id, a])),
    bots: byId(bots),
    teams: byId(teams),
    viewerTeams: new Set(viewerTeams.map((t) => t.team_id)),
    contactInboxes: byId(contactInboxes),
    summaries,
    unread: unreadByConversation,
    lastIncomingAt,
  };
}

function present(row: ConversationRow, rel: Related): Record<string, unknown> {
  const contact = rel.contacts.get(row.contact_id);
  const inbox = rel.inboxes.get(row.inbox_id);
  const meta: Record<string, unknown> = {
    sender: rel.senders.get(row.contact_id) ?? {},
    channel: inbox?.channel_type ?? null,
  };
  const bot = row.assignee_agent_bot_id !== null ? rel.bots.get(row.assignee_agent_bot_id) : undefined;
  if (bot) {
    meta.assignee = agentBotSlimJson(bot);
    meta.assignee_type = 'AgentBot';
  } else if (row.assignee_id !== null) {
    const assignee = rel.assignees.get(row.assignee_id);
    if (assignee) {
      meta.assignee = presentAgent(assignee.user, assignee.membership);
      meta.assignee_type = 'User';
    }
  }
  const team = row.team_id !== null ? rel.teams.get(row.team_id) : undefined;
  if (team) meta.team = presentTeam(team, rel.viewerTeams.has(team.id));
  const contactInbox = row.contact_inbox_id !== null ? rel.contactInboxes.get(row.contact_inbox_id) : undefined;
  meta.hmac_verified = contactInbox ? bool(contactInbox.hmac_verified) : null;

  const summary = rel.summaries.get(row.id);
  const window = rel.apiWindows.get(row.inbox_id);
  let canReply = true;
  if (window !== undefined) {
    const at = rel.lastIncomingAt.get(row.id);
    canReply = at !== undefined && Date.now() < at + window * 3_600_000;
  }

  const item = {
    meta,
    id: row.display_id,
    messages: summary?.messages ?? [],
    account_id: row.account_id,
    uuid: row.uuid,
    additional_attributes: parseJson<JsonObject>(row.additional_attributes, {}),
    agent_last_seen_at: seconds(row.agent_last_seen_at),
    assignee_last_seen_at: seconds(row.assignee_last_seen_at),
    can_reply: canReply,
    contact_last_seen_at: seconds(row.contact_last_seen_at),
    custom_attributes: parseJson<JsonObject>(row.custom_attributes, {}),
    inbox_id: row.inbox_id,
    labels: labelsOf(row),
    muted: contact ? bool(contact.blocked) : false,
    snoozed_until: isoTime(row.snoozed_until),
    status: statusName(row.status),
    created_at: seconds(row.created_at),
    updated_at: row.updated_at / 1000,
    timestamp: seconds(row.last_activity_at),
    first_reply_created_at: seconds(row.first_reply_created_at),
    unread_count: rel.unread.get(row.id) ?? 0,
    last_non_activity_message: summary?.last_non_activity_message ?? null,
    last_activity_at: seconds(row.last_activity_at),
    priority: priorityName(row.priority),
    waiting_since: seconds(row.waiting_since),
    sla_policy_id: row.sla_policy_id,
  };
  // can_reply here depends on the clock (the API channel's reply window): never reuse it.
  if (window !== undefined) Object.defineProperty(item, CLOCK_DEPENDENT, { value: true, enumerable: false });
  return item;
}

/**
 * api/v1/conversations/partials/_conversation.json.jbuilder for many rows at once (the list,
 * filter, contact conversations). `viewerUserId` decides `meta.team.is_member`.
 */
export async function presentConversations(
  db: Db,
  rows: ConversationRow[],
  viewerUserId: number | null,
  /** The request's auth epoch (request.authEpoch): assignees and message senders are cached at it. */
  authEpoch?: number,
): Promise<Record<string, unknown>[]> {
  if (rows.length === 0) return [];
  const rel = await loadRelated(db, rows, viewerUserId, authEpoch);
  return rows.map((row) => present(row, rel));
}

/** One conversation in Chatwoot's conversation partial (show, create, update, …). */
export async function presentConversation(db: Db, row: ConversationRow, viewerUserId: number | null): Promise<Record<string, unknown>> {
  const [out] = await presentConversations(db, [row], viewerUserId);
  return out;
}

/** Team#as_json (render json: @team) — the body of a team assignment. */
export function teamAsJson(team: Row<'teams'>): Record<string, unknown> {
  return {
    id: team.id,
    name: team.name,
    description: team.description,
    account_id: team.account_id,
    allow_auto_assign: bool(team.allow_auto_assign),
    created_at: isoTime(team.created_at),
    updated_at: isoTime(team.updated_at),
  };
}
