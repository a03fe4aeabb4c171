import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { currentAccount, requireAdministrator } from '../../auth/guard.js';
import { rotateAccessToken } from '../../auth/tokens.js';
import { notFound } from '../../lib/errors.js';
import { unwrap } from '../../lib/params.js';
import { presentAgentBot } from './presenter.js';
import { accountAgentBots, createAgentBot, deleteAgentBot, findAgentBot, updateAgentBot, type AgentBotInput } from './service.js';

const BotFields = Type.Object({
  name: Type.Optional(Type.String({ maxLength: 255 })),
  description: Type.Optional(Type.Union([Type.String({ maxLength: 10_000 }), Type.Null()])),
  outgoing_url: Type.Optional(Type.Union([Type.String({ maxLength: 2048 }), Type.Null()])),
  bot_type: Type.Optional(Type.String()),
  bot_config: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  avatar_url: Type.Optional(Type.Union([Type.String({ maxLength: 2048 }), Type.Null()])),
});
const BotBody = Type.Composite([BotFields, Type.Object({ agent_bot: Type.Optional(BotFields) })]);
const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });

/**
 * /api/v1/accounts/:account_id/agent_bots — the account's own bots plus global ones (read-only).
 * Administrators manage; agents may list and read (AgentBotPolicy).
 */
export const agentBotsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  const tags = ['agent_bots'];

  /** A bot visible from this account: its own, or a system bot (read only). */
  const visibleBot = async (accountId: number, id: number) => {
    const bot = await findAgentBot(ctx.db, id);
    if (bot.account_id !== null && bot.account_id !== accountId) throw notFound();
    return bot;
  };
  const ownBot = async (accountId: number, id: number) => {
    const bot = await findAgentBot(ctx.db, id);
    if (bot.account_id !== accountId) throw notFound();
    return bot;
  };

  app.get('/agent_bots', { schema: { tags } }, async (request) => {
    const account = currentAccount(request);
    const bots = await accountAgentBots(ctx.db, account.id);
    return Promise.all(bots.map((b) => presentAgentBot(ctx.db, b, { withToken: true })));
  });

  app.get('/agent_bots/:id', { schema: { tags, params: IdParams } }, async (request) => {
    const bot = await visibleBot(currentAccount(request).id, request.params.id);
    return presentAgentBot(ctx.db, bot, { withToken: true });
  });

  app.post('/agent_bots', { schema: { tags, body: BotBody } }, async (request) => {
    requireAdministrator(request);
    const input = unwrap<AgentBotInput>(request.body, 'agent_bot');
    const bot = await createAgentBot(ctx.db, { ...input, account_id: currentAccount(request).id });
    return presentAgentBot(ctx.db, bot, { withToken: true });
  });

  for (const method of ['PATCH', 'PUT'] as const) {
    app.route({
      method,
      url: '/agent_bots/:id',
      schema: { tags, params: IdParams, body: BotBody },
      handler: async (request) => {
        requireAdministrator(request);
        const bot = await ownBot(currentAccount(request).id, request.params.id);
        const { account_id: _ignored, ...input } = unwrap<AgentBotInput>(request.body, 'agent_bot');
        return presentAgentBot(ctx.db, await updateAgentBot(ctx.db, bot, input), { withToken: true });
      },
    });
  }

  app.delete('/agent_bots/:id', { schema: { tags, params: IdParams } }, async (request, reply) => {
    requireAdministrator(request);
    const bot = await ownBot(currentAccount(request).id, request.params.id);
    await deleteAgentBot(ctx.db, bot);
    return reply.status(200).send();
  });

  app.delete('/agent_bots/:id/avatar', { schema: { tags, params: IdParams } }, async (request) => {
    requireAdministrator(request);
    const bot = await ownBot(currentAccount(request).id, request.params.id);
    return presentAgentBot(ctx.db, await updateAgentBot(ctx.db, bot, { avatar_url: null }), { withToken: true });
  });

  app.post('/agent_bots/:id/reset_access_token', { schema: { tags, params: IdParams } }, async (request) => {
    requireAdministrator(request);
    const bot = await ownBot(currentAccount(request).id, request.params.id);
    await rotateAccessToken(ctx.db, 'AgentBot', bot.id);
    return presentAgentBot(ctx.db, bot, { withToken: true });
  });
};
