import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Static } from '@sinclair/typebox';
import { accessibleInboxIds, assertInboxAccess, currentAccount, currentUser, requireAdministrator } from '../../auth/guard.js';
import type { Row } from '../../db/types.js';
import { isoTime } from '../../db/time.js';
import { isPlainObject, type JsonObject } from '../../db/json.js';
import { readEpoch } from '../../db/epochs.js';
import { notFound, unprocessable } from '../../lib/errors.js';
import { castBoolean, looseRecordId, pageNumber, pathDisplayId, present, unwrap } from '../../lib/params.js';
import { findAccountInbox, findContact, findOrCreateContactInbox } from '../contacts/service.js';
import { buildFilterExpression } from '../filters/engine.js';
import { emitMessageCreated, insertMessage, type Actor as MessageActor, type CreatedMessage } from '../messages/service.js';
import { presentAgent } from '../users/presenter.js';
import { CONVERSATION_FILTER_CATALOGUE, expandStatusAll } from './filter-catalogue.js';
import { renderConversationItems, renderConversationList } from './fragments.js';
import { findConversationCounts, findConversations, findConversationStamps, PER_PAGE, permissionCondition, type ListParams, type Viewer } from './finder.js';
import { agentBotSlimJson, presentConversation, presentConversations, statusName, teamAsJson } from './presenter.js';
import {
  AssignmentBody,
  ContactIdParams,
  ConversationIdParams,
  ConversationParams,
  CreateBody,
  CustomAttributesBody,
  DraftBody,
  FilterBody,
  ListQuery,
  PageQuery,
  ParticipantsBody,
  ToggleStatusBody,
  TogglePriorityBody,
  TypingBody,
  UpdateBody,
} from './schemas.js';
import { presentSearchConversations, searchConversationMessages } from './search.js';
import { JSON_TYPE, sendJsonPieces } from '../../lib/send-pieces.js';
import {
  actorFromRequest,
  addParticipants,
  assignAgent,
  assignTeam,
  createConversation,
  deleteConversation,
  deleteDraft,
  emitTyping,
  getDraft,
  loadConversationForRequest,
  markUnread,
  parsePriority,
  parseTimeParam,
  participantUsers,
  removeParticipants,
  reopenDueSnoozedConversations,
  replaceParticipants,
  saveDraft,
  setAgentLastSeen,
  setLabels,
  setMuted,
  toggleStatus,
  updateConversation,
  usersWithMemberships,
  type ConversationChanges,
} from './service.js';
import { LabelsBody } from '../labels/schemas.js';
import { permittedLabels } from '../labels/taggings.js';

function messageActor(request: FastifyRequest): MessageActor {
  const p = request.principal;
  if (!p) return null;
  return p.kind === 'user' ? { kind: 'user', user: p.user } : { kind: 'bot', bot: p.bot };
}

const viewerUserId = (request: FastifyRequest): number | null => (request.principal?.kind === 'user' ? request.principal.user.id : null);

/** `head :ok` */
const ok = (reply: FastifyReply) => reply.status(200).send();
/** `render json: nil` */
const jsonNull = (reply: FastifyReply) => reply.status(200).type(JSON_TYPE).send('null');
const CLOSE_DATA = Buffer.from('}}');

/**
 * Api::V1::Accounts::ConversationsController and its nested controllers (assignments, labels,
 * participants, draft messages), plus Contacts::ConversationsController. Mounted under
 * /api/v1/accounts/:account_id.
 */
export const conversationsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.ctx;
  const db = () => ctx.db;

  // ReopenSnoozedConversationsJob: snoozed conversations open again once their time has passed.
  const sweepMs = ctx.config.snoozeSweepMs;
  if (sweepMs > 0) {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      reopenDueSnoozedConversations(ctx)
        .catch((error: unknown) => ctx.log.warn({ err: error }, 'reopening snoozed conversations failed'))
        .finally(() => {
          running = false;
        });
    }, sweepMs);
    timer.unref();
    app.addHook('onClose', async () => clearInterval(timer));
  }

  const viewerOf = async (request: FastifyRequest): Promise<Viewer> => ({
    accountId: currentAccount(request).id,
    userId: currentUser(request).id,
    inboxIds: await accessibleInboxIds(ctx, request),
  });

  type ListQueryT = Static<typeof ListQuery>;
  const listParams = (query: ListQueryT): ListParams => {
    const { 'labels[]': bracketed, ...rest } = query;
    return bracketed ? { ...rest, labels: [...(rest.labels ?? []), ...bracketed] } : rest;
  };

  const load = (request: FastifyRequest, raw: string) => loadConversationForRequest(ctx, request, pathDisplayId(raw));

  // ---- the list ----

  app.get('/conversations', { config: { countsEpoch: true }, schema: { querystring: ListQuery } }, async (request, reply) => {
    const viewer = await viewerOf(request);
    const { stamps, counts } = await findConversationStamps(ctx, viewer, listParams(request.query), request.countsEpoch);
    // Items come as JSON text from the render cache (fragments.ts).
    const payload = await renderConversationList(db(), stamps, viewer.userId, request.authEpoch);
    const head = Buffer.from(`{"data":{"meta":${JSON.stringify(counts)},"payload":`);
    sendJsonPieces(reply, [head, ...payload, CLOSE_DATA]);
  });

  app.get('/conversations/meta', { config: { countsEpoch: true }, schema: { querystring: ListQuery } }, async (request) => {
    const viewer = await viewerOf(request);
    return { meta: await findConversationCounts(ctx, viewer, { ...listParams(request.query), page: '1' }, request.countsEpoch) };
  });

  app.get('/conversations/search', { schema: { querystring: ListQuery } }, async (request) => {
    const viewer = await viewerOf(request);
    const q = request.query.q ?? '';
    const { rows, counts } = await findConversations(ctx, viewer, { ...listParams(request.query), q });
    const matches = await searchConversationMessages(ctx, rows, q);
    return {
      meta: { mine_count: counts.mine_count, unassigned_count: counts.unassigned_count, all_count: counts.all_count },
      payload: await presentSearchConversations(db(), rows, matches),
    };
  });

  app.post('/conversations/filter', { schema: { querystring: PageQuery, body: FilterBody } }, async (request) => {
    const viewer = await viewerOf(request);
    const body = request.body ?? {};
    const expression = await buildFilterExpression({
      db: db(),
      engine: ctx.engine,
      accountId: viewer.accountId,
      table: 'conversations',
      catalogue: CONVERSATION_FILTER_CATALOGUE,
      payload: expandStatusAll(body.payload),
    });
    const perm = permissionCondition(viewer);
    const base = db()
      .selectFrom('conversations')
      .where('conversations.account_id', '=', viewer.accountId)
      .where((eb) => (perm ? perm(eb) : eb.lit(true)))
      .where(expression);
    const countRow = await base
      .select((eb) => [
        eb.fn.countAll<number>().as('all_count'),
        eb.fn.sum<number>(eb.case().when('conversations.assignee_id', 'is', null).then(1).else(0).end()).as('unassigned_count'),
        eb.fn.sum<number>(eb.case().when('conversations.assignee_id', '=', viewer.userId).then(1).else(0).end()).as('mine_count'),
      ])
      .executeTakeFirstOrThrow();
    const page = pageNumber(request.query.page ?? body.page);
    const rows = await base
      .selectAll('conversations')
      .orderBy('conversations.last_activity_at', 'desc')
      .orderBy('conversations.id', 'desc')
      .limit(PER_PAGE)
      .offset((page - 1) * PER_PAGE)
      .execute();
    return {
      meta: {
        mine_count: Number(countRow.mine_count ?? 0),
        unassigned_count: Number(countRow.unassigned_count ?? 0),
        all_count: Number(countRow.all_count ?? 0),
      },
      payload: await presentConversations(db(), rows, viewer.userId, request.authEpoch),
    };
  });

  app.get('/contacts/:id/conversations', { schema: { params: ContactIdParams } }, async (request) => {
    const viewer = await viewerOf(request);
    const contact = await findContact(db(), viewer.accountId, request.params.id);
    const perm = permissionCondition(viewer);
    const rows = await db()
      .selectFrom('conversations')
      .selectAll()
      .where('account_id', '=', viewer.accountId)
      .where('contact_id', '=', contact.id)
      .where((eb) => (perm ? perm(eb) : eb.lit(true)))
      .orderBy('last_activity_at', 'desc')
      .orderBy('id', 'desc')
      .limit(20)
      .execute();
    return { payload: await presentConversations(db(), rows, viewer.userId, request.authEpoch) };
  });

  // ---- create ----

  app.post('/conversations', { config: { botAccess: true }, schema: { body: CreateBody } }, async (request) => {
    const account = currentAccount(request);
    const body = request.body;
    const actor = actorFromRequest(request);
    let inbox: Row<'inboxes'> | undefined;
    if (body.inbox_id !== undefined && body.inbox_id !== null && body.inbox_id !== '') {
      inbox = await findAccountInbox(db(), account.id, String(body.inbox_id));
      await assertInboxAccess(ctx, request, inbox.id);
    }
    const contact =
      body.contact_id !== undefined && body.contact_id !== null && body.contact_id !== ''
        ? await findContact(db(), account.id, String(body.contact_id))
        : undefined;
    let contactInbox: Row<'contact_inboxes'>;
    if (inbox && contact) {
      contactInbox = await findOrCreateContactInbox(db(), {
        accountId: account.id,
        contactId: contact.id,
        inboxId: inbox.id,
        sourceId: body.source_id ?? null,
      });
    } else {
      // Chatwoot's fallback: the contact inbox of this source id.
      if (!present(body.source_id)) throw notFound();
      const found = await db()
        .selectFrom('contact_inboxes')
        .innerJoin('inboxes', 'inboxes.id', 'contact_inboxes.inbox_id')
        .selectAll('contact_inboxes')
        .where('contact_inboxes.source_id', '=', body.source_id)
        .where('inboxes.account_id', '=', account.id)
        .orderBy('contact_inboxes.id')
        .executeTakeFirst();
      if (!found) throw notFound();
      contactInbox = found;
      await assertInboxAccess(ctx, request, found.inbox_id);
    }
    const targetInbox = inbox && inbox.id === contactInbox.inbox_id ? inbox : await findAccountInbox(db(), account.id, contactInbox.inbox_id);

    const message = isPlainObject(body.message) ? (body.message as JsonObject) : null;
    let createdMessage: CreatedMessage | undefined;
    const row = await createConversation(
      ctx,
      {
        inbox: targetInbox,
        contactInbox,
        status: body.status ?? null,
        assigneeId: looseRecordId(body.assignee_id),
        teamId: looseRecordId(body.team_id),
        campaignId: looseRecordId(body.campaign_id),
        additionalAttributes: (body.additional_attributes ?? {}) as JsonObject,
        customAttributes: (body.custom_attributes ?? {}) as JsonObject,
        snoozedUntil: parseTimeParam(body.snoozed_until, 'snoozed_until'),
        afterCreate: message
          ? async (trx, conversation) => {
              createdMessage = await insertMessage(trx, conversation, { ...message, actor: messageActor(request) });
            }
          : undefined,
      },
      actor,
    );
    if (createdMessage) emitMessageCreated(ctx, createdMessage);
    const fresh = await db().selectFrom('conversations').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow();
    return presentConversation(db(), fresh, viewerUserId(request));
  });

  // ---- one conversation ----

  app.get('/conversations/:id', { schema: { params: ConversationIdParams } }, async (request, reply) => {
    // The same partial as a list item: served from the list's render cache (fragments.ts). Its
    // epoch is read with the conversation (one round trip on PostgreSQL): before what renders it.
    const [epoch, conversation] = await Promise.all([readEpoch(db(), 'render_epochs', 1), load(request, request.params.id)]);
    const [item] = await renderConversationItems(db(), [conversation], viewerUserId(request), { renderEpoch: epoch, authEpoch: request.authEpoch });
    if (item === undefined) return presentConversation(db(), conversation, viewerUserId(request));
    sendJsonPieces(reply, item);
  });

  const update = async (request: FastifyRequest<{ Params: { id: string }; Body: unknown }>) => {
    const conversation = await load(request, request.params.id);
    const body = unwrap<Record<string, unknown>>(request.body, 'conversation');
    const changes: ConversationChanges = {};
    if (Object.hasOwn(body, 'priority')) changes.priority = parsePriority(body.priority);
    if (Object.hasOwn(body, 'sla_policy_id')) changes.sla_policy_id = looseRecordId(body.sla_policy_id);
    for (const key of ['custom_attributes', 'additional_attributes'] as const) {
      if (!Object.hasOwn(body, key)) continue;
      const value = body[key];
      if (value !== null && !isPlainObject(value)) throw unprocessable(`${key} must be an object`);
      changes[key] = (value ?? {}) as JsonObject;
    }
    const row = await updateConversation(ctx, conversation, changes, actorFromRequest(request));
    return presentConversation(db(), row, viewerUserId(request));
  };
  app.patch('/conversations/:id', { config: { botAccess: true }, schema: { params: ConversationIdParams, body: UpdateBody } }, update);
  app.put('/conversations/:id', { config: { botAccess: true }, schema: { params: ConversationIdParams, body: UpdateBody } }, update);

  app.delete('/conversations/:id', { schema: { params: ConversationIdParams } }, async (request, reply) => {
    const conversation = await load(request, request.params.id);
    requireAdministrator(request);
    await deleteConversation(ctx, conversation);
    return ok(reply);
  });

  // ---- actions ----

  app.post(
    '/conversations/:conversation_id/toggle_status',
    { config: { botAccess: true }, schema: { params: ConversationParams, body: ToggleStatusBody } },
    async (request) => {
      const conversation = await load(request, request.params.conversation_id);
      const body = request.body ?? {};
      const { row, success } = await toggleStatus(ctx, conversation, { status: body.status, snoozed_until: body.snoozed_until }, actorFromRequest(request));
      return {
        meta: {},
        payload: { success, conversation_id: row.display_id, current_status: statusName(row.status), snoozed_until: isoTime(row.snoozed_until) },
      };
    },
  );

  app.post(
    '/conversations/:conversation_id/toggle_priority',
    { config: { botAccess: true }, schema: { params: ConversationParams, body: TogglePriorityBody } },
    async (request, reply) => {
      const conversation = await load(request, request.params.conversation_id);
      const priority = parsePriority(request.body?.priority);
      await updateConversation(ctx, conversation, { priority }, actorFromRequest(request));
      return ok(reply);
    },
  );

  app.post('/conversations/:conversation_id/toggle_typing_status', { schema: { params: ConversationParams, body: TypingBody } }, async (request, reply) => {
    const conversation = await load(request, request.params.conversation_id);
    const status = request.body?.typing_status;
    if (status === 'on' || status === 'off') {
      const p = request.principal;
      emitTyping({
        accountId: conversation.account_id,
        conversationId: conversation.id,
        displayId: conversation.display_id,
        status,
        isPrivate: castBoolean(request.body?.is_private) ?? false,
        user: p ? (p.kind === 'user' ? { type: 'User', id: p.user.id } : { type: 'AgentBot', id: p.bot.id }) : null,
      });
    }
    return ok(reply);
  });

  app.post(
    '/conversations/:conversation_id/custom_attributes',
    { config: { botAccess: true }, schema: { params: ConversationParams, body: CustomAttributesBody } },
    async (request) => {
      const conversation = await load(request, request.params.conversation_id);
      const attributes = (request.body?.custom_attributes ?? {}) as JsonObject;
      const row = await updateConversation(ctx, conversation, { custom_attributes: attributes }, actorFromRequest(request));
      return { custom_attributes: (await presentConversation(db(), row, viewerUserId(request))).custom_attributes };
    },
  );

  app.post('/conversations/:conversation_id/update_last_seen', { schema: { params: ConversationParams } }, async (request) => {
    const conversation = await load(request, request.params.conversation_id);
    const user = currentUser(request);
    const row = await setAgentLastSeen(db(), conversation, Date.now(), conversation.assignee_id !== null && conversation.assignee_id === user.id);
    return presentConversation(db(), row, user.id);
  });

  app.post('/conversations/:conversation_id/unread', { schema: { params: ConversationParams } }, async (request) => {
    const conversation = await load(request, request.params.conversation_id);
    const row = await markUnread(db(), conversation);
    return presentConversation(db(), row, viewerUserId(request));
  });

  app.post('/conversations/:conversation_id/mute', { schema: { params: ConversationParams } }, async (request, reply) => {
    const conversation = await load(request, request.params.conversation_id);
    await setMuted(ctx, conversation, true, actorFromRequest(request));
    return ok(reply);
  });

  app.post('/conversations/:conversation_id/unmute', { schema: { params: ConversationParams } }, async (request, reply) => {
    const conversation = await load(request, request.params.conversation_id);
    await setMuted(ctx, conversation, false, actorFromRequest(request));
    return ok(reply);
  });

  // ---- assignments ----

  app.post(
    '/conversations/:conversation_id/assignments',
    { config: { botAccess: true }, schema: { params: ConversationParams, body: AssignmentBody } },
    async (request, reply) => {
      const conversation = await load(request, request.params.conversation_id);
      const body = (request.body ?? {}) as Record<string, unknown>;
      const actor = actorFromRequest(request);
      if (Object.hasOwn(body, 'assignee_id') || body.assignee_type === 'AgentBot') {
        const assigned = await assignAgent(ctx, conversation, looseRecordId(body.assignee_id), body.assignee_type as string | undefined, actor);
        if (!assigned) return jsonNull(reply);
        if ('bot' in assigned) return agentBotSlimJson(assigned.bot);
        return presentAgent(assigned.user, assigned.membership);
      }
      if (Object.hasOwn(body, 'team_id')) {
        const team = await assignTeam(ctx, conversation, looseRecordId(body.team_id), actor);
        return team ? teamAsJson(team) : jsonNull(reply);
      }
      return jsonNull(reply);
    },
  );

  // ---- labels ----

  app.get('/conversations/:conversation_id/labels', { schema: { params: ConversationParams } }, async (request) => {
    const conversation = await load(request, request.params.conversation_id);
    const rows = await db()
      .selectFrom('taggings')
      .select('name')
      .where('taggable_type', '=', 'Conversation')
      .where('taggable_id', '=', conversation.id)
      .execute();
    const stored = new Set(rows.map((r) => r.name));
    const cached = (conversation.cached_label_list ?? '').split(',').map((s) => s.trim()).filter((s) => stored.has(s));
    return { payload: [...cached, ...[...stored].filter((n) => !cached.includes(n)).sort()] };
  });

  app.post('/conversations/:conversation_id/labels', { schema: { params: ConversationParams, body: LabelsBody } }, async (request) => {
    const conversation = await load(request, request.params.conversation_id);
    const labels = await setLabels(ctx, conversation, permittedLabels(request.body?.labels), actorFromRequest(request));
    return { payload: labels };
  });

  // ---- participants ----

  const userIdsOf = (body: { user_ids?: unknown[] } | undefined): number[] => {
    if (!body || !Array.isArray(body.user_ids)) throw unprocessable('param is missing or the value is empty: user_ids');
    return [...new Set(body.user_ids.map(looseRecordId).filter((n) => n !== null))];
  };

  app.get('/conversations/:conversation_id/participants', { schema: { params: ConversationParams } }, async (request) => {
    const conversation = await load(request, request.params.conversation_id);
    return (await participantUsers(db(), conversation)).map((p) => presentAgent(p.user, p.membership));
  });

  app.post('/conversations/:conversation_id/participants', { schema: { params: ConversationParams, body: ParticipantsBody } }, async (request) => {
    const conversation = await load(request, request.params.conversation_id);
    const added = await addParticipants(ctx, conversation, userIdsOf(request.body));
    return (await usersWithMemberships(db(), conversation.account_id, added)).map((p) => presentAgent(p.user, p.membership));
  });

  app.patch('/conversations/:conversation_id/participants', { schema: { params: ConversationParams, body: ParticipantsBody } }, async (request) => {
    const conversation = await load(request, request.params.conversation_id);
    await replaceParticipants(ctx, conversation, userIdsOf(request.body));
    return (await participantUsers(db(), conversation)).map((p) => presentAgent(p.user, p.membership));
  });

  app.delete('/conversations/:conversation_id/participants', { schema: { params: ConversationParams, body: ParticipantsBody } }, async (request, reply) => {
    const conversation = await load(request, request.params.conversation_id);
    await removeParticipants(db(), conversation, userIdsOf(request.body));
    return ok(reply);
  });

  // ---- draft messages ----

  app.get('/conversations/:conversation_id/draft_messages', { schema: { params: ConversationParams } }, async (request) => {
    const conversation = await load(request, request.params.conversation_id);
    const draft = await getDraft(db(), conversation);
    return draft === null ? { has_draft: false } : { has_draft: true, message: draft };
  });

  const saveDraftHandler = async (request: FastifyRequest<{ Params: { conversation_id: string }; Body: { draft_message?: { message?: unknown } | null } | undefined }>, reply: FastifyReply) => {
    const conversation = await load(request, request.params.conversation_id);
    const message = request.body?.draft_message?.message;
    await saveDraft(db(), conversation, message === undefined || message === null ? '' : typeof message === 'string' ? message : JSON.stringify(message));
    return ok(reply);
  };
  app.patch('/conversations/:conversation_id/draft_messages', { schema: { params: ConversationParams, body: DraftBody } }, saveDraftHandler);
  app.put('/conversations/:conversation_id/draft_messages', { schema: { params: ConversationParams, body: DraftBody } }, saveDraftHandler);

  app.delete('/conversations/:conversation_id/draft_messages', { schema: { params: ConversationParams } }, async (request, reply) => {
    const conversation = await load(request, request.params.conversation_id);
    await deleteDraft(db(), conversation);
    return ok(reply);
  });
};
