import { precompiled } from '../../db/precompiled.js';
import { EventEmitter } from 'node:events';
import type { FastifyRequest } from 'fastify';
import type { AppContext, Db } from '../../context.js';
import { isPlainObject, parseJson, toJson, type JsonObject } from '../../db/json.js';
import type { Row } from '../../db/types.js';
import { now } from '../../db/time.js';
import { accessibleInboxIds, currentAccount, isAdministrator } from '../../auth/guard.js';
import { conversationAllows, type ConversationAccess } from './access.js';
import { HttpError, notFound, unauthorized, unprocessable } from '../../lib/errors.js';
import { isRecordId } from '../../lib/params.js';
import { secureToken, uuid } from '../../lib/random.js';
import { availabilityStatus } from '../users/presenter.js';
import { createActivityMessage, type ConversationRef } from '../messages/service.js';
import { labelsOf, PRIORITIES, priorityName, STATUSES, statusName } from './presenter.js';
import { normalizeLabels, replaceTaggings } from '../labels/taggings.js';

export type ConversationRow = Row<'conversations'>;

export const STATUS = { open: 0, resolved: 1, pending: 2, snoozed: 3 } as const;

/** Who acts: Chatwoot's Current.user (a user, or an agent bot on the bot endpoints). */
export interface Actor {
  type: 'User' | 'AgentBot';
  id: number;
  name: string;
  /** The user's role in the account; null for bots. */
  role: 'agent' | 'administrator' | null;
}

export function actorFromRequest(request: FastifyRequest): Actor | null {
  const p = request.principal;
  if (!p) return null;
  if (p.kind === 'bot') return { type: 'AgentBot', id: p.bot.id, name: p.bot.name, role: null };
  return { type: 'User', id: p.user.id, name: p.user.name, role: isAdministrator(request) ? 'administrator' : 'agent' };
}

// ---------------------------------------------------------------------------------------------
// Finding and authorizing

/** Current.account.conversations.find_by!(display_id:) — another account's conversation is a 404. */
const conversationByDisplayId = precompiled((db, accountId: number, displayId: number) =>
  db.selectFrom('conversations').selectAll().where('account_id', '=', accountId).where('display_id', '=', displayId),
);

export async function findConversation(db: Db, accountId: number, displayId: number): Promise<ConversationRow> {
  if (!isRecordId(displayId)) throw notFound();
  const [row] = await conversationByDisplayId(db, accountId, displayId);
  if (!row) throw notFound();
  return row;
}

/** What canViewConversation reads: every narrower read of a conversation for a request includes it. */
const AUTHORIZED_BY = ['account_id', 'inbox_id', 'team_id'] as const;
type ConversationColumn = keyof ConversationRow;
export type ConversationPart<C extends ConversationColumn> = Pick<ConversationRow, C | (typeof AUTHORIZED_BY)[number]>;

// One compiled statement per column list: the lists are constants of the routes, so a request
// neither joins them into a key nor merges them with AUTHORIZED_BY again.
const conversationColumnsByDisplayId = new WeakMap<readonly ConversationColumn[], (db: Db, accountId: number, displayId: number) => ConversationRow[] | Promise<ConversationRow[]>>();

function conversationColumnsQuery(columns: readonly ConversationColumn[]) {
  let query = conversationColumnsByDisplayId.get(columns);
  if (!query) {
    const wanted = [...new Set<ConversationColumn>([...columns, ...AUTHORIZED_BY])];
    query = precompiled((db, accountId: number, displayId: number) =>
      db.selectFrom('conversations').select(wanted).where('account_id', '=', accountId).where('display_id', '=', displayId),
    ) as (db: Db, accountId: number, displayId: number) => ConversationRow[] | Promise<ConversationRow[]>;
    conversationColumnsByDisplayId.set(columns, query);
  }
  return query;
}

/**
 * loadConversationForRequest reading only `columns` (a route that renders a few of the row's 29:
 * the messages index). The same 404 and 401, in the same order.
 */
export async function loadConversationPartForRequest<C extends ConversationColumn>(
  ctx: AppContext,
  request: FastifyRequest,
  displayId: number,
  columns: readonly C[],
): Promise<ConversationPart<C>> {
  if (!isRecordId(displayId)) throw notFound();
  const [row] = await conversationColumnsQuery(columns)(ctx.db, currentAccount(request).id, displayId);
  if (!row) throw notFound();
  const conversation = row as ConversationPart<C>;
  if (!(await canViewConversation(ctx, request, conversation))) throw unauthorized();
  return conversation;
}

/** The caller's ConversationAccess (conversations/access.ts); undefined without a caller. */
export async function conversationAccessFor(ctx: AppContext, request: FastifyRequest): Promise<ConversationAccess | undefined> {
  const principal = request.principal;
  if (!principal) return undefined;
  const inboxIds = await accessibleInboxIds(ctx, request);
  return { accountId: currentAccount(request).id, inboxIds, userId: principal.kind === 'user' ? principal.user.id : null };
}

/**
 * ConversationPolicy#show?: administrators and agent bots see everything in the account;
 * agents see conversations of inboxes they belong to, or of teams they belong to.
 */
export async function canViewConversation(
  ctx: AppContext,
  request: FastifyRequest,
  conversation: Pick<ConversationRow, 'inbox_id' | 'team_id' | 'account_id'>,
): Promise<boolean> {
  const access = await conversationAccessFor(ctx, request);
  return access !== undefined && (await conversationAllows(ctx.db, access, conversation));
}

/**
 * The conversation in the URL's account as a reference for a transaction to find, lock and
 * authorize itself (messages' ConversationRef), with the same 404 and 401 as
 * loadConversationForRequest. The caller's inboxes are read now, before the transaction opens.
 */
export async function conversationRefForRequest(ctx: AppContext, request: FastifyRequest, displayId: number): Promise<ConversationRef> {
  const accountId = currentAccount(request).id;
  // Without a caller nothing is visible (the guard answers before this, but the rule says so too).
  const access = (await conversationAccessFor(ctx, request)) ?? { accountId, inboxIds: [], userId: null };
  return { accountId, displayId, access };
}

/** Finds the conversation in the URL's account and authorizes it like Chatwoot's `authorize @conversation, :show?`. */
export async function loadConversationForRequest(ctx: AppContext, request: FastifyRequest, displayId: number): Promise<ConversationRow> {
  const account = currentAccount(request);
  const conversation = await findConversation(ctx.db, account.id, displayId);
  if (!(await canViewConversation(ctx, request, conversation))) throw unauthorized();
  return conversation;
}

// ---------------------------------------------------------------------------------------------
// Parsing Chatwoot's enum params

export function parseStatus(value: unknown): number {
  const i = STATUSES.indexOf(String(value) as (typeof STATUSES)[number]);
  if (i < 0) throw unprocessable(`'${String(value)}' is not a valid status`);
  return i;
}

/** `priority.presence`: blank clears it; anything else must be one of Chatwoot's names. */
export function parsePriority(value: unknown): number | null {
  if (value === null || value === undefined || value === '') return null;
  const i = PRIORITIES.indexOf(String(value) as (typeof PRIORITIES)[number]);
  if (i < 0) throw unprocessable(`'${String(value)}' is not a valid priority`);
  return i;
}

/** DateTime.strptime(value, '%s'): Unix seconds → epoch ms. */
export function parseUnixSeconds(value: unknown, field = 'snoozed_until'): number | null {
  if (value === null || value === undefined || value === '') return null;
  const n = Number(value);
  if (!Number.isFinite(n)) throw unprocessable(`${field} must be a Unix timestamp`);
  return Math.floor(n) * 1000;
}

/** Builder params may be a Unix timestamp or an ISO date (Rails casts both into a datetime column). */
export function parseTimeParam(value: unknown, field: string): number | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value === 'number' || /^\d+(\.\d+)?$/.test(String(value))) return Math.floor(Number(value)) * 1000;
  const t = Date.parse(String(value));
  if (Number.isNaN(t)) throw unprocessable(`${field} is invalid`);
  return t;
}

// ---------------------------------------------------------------------------------------------
// Automatic assignment (round robin over online inbox members, state in inbox_round_robin)

/** Inbox members whose availability in the account is 'online' (OnlineStatusTracker). */
async function onlineInboxMemberIds(db: Db, inbox: Pick<Row<'inboxes'>, 'id' | 'account_id'>): Promise<number[]> {
  const rows = await db
    .selectFrom('inbox_members')
    .innerJoin('account_users', (j) =>
      j.onRef('account_users.user_id', '=', 'inbox_members.user_id').on('account_users.account_id', '=', inbox.account_id),
    )
    .select(['account_users.account_id', 'account_users.user_id', 'account_users.availability', 'account_users.auto_offline'])
    .where('inbox_members.inbox_id', '=', inbox.id)
    .execute();
  return rows.filter((m) => availabilityStatus(m) === 'online').map((m) => m.user_id);
}

/**
 * InboxRoundRobinService#available_agent: the allowed member assigned longest ago goes next and
 * moves to the back of the queue. New members join at the back.
 */
export async function roundRobinPick(db: Db, inboxId: number, allowedUserIds: number[]): Promise<number | null> {
  const members = await db.selectFrom('inbox_members').select(['user_id']).where('inbox_id', '=', inboxId).orderBy('id').execute();
  const memberIds = members.map((m) => m.user_id);
  const queue = await db.selectFrom('inbox_round_robin').select(['user_id', 'position']).where('inbox_id', '=', inboxId).execute();
  const queued = new Set(queue.map((q) => q.user_id));
  const stale = queue.filter((q) => !memberIds.includes(q.user_id)).map((q) => q.user_id);
  if (stale.length) await db.deleteFrom('inbox_round_robin').where('inbox_id', '=', inboxId).where('user_id', 'in', stale).execute();
  let top = queue.reduce((m, q) => Math.max(m, q.position), 0);
  const missing = memberIds.filter((id) => !queued.has(id));
  if (missing.length) {
    await db
      .insertInto('inbox_round_robin')
      .values(missing.map((user_id) => ({ inbox_id: inboxId, user_id, position: ++top })))
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
  const allowed = allowedUserIds.filter((id) => memberIds.includes(id));
  if (allowed.length === 0) return null;
  const next = await db
    .selectFrom('inbox_round_robin')
    .select(['user_id'])
    .where('inbox_id', '=', inboxId)
    .where('user_id', 'in', allowed)
    .orderBy('position')
    .orderBy('user_id')
    .limit(1)
    .executeTakeFirst();
  if (!next) return null;
  const max = await db
    .selectFrom('inbox_round_robin')
    .select((eb) => eb.fn.max('position').as('p'))
    .where('inbox_id', '=', inboxId)
    .executeTakeFirst();
  await db
    .updateTable('inbox_round_robin')
    .set({ position: Number(max?.p ?? 0) + 1 })
    .where('inbox_id', '=', inboxId)
    .where('user_id', '=', next.user_id)
    .execute();
  return next.user_id;
}

/** AssignmentHandler#find_assignee_from_team: an online member of both the inbox and the team. */
async function assigneeFromTeam(db: Db, inbox: Row<'inboxes'>, team: Row<'teams'>): Promise<number | null> {
  if (!team.allow_auto_assign) return null;
  const teamMembers = await db.selectFrom('team_members').select('user_id').where('team_id', '=', team.id).execute();
  const teamIds = new Set(teamMembers.map((m) => m.user_id));
  const online = (await onlineInboxMemberIds(db, inbox)).filter((id) => teamIds.has(id));
  return roundRobinPick(db, inbox.id, online);
}

// ---------------------------------------------------------------------------------------------
// Saving with Chatwoot's callbacks (activity messages, team/assignee rules, auto-assignment)

export interface ConversationChanges {
  status?: number;
  snoozed_until?: number | null;
  priority?: number | null;
  assignee_id?: number | null;
  assignee_agent_bot_id?: number | null;
  team_id?: number | null;
  sla_policy_id?: number | null;
  custom_attributes?: JsonObject;
  additional_attributes?: JsonObject;
}

const TRACKED = [
  'status',
  'snoozed_until',
  'priority',
  'assignee_id',
  'assignee_agent_bot_id',
  'team_id',
  'sla_policy_id',
  'custom_attributes',
  'additional_attributes',
  'waiting_since',
] as const;
type Tracked = (typeof TRACKED)[number];

interface SaveResult {
  row: ConversationRow;
  changed: string[];
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(parseJson(a, {})) === JSON.stringify(parseJson(b, {}));

async function userName(db: Db, id: number | null): Promise<string | null> {
  if (id === null) return null;
  const u = await db.selectFrom('users').select('name').where('id', '=', id).executeTakeFirst();
  return u?.name ?? null;
}

async function teamName(db: Db, id: number | null): Promise<string | null> {
  if (id === null) return null;
  const t = await db.selectFrom('teams').select('name').where('id', '=', id).executeTakeFirst();
  return t?.name ?? null;
}

async function isInboxMember(db: Db, inboxId: number, userId: number): Promise<boolean> {
  return (await db.selectFrom('inbox_members').select('id').where('inbox_id', '=', inboxId).where('user_id', '=', userId).executeTakeFirst()) !== undefined;
}

/**
 * The assignee half of AssignmentHandler#process_assignment_activities. Chatwoot writes no
 * activity when nobody acted (Current.user blank).
 */
async function assigneeActivity(db: Db, row: ConversationRow, actor: Actor | null): Promise<void> {
  if (!actor) return;
  let content: string;
  if (row.assignee_id === null) content = `Conversation unassigned by ${actor.name}`;
  else if (actor.type === 'User' && actor.id === row.assignee_id) content = `${actor.name} self-assigned this conversation`;
  else content = `Assigned to ${(await userName(db, row.assignee_id)) ?? ''} by ${actor.name}`;
  await createActivityMessage(db, row, content);
}

async function teamActivity(db: Db, before: Pick<ConversationRow, 'team_id'>, row: ConversationRow, assigneeChanged: boolean, actor: Actor | null) {
  if (!actor) return;
  const current = await teamName(db, row.team_id);
  let content: string;
  if (current === null) {
    content = `Unassigned from ${(await teamName(db, before.team_id)) ?? ''} by ${actor.name}`;
  } else if (assigneeChanged && row.assignee_id !== null) {
    content = `Assigned to ${(await userName(db, row.assignee_id)) ?? ''} via ${current} by ${actor.name}`;
  } else {
    content = `Assigned to ${current} by ${actor.name}`;
  }
  await createActivityMessage(db, row, content);
}

function statusActivityContent(status: number, actor: Actor | null): string | null {
  if (!actor) return null;
  switch (status) {
    case STATUS.resolved:
      return `Conversation was marked resolved by ${actor.name}`;
    case STATUS.open:
      return `Conversation was reopened by ${actor.name}`;
    case STATUS.pending:
      return `Conversation was marked as pending by ${actor.name}`;
    default:
      return `Conversation was snoozed by ${actor.name}`;
  }
}

function priorityActivityContent(before: number | null, after: number | null, actor: Actor | null): string | null {
  if (!actor || (before === null && after === null)) return null;
  const oldName = priorityName(before);
  const newName = priorityName(after);
  if (before !== null && after !== null) return `${actor.name} changed the priority from ${oldName} to ${newName}`;
  if (after !== null) return `${actor.name} set the priority to ${newName}`;
  return `${actor.name} removed the priority`;
}

/** Runs the legacy auto-assignment (AutoAssignmentHandler#run_auto_assignment) on an open conversation. */
async function autoAssign(db: Db, row: ConversationRow): Promise<number | null> {
  const inbox = await db.selectFrom('inboxes').selectAll().where('id', '=', row.inbox_id).executeTakeFirst();
  if (!inbox || !inbox.enable_auto_assignment) return null;
  if (row.assignee_id !== null && (await isInboxMember(db, row.inbox_id, row.assignee_id))) return null;
  return roundRobinPick(db, inbox.id, await onlineInboxMemberIds(db, inbox));
}

/**
 * Conversation#save! with its callbacks, inside the caller's transaction: the before_save rules,
 * one UPDATE, then the activity messages of the after_commit callbacks in Chatwoot's order
 * (status, priority, then assignment/team) and the auto-assignment when the conversation opens.
 */
export async function saveConversation(db: Db, before: ConversationRow, changes: ConversationChanges, actor: Actor | null): Promise<SaveResult> {
  const next: ConversationRow = { ...before };
  for (const [k, v] of Object.entries(changes)) {
    if (v !== undefined) (next as unknown as Record<string, unknown>)[k] = k.endsWith('attributes') ? toJson(v) : v;
  }
  // reset_agent_bot_when_assignee_present
  if (next.assignee_id !== null) next.assignee_agent_bot_id = null;
  // ensure_assignee_is_from_team
  if (next.team_id !== before.team_id && next.team_id !== null) {
    const team = await db.selectFrom('teams').selectAll().where('id', '=', next.team_id).executeTakeFirst();
    if (team) {
      const member =
        next.assignee_id !== null &&
        (await db.selectFrom('team_members').select('id').where('team_id', '=', team.id).where('user_id', '=', next.assignee_id).executeTakeFirst());
      if (!member) next.assignee_id = null;
      if (next.assignee_id === null) {
        const inbox = await db.selectFrom('inboxes').selectAll().where('id', '=', next.inbox_id).executeTakeFirstOrThrow();
        next.assignee_id = await assigneeFromTeam(db, inbox, team);
        if (next.assignee_id !== null) next.assignee_agent_bot_id = null;
      }
    }
  }
  // ensure_snooze_until_reset
  if (next.status !== STATUS.snoozed) next.snoozed_until = null;
  // handle_resolved_status_change
  if (next.status === STATUS.resolved && before.status !== STATUS.resolved) next.waiting_since = null;

  const changed: Tracked[] = TRACKED.filter((k) =>
    k.endsWith('attributes') ? !sameJson(before[k], next[k]) : before[k] !== next[k],
  );
  if (changed.length === 0) return { row: before, changed: [] };

  const set: Record<string, unknown> = { updated_at: Math.max(now(), before.updated_at + 1) };
  for (const k of changed) set[k] = next[k];
  let row = await db.updateTable('conversations').set(set).where('id', '=', before.id).returningAll().executeTakeFirstOrThrow();
  const out: string[] = [...changed];

  if (changed.includes('status')) {
    const content = statusActivityContent(row.status, actor);
    if (content) await createActivityMessage(db, row, content);
  }
  if (changed.includes('priority')) {
    const content = priorityActivityContent(before.priority, row.priority, actor);
    if (content) await createActivityMessage(db, row, content);
  }
  if (changed.includes('team_id')) await teamActivity(db, before, row, changed.includes('assignee_id'), actor);
  else if (changed.includes('assignee_id')) await assigneeActivity(db, row, actor);

  if (changed.includes('status') && row.status === STATUS.open) {
    const picked = await autoAssign(db, row);
    if (picked !== null) {
      row = await db
        .updateTable('conversations')
        .set({ assignee_id: picked, assignee_agent_bot_id: null })
        .where('id', '=', row.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      if (!out.includes('assignee_id')) out.push('assignee_id');
      await assigneeActivity(db, row, actor);
    }
  }
  return { row, changed: out };
}

function emitUpdated(ctx: AppContext, row: ConversationRow, changed: string[]): void {
  if (changed.length === 0) return;
  ctx.events.emit('conversation.updated', { accountId: row.account_id, conversationId: row.id, changed });
  if (changed.includes('status')) {
    ctx.events.emit('conversation.status_changed', { accountId: row.account_id, conversationId: row.id, status: statusName(row.status) });
  }
}

/** One change to a conversation in one transaction, events after commit. */
export async function updateConversation(ctx: AppContext, conversation: ConversationRow, changes: ConversationChanges, actor: Actor | null): Promise<ConversationRow> {
  const result = await ctx.db.transaction().execute(async (trx) => {
    const fresh = await trx.selectFrom('conversations').selectAll().where('id', '=', conversation.id).executeTakeFirstOrThrow();
    return saveConversation(trx, fresh, changes, actor);
  });
  emitUpdated(ctx, result.row, result.changed);
  return result.row;
}

// ---------------------------------------------------------------------------------------------
// Creation (ConversationBuilder)

export interface CreateConversationInput {
  contactInbox: Row<'contact_inboxes'>;
  inbox: Row<'inboxes'>;
  status?: string | null;
  assigneeId?: number | null;
  teamId?: number | null;
  additionalAttributes?: JsonObject;
  customAttributes?: JsonObject;
  snoozedUntil?: number | null;
  campaignId?: number | null;
  identifier?: string | null;
  /** Runs inside the creating transaction once the conversation exists (the first message). */
  afterCreate?: (trx: Db, conversation: ConversationRow) => Promise<void>;
}

/** accounts.last_display_id + 1, taken inside the caller's transaction (the row lock serialises it). */
async function nextDisplayId(db: Db, accountId: number): Promise<number> {
  const row = await db
    .updateTable('accounts')
    .set((eb) => ({ last_display_id: eb('last_display_id', '+', 1) }))
    .where('id', '=', accountId)
    .returning('last_display_id')
    .executeTakeFirstOrThrow();
  return row.last_display_id;
}

/**
 * ConversationBuilder#perform + Conversation's create callbacks: reuses the last conversation
 * when the inbox locks to a single conversation; otherwise allocates the next display id,
 * decides the initial status (blocked contact → resolved, active bot → pending), assigns from
 * the team or round robin, and writes the assignment activity messages.
 */
export async function createConversation(ctx: AppContext, input: CreateConversationInput, actor: Actor | null): Promise<ConversationRow> {
  const { inbox, contactInbox } = input;
  const status = input.status ? parseStatus(input.status) : STATUS.open;
  for (const [field, value] of [
    ['additional_attributes', input.additionalAttributes],
    ['custom_attributes', input.customAttributes],
  ] as const) {
    if (value !== undefined && !isPlainObject(value)) throw unprocessable(`${field} must be an object`);
  }
  let created = false;
  const row = await ctx.db.transaction().execute(async (trx) => {
    if (inbox.lock_to_single_conversation) {
      const existing = await trx
        .selectFrom('conversations')
        .selectAll()
        .where('contact_inbox_id', '=', contactInbox.id)
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (existing) {
        if (input.afterCreate) await input.afterCreate(trx, existing);
        return existing;
      }
    }
    const contact = await trx.selectFrom('contacts').selectAll().where('id', '=', contactInbox.contact_id).executeTakeFirstOrThrow();
    let initial: number = status;
    if (contact.blocked) initial = STATUS.resolved;
    else {
      const bot = await trx.selectFrom('agent_bot_inboxes').select('status').where('inbox_id', '=', inbox.id).executeTakeFirst();
      if (bot && bot.status === 0) initial = STATUS.pending;
    }
    let assigneeId = input.assigneeId ?? null;
    if (assigneeId !== null) {
      const member = await trx
        .selectFrom('account_users')
        .select('user_id')
        .where('account_id', '=', inbox.account_id)
        .where('user_id', '=', assigneeId)
        .executeTakeFirst();
      if (!member) throw unprocessable('Assignee must exist');
    }
    let teamId = input.teamId ?? null;
    let team: Row<'teams'> | undefined;
    if (teamId !== null) {
      team = await trx.selectFrom('teams').selectAll().where('id', '=', teamId).where('account_id', '=', inbox.account_id).executeTakeFirst();
      if (!team) teamId = null;
    }
    if (team) {
      const inTeam =
        assigneeId !== null &&
        (await trx.selectFrom('team_members').select('id').where('team_id', '=', team.id).where('user_id', '=', assigneeId).executeTakeFirst());
      if (!inTeam) assigneeId = null;
      if (assigneeId === null) assigneeId = await assigneeFromTeam(trx, inbox, team);
    }
    const displayId = await nextDisplayId(trx, inbox.account_id);
    const t = now();
    let conv = await trx
      .insertInto('conversations')
      .values({
        account_id: inbox.account_id,
        inbox_id: inbox.id,
        display_id: displayId,
        uuid: uuid(),
        status: initial,
        assignee_id: assigneeId,
        contact_id: contactInbox.contact_id,
        contact_inbox_id: contactInbox.id,
        team_id: teamId,
        campaign_id: input.campaignId ?? null,
        identifier: input.identifier ?? null,
        additional_attributes: toJson(input.additionalAttributes ?? {}),
        custom_attributes: toJson(input.customAttributes ?? {}),
        snoozed_until: initial === STATUS.snoozed ? (input.snoozedUntil ?? null) : null,
        last_activity_at: t,
        waiting_since: t,
        created_at: t,
        updated_at: t,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    created = true;

    let autoAssigned = false;
    if (conv.status === STATUS.open) {
      const picked = await autoAssign(trx, conv);
      if (picked !== null) {
        conv = await trx.updateTable('conversations').set({ assignee_id: picked }).where('id', '=', conv.id).returningAll().executeTakeFirstOrThrow();
        autoAssigned = true;
      }
    }
    // The first message is written with the conversation; Chatwoot's assignment activities follow it (after commit).
    if (input.afterCreate) await input.afterCreate(trx, conv);
    if (teamId !== null) await teamActivity(trx, { team_id: null }, conv, conv.assignee_id !== null, actor);
    else if (conv.assignee_id !== null || autoAssigned) await assigneeActivity(trx, conv, actor);
    return trx.selectFrom('conversations').selectAll().where('id', '=', conv.id).executeTakeFirstOrThrow();
  });
  if (created) ctx.events.emit('conversation.created', { accountId: row.account_id, conversationId: row.id });
  return row;
}

/**
 * The contact inbox for a new conversation (ContactInboxBuilder): the given or a generated
 * source id; an existing pair is reused; a source id taken by another contact is Chatwoot's 422.
 */
export async function contactInboxFor(
  db: Db,
  contact: Pick<Row<'contacts'>, 'id'>,
  inbox: Pick<Row<'inboxes'>, 'id'>,
  sourceId: string | null | undefined,
): Promise<Row<'contact_inboxes'>> {
  const source = sourceId && sourceId.trim() !== '' ? sourceId : uuid();
  const existing = await db.selectFrom('contact_inboxes').selectAll().where('inbox_id', '=', inbox.id).where('source_id', '=', source).executeTakeFirst();
  if (existing) {
    if (existing.contact_id !== contact.id) throw new HttpError(422, { error: 'source_id should be unique' });
    return existing;
  }
  const t = now();
  return db
    .insertInto('contact_inboxes')
    .values({ contact_id: contact.id, inbox_id: inbox.id, source_id: source, pubsub_token: secureToken(24), created_at: t, updated_at: t })
    .returningAll()
    .executeTakeFirstOrThrow();
}

// ---------------------------------------------------------------------------------------------
// Actions

/** toggle_status: explicit status, the bot hand-off, or the open↔resolved toggle. */
export async function toggleStatus(
  ctx: AppContext,
  conversation: ConversationRow,
  params: { status?: string | null; snoozed_until?: unknown },
  actor: Actor | null,
): Promise<{ row: ConversationRow; success: boolean | null }> {
  const wanted = params.status !== undefined && params.status !== null && params.status !== '' ? parseStatus(params.status) : null;
  const snoozedUntil = params.snoozed_until !== undefined ? parseUnixSeconds(params.snoozed_until) : undefined;
  const result = await ctx.db.transaction().execute(async (trx) => {
    const fresh = await trx.selectFrom('conversations').selectAll().where('id', '=', conversation.id).executeTakeFirstOrThrow();
    let success: boolean | null = true;
    let changes: ConversationChanges;
    if (actor?.type === 'AgentBot' && fresh.status === STATUS.pending && wanted === STATUS.open) {
      success = null; // bot_handoff! leaves @status unset
      changes = { status: STATUS.open };
    } else if (wanted !== null) {
      changes = { status: wanted, ...(snoozedUntil !== undefined ? { snoozed_until: snoozedUntil } : {}) };
    } else {
      changes = { status: fresh.status === STATUS.open ? STATUS.resolved : STATUS.open };
    }
    let saved = await saveConversation(trx, fresh, changes, actor);
    // An agent who (re)opens a conversation takes it.
    if (saved.row.status === STATUS.open && actor?.type === 'User' && actor.role === 'agent') {
      const again = await saveConversation(trx, saved.row, { assignee_id: actor.id }, actor);
      saved = { row: again.row, changed: [...new Set([...saved.changed, ...again.changed])] };
    }
    return { ...saved, success };
  });
  emitUpdated(ctx, result.row, result.changed);
  return { row: result.row, success: result.success };
}

/** POST …/assignments with assignee_id (User or, with assignee_type AgentBot, a bot). Returns what was assigned. */
export async function assignAgent(
  ctx: AppContext,
  conversation: ConversationRow,
  assigneeId: number | null,
  assigneeType: string | undefined,
  actor: Actor | null,
): Promise<{ user: Row<'users'>; membership: Row<'account_users'> } | { bot: Row<'agent_bots'> } | null> {
  if (assigneeType === 'AgentBot') {
    const bot =
      assigneeId === null
        ? undefined
        : await ctx.db
            .selectFrom('agent_bots')
            .selectAll()
            .where('id', '=', assigneeId)
            .where((eb) => eb.or([eb('account_id', '=', conversation.account_id), eb('account_id', 'is', null)]))
            .executeTakeFirst();
    if (!bot) return null;
    await updateConversation(ctx, conversation, { assignee_id: null, assignee_agent_bot_id: bot.id }, actor);
    return { bot };
  }
  const found =
    assigneeId === null
      ? undefined
      : await ctx.db
          .selectFrom('account_users')
          .innerJoin('users', 'users.id', 'account_users.user_id')
          .select('account_users.id as membership_id')
          .where('account_users.account_id', '=', conversation.account_id)
          .where('account_users.user_id', '=', assigneeId)
          .executeTakeFirst();
  await updateConversation(ctx, conversation, { assignee_id: found ? assigneeId : null, assignee_agent_bot_id: null }, actor);
  if (!found || assigneeId === null) return null;
  const user = await ctx.db.selectFrom('users').selectAll().where('id', '=', assigneeId).executeTakeFirstOrThrow();
  const membership = await ctx.db.selectFrom('account_users').selectAll().where('id', '=', found.membership_id).executeTakeFirstOrThrow();
  return { user, membership };
}

/** POST …/assignments with team_id: an unknown team clears the team (Chatwoot's find_by). */
export async function assignTeam(ctx: AppContext, conversation: ConversationRow, teamId: number | null, actor: Actor | null): Promise<Row<'teams'> | null> {
  const team =
    teamId === null
      ? undefined
      : await ctx.db.selectFrom('teams').selectAll().where('id', '=', teamId).where('account_id', '=', conversation.account_id).executeTakeFirst();
  await updateConversation(ctx, conversation, { team_id: team?.id ?? null }, actor);
  return team ?? null;
}

/** Writes the label set of a conversation inside a transaction and logs added/removed labels. */
export async function writeLabels(db: Db, conversation: ConversationRow, labels: string[], actor: Actor | null): Promise<ConversationRow> {
  const previous = labelsOf(conversation);
  if (previous.join(',') === labels.join(',')) return conversation;
  const t = now();
  const { added, removed } = await replaceTaggings(db, { accountId: conversation.account_id, type: 'Conversation', id: conversation.id }, previous, labels, t);
  const row = await db
    .updateTable('conversations')
    .set({ cached_label_list: labels.join(', '), updated_at: Math.max(t, conversation.updated_at + 1) })
    .where('id', '=', conversation.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  if (actor) {
    if (added.length) await createActivityMessage(db, row, `${actor.name} added ${added.join(', ')}`);
    if (removed.length) await createActivityMessage(db, row, `${actor.name} removed ${removed.join(', ')}`);
  }
  return row;
}

/** LabelConcern#create: replaces the set. */
export async function setLabels(ctx: AppContext, conversation: ConversationRow, input: unknown, actor: Actor | null): Promise<string[]> {
  const labels = normalizeLabels(input);
  const row = await ctx.db.transaction().execute(async (trx) => {
    const fresh = await trx.selectFrom('conversations').selectAll().where('id', '=', conversation.id).executeTakeFirstOrThrow();
    return writeLabels(trx, fresh, labels, actor);
  });
  if (row !== conversation) emitUpdated(ctx, row, ['label_list']);
  return labels;
}

/** Labelable#add_labels, for other modules (automation, macros). */
export async function addLabels(ctx: AppContext, conversation: ConversationRow, input: unknown, actor: Actor | null): Promise<string[]> {
  const extra = normalizeLabels(input);
  return setLabels(ctx, conversation, [...labelsOf(conversation), ...extra], actor);
}

/** update_last_seen / unread: update_column, no updated_at change, no callbacks. */
export async function setAgentLastSeen(db: Db, conversation: ConversationRow, at: number | null, alsoAssignee: boolean): Promise<ConversationRow> {
  return db
    .updateTable('conversations')
    .set({ agent_last_seen_at: at, ...(alsoAssignee ? { assignee_last_seen_at: at } : {}) })
    .where('id', '=', conversation.id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function markUnread(db: Db, conversation: ConversationRow): Promise<ConversationRow> {
  const last = await db
    .selectFrom('messages')
    .select('created_at')
    .where('conversation_id', '=', conversation.id)
    .where('message_type', '=', 0)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return setAgentLastSeen(db, conversation, last ? last.created_at - 1000 : null, true);
}

/** mute!: resolve, block the contact, log it. unmute!: unblock, log it. */
export async function setMuted(ctx: AppContext, conversation: ConversationRow, muted: boolean, actor: Actor | null): Promise<void> {
  const result = await ctx.db.transaction().execute(async (trx) => {
    // The contact before the conversation (contacts' lockContact tells why).
    await trx.updateTable('contacts').set({ blocked: muted ? 1 : 0, updated_at: now() }).where('id', '=', conversation.contact_id).execute();
    const fresh = await trx.selectFrom('conversations').selectAll().where('id', '=', conversation.id).executeTakeFirstOrThrow();
    const saved = muted ? await saveConversation(trx, fresh, { status: STATUS.resolved }, actor) : { row: fresh, changed: [] };
    if (actor?.type === 'User') {
      await createActivityMessage(trx, saved.row, `${actor.name} has ${muted ? 'muted' : 'unmuted'} the conversation`);
    }
    return saved;
  });
  emitUpdated(ctx, result.row, result.changed);
  ctx.events.emit('contact.updated', { accountId: conversation.account_id, contactId: conversation.contact_id });
}

export async function deleteConversation(ctx: AppContext, conversation: ConversationRow): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('taggings').where('taggable_type', '=', 'Conversation').where('taggable_id', '=', conversation.id).execute();
    await trx.deleteFrom('conversations').where('id', '=', conversation.id).execute();
  });
}

// ---- participants ----

export async function participantUsers(db: Db, conversation: ConversationRow): Promise<{ user: Row<'users'>; membership: Row<'account_users'> }[]> {
  const rows = await db
    .selectFrom('conversation_participants')
    .innerJoin('users', 'users.id', 'conversation_participants.user_id')
    .select('users.id')
    .where('conversation_participants.conversation_id', '=', conversation.id)
    .orderBy('conversation_participants.id')
    .execute();
  return usersWithMemberships(db, conversation.account_id, rows.map((r) => r.id));
}

export async function usersWithMemberships(db: Db, accountId: number, userIds: number[]): Promise<{ user: Row<'users'>; membership: Row<'account_users'> }[]> {
  if (userIds.length === 0) return [];
  const [users, memberships] = await Promise.all([
    db.selectFrom('users').selectAll().where('id', 'in', userIds).execute(),
    db.selectFrom('account_users').selectAll().where('account_id', '=', accountId).where('user_id', 'in', userIds).execute(),
  ]);
  const u = new Map(users.map((r) => [r.id, r]));
  const m = new Map(memberships.map((r) => [r.user_id, r]));
  return userIds.flatMap((id) => {
    const user = u.get(id);
    const membership = m.get(id);
    return user && membership ? [{ user, membership }] : [];
  });
}

/** ConversationParticipant#ensure_inbox_access: the user must be an assignable agent of the inbox. */
async function assertParticipantsAllowed(db: Db, conversation: ConversationRow, userIds: number[]): Promise<void> {
  if (userIds.length === 0) return;
  const members = await db
    .selectFrom('inbox_members')
    .innerJoin('account_users', (j) =>
      j.onRef('account_users.user_id', '=', 'inbox_members.user_id').on('account_users.account_id', '=', conversation.account_id),
    )
    .select('inbox_members.user_id')
    .where('inbox_members.inbox_id', '=', conversation.inbox_id)
    .where('inbox_members.user_id', 'in', userIds)
    .execute();
  const allowed = new Set(members.map((m) => m.user_id));
  if (userIds.some((id) => !allowed.has(id))) {
    throw new HttpError(422, { message: 'User must have inbox access', attributes: ['user'] });
  }
}

async function currentParticipantIds(db: Db, conversation: ConversationRow): Promise<number[]> {
  const rows = await db.selectFrom('conversation_participants').select('user_id').where('conversation_id', '=', conversation.id).execute();
  return rows.map((r) => r.user_id);
}

/** Adds participants; returns the ones that were added (Chatwoot renders only those). */
export function addParticipants(ctx: AppContext, conversation: ConversationRow, userIds: number[]): Promise<number[]> {
  return changeParticipants(ctx, conversation, userIds, false);
}

/** Makes the participants exactly `userIds`. */
export async function replaceParticipants(ctx: AppContext, conversation: ConversationRow, userIds: number[]): Promise<void> {
  await changeParticipants(ctx, conversation, userIds, true);
}

/** Adds the users not yet participating and, with `removeOthers`, removes the ones not listed; returns the added. */
function changeParticipants(ctx: AppContext, conversation: ConversationRow, userIds: number[], removeOthers: boolean): Promise<number[]> {
  return ctx.db.transaction().execute(async (trx) => {
    const current = await currentParticipantIds(trx, conversation);
    const wanted = [...new Set(userIds)];
    const toAdd = wanted.filter((id) => !current.includes(id));
    const toRemove = removeOthers ? current.filter((id) => !wanted.includes(id)) : [];
    await assertParticipantsAllowed(trx, conversation, toAdd);
    const t = now();
    if (toAdd.length) {
      await trx
        .insertInto('conversation_participants')
        .values(toAdd.map((user_id) => ({ account_id: conversation.account_id, conversation_id: conversation.id, user_id, created_at: t, updated_at: t })))
        .execute();
    }
    if (toRemove.length) {
      await trx.deleteFrom('conversation_participants').where('conversation_id', '=', conversation.id).where('user_id', 'in', toRemove).execute();
    }
    return toAdd;
  });
}

export async function removeParticipants(db: Db, conversation: ConversationRow, userIds: number[]): Promise<void> {
  if (userIds.length === 0) return;
  await db.deleteFrom('conversation_participants').where('conversation_id', '=', conversation.id).where('user_id', 'in', userIds).execute();
}

// ---- draft messages (Chatwoot keeps them in Redis, one per conversation) ----

export async function getDraft(db: Db, conversation: ConversationRow): Promise<string | null> {
  const row = await db.selectFrom('conversation_drafts').select('message').where('conversation_id', '=', conversation.id).executeTakeFirst();
  return row ? row.message : null;
}

export async function saveDraft(db: Db, conversation: ConversationRow, message: string): Promise<void> {
  const t = now();
  await db
    .insertInto('conversation_drafts')
    .values({ conversation_id: conversation.id, account_id: conversation.account_id, message, updated_at: t })
    .onConflict((oc) => oc.column('conversation_id').doUpdateSet({ message, updated_at: t }))
    .execute();
}

export async function deleteDraft(db: Db, conversation: ConversationRow): Promise<void> {
  await db.deleteFrom('conversation_drafts').where('conversation_id', '=', conversation.id).execute();
}

// ---- typing (not persisted; realtime listens here) ----

export interface TypingEvent {
  accountId: number;
  conversationId: number;
  displayId: number;
  status: 'on' | 'off';
  isPrivate: boolean;
  user: { type: 'User' | 'AgentBot'; id: number } | null;
}

/** conversation.typing_on / conversation.typing_off (Chatwoot's CONVERSATION_TYPING_ON/OFF). */
export const typingEvents = new EventEmitter();
typingEvents.setMaxListeners(100);

export function emitTyping(event: TypingEvent): void {
  typingEvents.emit(event.status === 'on' ? 'conversation.typing_on' : 'conversation.typing_off', event);
}

// ---- snoozed conversations whose time has come ----

/**
 * ReopenSnoozedConversationsJob: snoozed conversations whose snoozed_until has passed open again
 * (no actor, so no activity message, as in Chatwoot). Returns how many reopened.
 */
export async function reopenDueSnoozedConversations(ctx: AppContext, at: number = now()): Promise<number> {
  let reopened = 0;
  for (;;) {
    const due = await ctx.db
      .selectFrom('conversations')
      .select('id')
      .where('status', '=', STATUS.snoozed)
      .where('snoozed_until', 'is not', null)
      .where('snoozed_until', '<=', at)
      .orderBy('id')
      .limit(100)
      .execute();
    if (due.length === 0) return reopened;
    for (const { id } of due) {
      const row = await ctx.db.selectFrom('conversations').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row || row.status !== STATUS.snoozed) continue;
      await updateConversation(ctx, row, { status: STATUS.open }, null);
      reopened++;
    }
  }
}
