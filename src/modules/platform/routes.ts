import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { findAccessToken } from '../../auth/tokens.js';
import { issueSsoToken } from '../../auth/sessions.js';
import { isoTime } from '../../db/time.js';
import { unauthorized, unprocessable } from '../../lib/errors.js';
import { createAccount, deleteAccount, findAccount, updateAccount } from '../accounts/service.js';
import { presentPlatformAccount } from '../accounts/presenter.js';
import { createAgentBot, deleteAgentBot, findAgentBot, updateAgentBot } from '../agent-bots/service.js';
import { presentPlatformAgentBot } from '../agent-bots/presenter.js';
import {
  availabilityName,
  createUser,
  deleteUser,
  findUser,
  findUserByEmail,
  removeMembership,
  roleName,
  upsertMembership,
  updateUser,
  userCustomAttributes,
  passwordHashForNewUser,
  type AccountUserRow,
  type Role,
} from '../users/service.js';
import { presentPlatformUser } from '../users/presenter.js';
import { grantPermissible, isPermissible, permissibleIds, type PermissibleType } from './permissibles.js';
import { AccountBody, AccountIdParams, AccountUserBody, AccountUserDeleteBody, AgentBotBody, IdParams, UserBody } from './schemas.js';

declare module 'fastify' {
  interface FastifyRequest {
    platformAppId: number | null;
  }
}

/** ActiveRecord's default JSON of an AccountUser (render json: account_user). */
function presentAccountUser(m: AccountUserRow): Record<string, unknown> {
  return {
    id: m.id,
    account_id: m.account_id,
    user_id: m.user_id,
    role: roleName(m.role),
    inviter_id: m.inviter_id,
    created_at: isoTime(m.created_at),
    updated_at: isoTime(m.updated_at),
    active_at: isoTime(m.active_at),
    availability: availabilityName(m.availability),
    auto_offline: m.auto_offline === 1,
    custom_role_id: null,
    agent_capacity_policy_id: null,
  };
}

/**
 * Chatwoot's Platform API: a platform app (its own token) manages the accounts, users and
 * agent bots it created or was granted. Missing record → 404; someone else's → 401.
 */
export const platformRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  app.decorateRequest('platformAppId', null);
  app.addHook('onRequest', async (request) => {
    const raw = request.headers.api_access_token ?? request.headers['api-access-token'];
    const token = Array.isArray(raw) ? raw[0] : raw;
    const found = token ? await findAccessToken(ctx.db, token) : undefined;
    if (found?.owner_type !== 'PlatformApp') throw unauthorized('Invalid access_token');
    request.platformAppId = found.owner_id;
  });

  const appId = (request: FastifyRequest): number => request.platformAppId!;
  const assertPermissible = async (request: FastifyRequest, type: PermissibleType, id: number) => {
    if (!(await isPermissible(ctx.db, appId(request), type, id))) throw unauthorized('Non permissible resource');
  };
  const tags = ['platform'];

  // ---- accounts ----
  app.get('/accounts', { schema: { tags } }, async (request) => {
    const ids = await permissibleIds(ctx.db, appId(request), 'Account');
    if (ids.length === 0) return [];
    const rows = await ctx.db.selectFrom('accounts').selectAll().where('id', 'in', ids).orderBy('id').execute();
    return rows.map(presentPlatformAccount);
  });

  app.post('/accounts', { schema: { tags, body: AccountBody } }, async (request) => {
    const account = await ctx.db.transaction().execute(async (trx) => {
      const created = await createAccount(trx, request.body);
      await grantPermissible(trx, appId(request), 'Account', created.id);
      return created;
    });
    return presentPlatformAccount(account);
  });

  app.get('/accounts/:id', { schema: { tags, params: IdParams } }, async (request) => {
    const account = await findAccount(ctx.db, request.params.id);
    await assertPermissible(request, 'Account', account.id);
    return presentPlatformAccount(account);
  });

  app.patch('/accounts/:id', { schema: { tags, params: IdParams, body: AccountBody } }, async (request) => {
    const account = await findAccount(ctx.db, request.params.id);
    await assertPermissible(request, 'Account', account.id);
    return presentPlatformAccount(await updateAccount(ctx.db, account, request.body, 'replace'));
  });

  app.delete('/accounts/:id', { schema: { tags, params: IdParams } }, async (request, reply) => {
    const account = await findAccount(ctx.db, request.params.id);
    await assertPermissible(request, 'Account', account.id);
    await deleteAccount(ctx.db, account);
    return reply.status(200).send();
  });

  // ---- account users ----
  app.get('/accounts/:account_id/account_users', { schema: { tags, params: AccountIdParams } }, async (request) => {
    const account = await findAccount(ctx.db, request.params.account_id);
    await assertPermissible(request, 'Account', account.id);
    const rows = await ctx.db.selectFrom('account_users').selectAll().where('account_id', '=', account.id).orderBy('id').execute();
    return rows.map(presentAccountUser);
  });

  app.post('/accounts/:account_id/account_users', { schema: { tags, params: AccountIdParams, body: AccountUserBody } }, async (request) => {
    const account = await findAccount(ctx.db, request.params.account_id);
    await assertPermissible(request, 'Account', account.id);
    const user = await ctx.db.selectFrom('users').select('id').where('id', '=', request.body.user_id).executeTakeFirst();
    if (!user) throw unprocessable('User must exist');
    const membership = await upsertMembership(ctx.db, account.id, user.id, { role: (request.body.role ?? 'agent') as Role });
    return presentAccountUser(membership);
  });

  app.delete(
    '/accounts/:account_id/account_users',
    { schema: { tags, params: AccountIdParams, body: AccountUserDeleteBody } },
    async (request, reply) => {
      const account = await findAccount(ctx.db, request.params.account_id);
      await assertPermissible(request, 'Account', account.id);
      await removeMembership(ctx.db, account.id, request.body.user_id);
      return reply.status(200).send();
    },
  );

  // ---- users ----
  app.post('/users', { schema: { tags, body: UserBody } }, async (request) => {
    const password = request.body.password ?? undefined;
    const encrypted = await passwordHashForNewUser(ctx.db, request.body.email, password);
    const user = await ctx.db.transaction().execute(async (trx) => {
      // Chatwoot's User.from_email || User.new: an existing user with that email is reused.
      const existing = request.body.email ? await findUserByEmail(trx, request.body.email) : undefined;
      const u = existing ?? (await createUser(trx, { ...request.body, password, confirmed: true }, encrypted));
      await grantPermissible(trx, appId(request), 'User', u.id);
      return u;
    });
    return presentPlatformUser(ctx.db, user);
  });

  app.get('/users/:id', { schema: { tags, params: IdParams } }, async (request) => {
    const user = await findUser(ctx.db, request.params.id);
    await assertPermissible(request, 'User', user.id);
    return presentPlatformUser(ctx.db, user);
  });

  app.patch('/users/:id', { schema: { tags, params: IdParams, body: UserBody } }, async (request) => {
    const user = await findUser(ctx.db, request.params.id);
    await assertPermissible(request, 'User', user.id);
    const { custom_attributes: custom, ...rest } = request.body;
    const updated = await updateUser(ctx.db, user, {
      ...rest,
      ...(custom ? { custom_attributes: { ...userCustomAttributes(user), ...custom } } : {}),
    });
    return presentPlatformUser(ctx.db, updated);
  });

  app.delete('/users/:id', { schema: { tags, params: IdParams } }, async (request, reply) => {
    const user = await findUser(ctx.db, request.params.id);
    await assertPermissible(request, 'User', user.id);
    await deleteUser(ctx.db, user);
    return reply.status(200).send();
  });

  app.get('/users/:id/login', { schema: { tags, params: IdParams } }, async (request) => {
    const user = await findUser(ctx.db, request.params.id);
    await assertPermissible(request, 'User', user.id);
    const token = await issueSsoToken(ctx.db, user.id);
    return { url: `${ctx.config.frontendUrl}/app/login?email=${encodeURIComponent(user.email)}&sso_auth_token=${token}` };
  });

  // ---- agent bots ----
  app.get('/agent_bots', { schema: { tags } }, async (request) => {
    const ids = await permissibleIds(ctx.db, appId(request), 'AgentBot');
    if (ids.length === 0) return [];
    const bots = await ctx.db.selectFrom('agent_bots').selectAll().where('id', 'in', ids).orderBy('id').execute();
    return Promise.all(bots.map((b) => presentPlatformAgentBot(ctx.db, b)));
  });

  app.post('/agent_bots', { schema: { tags, body: AgentBotBody } }, async (request) => {
    const { account_id: accountId } = request.body;
    if (accountId) await findAccount(ctx.db, accountId).catch(() => Promise.reject(unprocessable('Account must exist')));
    const bot = await createAgentBot(ctx.db, request.body);
    await grantPermissible(ctx.db, appId(request), 'AgentBot', bot.id);
    return presentPlatformAgentBot(ctx.db, bot);
  });

  app.get('/agent_bots/:id', { schema: { tags, params: IdParams } }, async (request) => {
    const bot = await findAgentBot(ctx.db, request.params.id);
    await assertPermissible(request, 'AgentBot', bot.id);
    return presentPlatformAgentBot(ctx.db, bot);
  });

  app.patch('/agent_bots/:id', { schema: { tags, params: IdParams, body: AgentBotBody } }, async (request) => {
    const bot = await findAgentBot(ctx.db, request.params.id);
    await assertPermissible(request, 'AgentBot', bot.id);
    if (request.body.account_id) await findAccount(ctx.db, request.body.account_id).catch(() => Promise.reject(unprocessable('Account must exist')));
    return presentPlatformAgentBot(ctx.db, await updateAgentBot(ctx.db, bot, request.body));
  });

  app.delete('/agent_bots/:id', { schema: { tags, params: IdParams } }, async (request, reply) => {
    const bot = await findAgentBot(ctx.db, request.params.id);
    await assertPermissible(request, 'AgentBot', bot.id);
    await deleteAgentBot(ctx.db, bot);
    return reply.status(200).send();
  });

  app.delete('/agent_bots/:id/avatar', { schema: { tags, params: IdParams } }, async (request) => {
    const bot = await findAgentBot(ctx.db, request.params.id);
    await assertPermissible(request, 'AgentBot', bot.id);
    return presentPlatformAgentBot(ctx.db, await updateAgentBot(ctx.db, bot, { avatar_url: null }));
  });

};
