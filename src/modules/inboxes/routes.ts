import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { assertInboxAccess, accessibleInboxIds, currentAccount, isAdministrator, requireAdministrator } from '../../auth/guard.js';
import { presentAgent } from '../users/presenter.js';
import { presentAgentBot } from '../agent-bots/presenter.js';
import { presentInbox, presentInboxes, type InboxPresentOptions } from './presenter.js';
import {
  AccountParams,
  InboxCreateBody,
  InboxMembersBody,
  InboxMembersParams,
  InboxParams,
  InboxUpdateBody,
  SetAgentBotBody,
} from './schemas.js';
import {
  addInboxMembers,
  assignableAgents,
  createInbox,
  deleteInbox,
  findInbox,
  findInboxParam,
  inboxAgentBot,
  inboxAgents,
  listInboxes,
  removeInboxMembers,
  replaceInboxMembers,
  setInboxAgentBot,
  updateInbox,
  type InboxAgent,
  type InboxRow,
} from './service.js';

const INBOX_DELETION_MESSAGE = 'Your inbox deletion request will be processed in some time.';

const presentAgents = (agents: InboxAgent[]) => ({ payload: agents.map((a) => presentAgent(a.user, a.membership)) });

export const inboxesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  const presentOptions = (request: FastifyRequest): InboxPresentOptions => ({
    administrator: isAdministrator(request),
    frontendUrl: ctx.config.frontendUrl,
  });

  /** InboxesController#fetch_inbox: the account's inbox (404), which the caller may see (InboxPolicy#show?, 401). */
  async function fetchInbox(request: FastifyRequest, rawId: string): Promise<InboxRow> {
    const inbox = await findInbox(ctx.db, currentAccount(request).id, Number(rawId));
    await assertInboxAccess(ctx, request, inbox.id);
    return inbox;
  }

  app.get('/inboxes', { schema: { params: AccountParams } }, async (request) => {
    const account = currentAccount(request);
    const ids = await accessibleInboxIds(ctx, request);
    const inboxes = await listInboxes(ctx.db, account.id, ids);
    return { payload: await presentInboxes(ctx.db, inboxes, presentOptions(request)) };
  });

  app.post('/inboxes', { schema: { params: AccountParams, body: InboxCreateBody } }, async (request) => {
    const account = currentAccount(request);
    requireAdministrator(request);
    const inbox = await createInbox(ctx.db, account.id, (request.body ?? {}) as InboxCreateBody);
    return presentInbox(ctx.db, inbox, presentOptions(request));
  });

  app.get('/inboxes/:id', { schema: { params: InboxParams } }, async (request) => {
    const inbox = await fetchInbox(request, request.params.id);
    return presentInbox(ctx.db, inbox, presentOptions(request));
  });

  const update = async (request: FastifyRequest<{ Params: InboxParams; Body: InboxUpdateBody }>) => {
    const inbox = await fetchInbox(request, request.params.id);
    requireAdministrator(request);
    const updated = await updateInbox(ctx.db, inbox, (request.body ?? {}) as InboxUpdateBody);
    return presentInbox(ctx.db, updated, presentOptions(request));
  };
  app.patch('/inboxes/:id', { schema: { params: InboxParams, body: InboxUpdateBody } }, update);
  app.put('/inboxes/:id', { schema: { params: InboxParams, body: InboxUpdateBody } }, update);

  app.delete('/inboxes/:id', { schema: { params: InboxParams } }, async (request) => {
    const inbox = await fetchInbox(request, request.params.id);
    requireAdministrator(request);
    await deleteInbox(ctx.db, inbox);
    return { message: INBOX_DELETION_MESSAGE };
  });

  app.get('/inboxes/:id/assignable_agents', { schema: { params: InboxParams } }, async (request) => {
    const inbox = await fetchInbox(request, request.params.id);
    return presentAgents(await assignableAgents(ctx.db, inbox));
  });

  app.get('/inboxes/:id/agent_bot', { schema: { params: InboxParams } }, async (request) => {
    const inbox = await fetchInbox(request, request.params.id);
    const bot = await inboxAgentBot(ctx.db, inbox.id);
    if (!bot) return { agent_bot: {} };
    const withToken = isAdministrator(request) && bot.account_id === inbox.account_id;
    return { agent_bot: await presentAgentBot(ctx.db, bot, { withToken }) };
  });

  app.post('/inboxes/:id/set_agent_bot', { schema: { params: InboxParams, body: SetAgentBotBody } }, async (request, reply) => {
    const inbox = await fetchInbox(request, request.params.id);
    requireAdministrator(request);
    await setInboxAgentBot(ctx.db, inbox, request.body?.agent_bot);
    return reply.status(200).send();
  });

  // ---- inbox members

  app.get('/inbox_members/:inbox_id', { schema: { params: InboxMembersParams } }, async (request) => {
    const inbox = await fetchInbox(request, request.params.inbox_id);
    return presentAgents(await inboxAgents(ctx.db, inbox));
  });

  app.post('/inbox_members', { schema: { params: AccountParams, body: InboxMembersBody } }, async (request) => {
    const inbox = await findInboxParam(ctx.db, currentAccount(request).id, request.body?.inbox_id);
    requireAdministrator(request);
    await addInboxMembers(ctx.db, inbox, request.body?.user_ids);
    return presentAgents(await inboxAgents(ctx.db, inbox));
  });

  app.patch('/inbox_members', { schema: { params: AccountParams, body: InboxMembersBody } }, async (request) => {
    const inbox = await findInboxParam(ctx.db, currentAccount(request).id, request.body?.inbox_id);
    requireAdministrator(request);
    await replaceInboxMembers(ctx.db, inbox, request.body?.user_ids);
    return presentAgents(await inboxAgents(ctx.db, inbox));
  });

  app.delete('/inbox_members', { schema: { params: AccountParams, body: InboxMembersBody } }, async (request, reply) => {
    const inbox = await findInboxParam(ctx.db, currentAccount(request).id, request.body?.inbox_id);
    requireAdministrator(request);
    await removeInboxMembers(ctx.db, inbox, request.body?.user_ids);
    return reply.status(200).send();
  });
};
