import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { currentUser } from '../../auth/guard.js';
import { rotateAccessToken } from '../../auth/tokens.js';
import { now } from '../../db/time.js';
import { notFound, unprocessable } from '../../lib/errors.js';
import { unwrap, castBoolean } from '../../lib/params.js';
import { presentProfile } from '../users/presenter.js';
import { ProfileSchema } from '../users/schemas.js';
import { AVAILABILITY, checkPassword, updateUser, userCustomAttributes, type Availability, type UserInput } from '../users/service.js';

const ProfileFields = Type.Object({
  name: Type.Optional(Type.String({ maxLength: 255 })),
  display_name: Type.Optional(Type.Union([Type.String({ maxLength: 255 }), Type.Null()])),
  email: Type.Optional(Type.String({ maxLength: 255 })),
  message_signature: Type.Optional(Type.Union([Type.String({ maxLength: 10_000 }), Type.Null()])),
  ui_settings: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  phone_number: Type.Optional(Type.String({ maxLength: 64 })),
  current_password: Type.Optional(Type.String({ maxLength: 1024 })),
  password: Type.Optional(Type.String({ maxLength: 128 })),
  password_confirmation: Type.Optional(Type.String({ maxLength: 128 })),
  account_id: Type.Optional(Type.Integer({ minimum: 1 })),
  availability: Type.Optional(Type.String()),
  auto_offline: Type.Optional(Type.Union([Type.Boolean(), Type.String()])),
});
// Chatwoot reads these under `profile`; Rails also accepts them at the root (wrap_parameters).
const ProfileBody = Type.Composite([ProfileFields, Type.Object({ profile: Type.Optional(ProfileFields) })]);
type ProfileParams = typeof ProfileFields.static;

/** /api/v1/profile — the signed-in user's own record (users only; bots are refused upstream). */
export const profileRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  const tags = ['profile'];

  const membership = async (userId: number, accountId: number | undefined) => {
    if (!accountId) throw unprocessable('param is missing or the value is empty: account_id');
    const m = await ctx.db.selectFrom('account_users').selectAll().where('user_id', '=', userId).where('account_id', '=', accountId).executeTakeFirst();
    if (!m) throw notFound();
    return m;
  };

  app.get('/profile', { schema: { tags, response: { 200: ProfileSchema } } }, async (request) => {
    const principal = request.principal;
    // Authenticated by its access token: that token is the one the profile shows.
    return presentProfile(ctx.db, currentUser(request), principal?.kind === 'user' ? principal.accessToken : undefined, request.authEpoch);
  });

  const update = async (user: ReturnType<typeof currentUser>, params: ProfileParams) => {
    const input: UserInput = {};
    if (params.password) {
      if (!(await checkPassword(user, params.current_password ?? ''))) throw unprocessable('Invalid current password');
      input.password = params.password;
      if (params.password_confirmation !== undefined) input.password_confirmation = params.password_confirmation;
    }
    for (const key of ['name', 'display_name', 'email', 'message_signature', 'ui_settings'] as const) {
      if (params[key] !== undefined) (input as Record<string, unknown>)[key] = params[key];
    }
    if (params.phone_number !== undefined) input.custom_attributes = { ...userCustomAttributes(user), phone_number: params.phone_number };
    return updateUser(ctx.db, user, input);
  };

  for (const method of ['PUT', 'PATCH'] as const) {
    app.route({
      method,
      url: '/profile',
      schema: { tags, body: ProfileBody, response: { 200: ProfileSchema } },
      handler: async (request) => {
        const updated = await update(currentUser(request), unwrap<ProfileParams>(request.body, 'profile'));
        return presentProfile(ctx.db, updated);
      },
    });
  }

  app.delete('/profile/avatar', { schema: { tags } }, async (request) => {
    const updated = await updateUser(ctx.db, currentUser(request), { avatar_url: null });
    return presentProfile(ctx.db, updated);
  });

  app.post('/profile/availability', { schema: { tags, body: ProfileBody } }, async (request) => {
    const user = currentUser(request);
    const params = unwrap<ProfileParams>(request.body, 'profile');
    const m = await membership(user.id, params.account_id);
    if (!AVAILABILITY.includes(params.availability as Availability)) throw unprocessable('Availability is not included in the list');
    await ctx.db
      .updateTable('account_users')
      .set({ availability: AVAILABILITY.indexOf(params.availability as Availability), updated_at: now() })
      .where('id', '=', m.id)
      .execute();
    return presentProfile(ctx.db, user);
  });

  app.post('/profile/auto_offline', { schema: { tags, body: ProfileBody } }, async (request) => {
    const user = currentUser(request);
    const params = unwrap<ProfileParams>(request.body, 'profile');
    const m = await membership(user.id, params.account_id);
    await ctx.db
      .updateTable('account_users')
      .set({ auto_offline: castBoolean(params.auto_offline) ? 1 : 0, updated_at: now() })
      .where('id', '=', m.id)
      .execute();
    return presentProfile(ctx.db, user);
  });

  app.put('/profile/set_active_account', { schema: { tags, body: ProfileBody } }, async (request, reply) => {
    const user = currentUser(request);
    const m = await membership(user.id, unwrap<ProfileParams>(request.body, 'profile').account_id);
    await ctx.db.updateTable('account_users').set({ active_at: now(), updated_at: now() }).where('id', '=', m.id).execute();
    return reply.status(200).send();
  });

  app.post('/profile/resend_confirmation', { schema: { tags } }, async (_request, reply) => reply.status(200).send());

  app.post('/profile/reset_access_token', { schema: { tags } }, async (request) => {
    const user = currentUser(request);
    await rotateAccessToken(ctx.db, 'User', user.id);
    return presentProfile(ctx.db, user);
  });
};
