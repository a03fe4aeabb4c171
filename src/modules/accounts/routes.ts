import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { currentUser, ROLE } from '../../auth/guard.js';
import { now } from '../../db/time.js';
import { notFound, unauthorized } from '../../lib/errors.js';
import { findAccount, updateAccount } from './service.js';
import { presentAccount } from './presenter.js';

const Params = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const UpdateBody = Type.Object({
  name: Type.Optional(Type.String({ maxLength: 255 })),
  locale: Type.Optional(Type.String({ maxLength: 16 })),
  domain: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])),
  support_email: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])),
  industry: Type.Optional(Type.String({ maxLength: 255 })),
  company_size: Type.Optional(Type.String({ maxLength: 255 })),
  timezone: Type.Optional(Type.String({ maxLength: 255 })),
  auto_resolve_after: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  auto_resolve_message: Type.Optional(Type.Union([Type.String({ maxLength: 10_000 }), Type.Null()])),
  auto_resolve_ignore_waiting: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  audio_transcriptions: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  auto_resolve_label: Type.Optional(Type.Union([Type.String({ maxLength: 255 }), Type.Null()])),
  conversation_required_attributes: Type.Optional(Type.Array(Type.String({ maxLength: 255 }), { maxItems: 100 })),
});

/**
 * GET/PATCH /api/v1/accounts/:id (Chatwoot's AccountsController). Members may read;
 * administrators may update (AccountPolicy).
 */
export const accountsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  const tags = ['accounts'];

  const membershipOf = async (userId: number, accountId: number) => {
    const account = await findAccount(ctx.db, accountId);
    const m = await ctx.db
      .selectFrom('account_users')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    // current_user.accounts.find(id): not a member is the same as not found.
    if (!m) throw notFound();
    return { account, membership: m };
  };

  app.get('/accounts/:id', { schema: { tags, params: Params } }, async (request) => {
    const { account } = await membershipOf(currentUser(request).id, request.params.id);
    return { ...presentAccount(account), latest_chatwoot_version: null };
  });

  const update = async (userId: number, accountId: number, body: typeof UpdateBody.static) => {
    const { account, membership } = await membershipOf(userId, accountId);
    if (membership.role !== ROLE.administrator) throw unauthorized();
    const custom: Record<string, unknown> = {};
    for (const key of ['industry', 'company_size', 'timezone'] as const) if (body[key] !== undefined) custom[key] = body[key];
    const settings: Record<string, unknown> = {};
    for (const key of [
      'auto_resolve_after', 'auto_resolve_message', 'auto_resolve_ignore_waiting', 'audio_transcriptions', 'auto_resolve_label',
      'conversation_required_attributes',
    ] as const) {
      if (body[key] !== undefined) settings[key] = body[key];
    }
    return updateAccount(
      ctx.db,
      account,
      {
        name: body.name,
        locale: body.locale,
        domain: body.domain,
        support_email: body.support_email,
        ...(Object.keys(custom).length ? { custom_attributes: custom } : {}),
        ...(Object.keys(settings).length ? { settings } : {}),
      },
      'merge',
    );
  };

  for (const method of ['PATCH', 'PUT'] as const) {
    app.route({
      method,
      url: '/accounts/:id',
      schema: { tags, params: Params, body: UpdateBody },
      handler: async (request) => presentAccount(await update(currentUser(request).id, request.params.id, request.body)),
    });
  }

  app.post('/accounts/:id/update_active_at', { schema: { tags, params: Params } }, async (request, reply) => {
    const { membership } = await membershipOf(currentUser(request).id, request.params.id);
    await ctx.db.updateTable('account_users').set({ active_at: now(), updated_at: now() }).where('id', '=', membership.id).execute();
    return reply.status(200).send();
  });
};
