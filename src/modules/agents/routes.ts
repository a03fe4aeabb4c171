import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { sql } from 'kysely';
import { currentAccount, currentUser, requireAdministrator } from '../../auth/guard.js';
import { notFound, RecordErrors, unprocessable } from '../../lib/errors.js';
import { castBoolean, isRecordId, unwrap } from '../../lib/params.js';
import { presentAgent } from '../users/presenter.js';
import { AgentSchema } from '../users/schemas.js';
import {
  createUser,
  deleteUser,
  findUserByEmail,
  removeMembership,
  updateUser,
  upsertMembership,
  passwordHashForNewUser,
  type Availability,
  type Role,
} from '../users/service.js';

const AgentFields = Type.Object({
  name: Type.Optional(Type.String({ maxLength: 255 })),
  email: Type.Optional(Type.String({ maxLength: 255 })),
  role: Type.Optional(Type.String()),
  availability: Type.Optional(Type.String()),
  auto_offline: Type.Optional(Type.Union([Type.Boolean(), Type.String()])),
});
const AgentBody = Type.Composite([AgentFields, Type.Object({ agent: Type.Optional(AgentFields) })]);
type AgentParams = typeof AgentFields.static;
const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });

/** /api/v1/accounts/:account_id/agents — the account's users (Chatwoot's AgentsController). */
export const agentsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  const tags = ['agents'];

  const agentsOf = (accountId: number) =>
    ctx.db
      .selectFrom('account_users')
      .innerJoin('users', 'users.id', 'account_users.user_id')
      .selectAll('users')
      .select([
        'account_users.id as membership_id',
        'account_users.role',
        'account_users.availability as membership_availability',
        'account_users.auto_offline',
        'account_users.account_id',
        'account_users.inviter_id',
        'account_users.active_at',
      ])
      .where('account_users.account_id', '=', accountId);

  type AgentRow = Awaited<ReturnType<ReturnType<typeof agentsOf>['executeTakeFirstOrThrow']>>;
  const present = (row: AgentRow) =>
    presentAgent(row, {
      id: row.membership_id,
      account_id: row.account_id,
      user_id: row.id,
      role: row.role,
      availability: row.membership_availability,
      auto_offline: row.auto_offline,
      inviter_id: row.inviter_id,
      active_at: row.active_at,
      created_at: row.created_at,
      updated_at: row.updated_at,
    });

  const findAgent = async (accountId: number, userId: number) => {
    if (!isRecordId(userId)) throw notFound();
    const row = await agentsOf(accountId).where('users.id', '=', userId).executeTakeFirst();
    if (!row) throw notFound();
    return row;
  };

  app.get('/agents', { schema: { tags, response: { 200: Type.Array(AgentSchema) } } }, async (request) => {
    const rows = await agentsOf(currentAccount(request).id).orderBy(sql`lower(users.name)`).orderBy('users.id').execute();
    return rows.map(present);
  });

  app.post('/agents', { schema: { tags, body: AgentBody, response: { 200: AgentSchema } } }, async (request) => {
    requireAdministrator(request);
    const account = currentAccount(request);
    const inviter = currentUser(request);
    const params = unwrap<AgentParams>(request.body, 'agent');
    if (!params.email) throw unprocessable('param is missing or the value is empty: email');
    const encrypted = await passwordHashForNewUser(ctx.db, params.email, undefined);
    const userId = await ctx.db.transaction().execute(async (trx) => {
      const user =
        (await findUserByEmail(trx, params.email!)) ?? (await createUser(trx, { email: params.email, name: params.name ?? '', confirmed: false }, encrypted));
      const taken = await trx.selectFrom('account_users').select('id').where('account_id', '=', account.id).where('user_id', '=', user.id).executeTakeFirst();
      if (taken) throw new RecordErrors().add('user_id', 'has already been taken').toError();
      await upsertMembership(trx, account.id, user.id, {
        role: (params.role ?? 'agent') as Role,
        ...(params.availability !== undefined ? { availability: params.availability as Availability } : {}),
        ...(params.auto_offline !== undefined ? { auto_offline: castBoolean(params.auto_offline) ?? false } : {}),
        inviter_id: inviter.id,
      });
      return user.id;
    });
    return present(await findAgent(account.id, userId));
  });

  for (const method of ['PATCH', 'PUT'] as const) {
    app.route({
      method,
      url: '/agents/:id',
      schema: { tags, params: IdParams, body: AgentBody, response: { 200: AgentSchema } },
      handler: async (request) => {
        requireAdministrator(request);
        const account = currentAccount(request);
        const agent = await findAgent(account.id, request.params.id);
        const params = unwrap<AgentParams>(request.body, 'agent');
        await ctx.db.transaction().execute(async (trx) => {
          if (params.name !== undefined && params.name !== null) await updateUser(trx, agent, { name: params.name });
          await upsertMembership(trx, account.id, agent.id, {
            ...(params.role !== undefined ? { role: params.role as Role } : {}),
            ...(params.availability !== undefined ? { availability: params.availability as Availability } : {}),
            ...(params.auto_offline !== undefined ? { auto_offline: castBoolean(params.auto_offline) ?? false } : {}),
          });
        });
        return present(await findAgent(account.id, agent.id));
      },
    });
  }

  app.delete('/agents/:id', { schema: { tags, params: IdParams } }, async (request, reply) => {
    requireAdministrator(request);
    const account = currentAccount(request);
    const agent = await findAgent(account.id, request.params.id);
    await removeMembership(ctx.db, account.id, agent.id);
    // A user left without any account is deleted, as Chatwoot's DeleteObjectJob does.
    const remaining = await ctx.db.selectFrom('account_users').select('id').where('user_id', '=', agent.id).executeTakeFirst();
    if (!remaining) await deleteUser(ctx.db, agent);
    return reply.status(200).send();
  });
};
