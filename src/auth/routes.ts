import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import rateLimit from '@fastify/rate-limit';
import { Type } from '@sinclair/typebox';
import { presentProfile } from '../modules/users/presenter.js';
import { checkPassword, findUserByEmail, type UserRow } from '../modules/users/service.js';
import { isoTime, now } from '../db/time.js';
import { consumeSsoToken, createSession, deleteSession, type IssuedSession } from './sessions.js';
import { userFromSessionHeaders } from './guard.js';

const INVALID_LOGIN = 'Invalid login credentials. Please try again.';

const SignInBody = Type.Object({
  email: Type.Optional(Type.String({ maxLength: 255 })),
  password: Type.Optional(Type.String({ maxLength: 1024 })),
  sso_auth_token: Type.Optional(Type.String({ maxLength: 256 })),
});

/**
 * devise_token_auth's endpoints as Chatwoot mounts them at /auth: sign_in answers the user
 * under `data` and the session in headers (access-token, client, uid, token-type, expiry).
 */
export const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { ctx } = app;
  // Repeated sign-in attempts from one address are slowed to a stop (429) for a minute.
  // With several processes the counters live in Redis so every process sees the same count.
  const { redis } = ctx;
  await app.register(rateLimit, { global: false, ...(redis ? { redis, nameSpace: 'parley-sign-in-' } : {}) });

  const sessionHeaders = (user: UserRow, session: IssuedSession) => ({
    'access-token': session.accessToken,
    client: session.client,
    uid: user.uid,
    'token-type': 'Bearer',
    expiry: String(Math.floor(session.expiresAt / 1000)),
  });

  app.post(
    '/auth/sign_in',
    {
      schema: { body: SignInBody, tags: ['auth'] },
      config: { rateLimit: { max: ctx.config.signInRateLimit, timeWindow: 60_000 } },
    },
    async (request, reply) => {
      const { email, password, sso_auth_token: sso } = request.body;
      const user = email ? await findUserByEmail(ctx.db, email) : undefined;
      let ok = false;
      if (user && sso) ok = await consumeSsoToken(ctx.db, user.id, sso);
      else if (user && password) ok = await checkPassword(user, password);
      if (!user || !ok) return reply.status(401).send({ success: false, errors: [INVALID_LOGIN] });
      const session = await ctx.db.transaction().execute(async (trx) => {
        const s = await createSession(trx, user.id);
        await trx
          .updateTable('users')
          .set({ sign_in_count: user.sign_in_count + 1, last_sign_in_at: now() })
          .where('id', '=', user.id)
          .execute();
        return s;
      });
      reply.headers(sessionHeaders(user, session));
      return { data: await presentProfile(ctx.db, user) };
    },
  );

  app.get('/auth/validate_token', { schema: { tags: ['auth'] } }, async (request, reply) => {
    const user = await userFromSessionHeaders(ctx, request);
    if (!user) return reply.status(401).send({ success: false, errors: ['Invalid login credentials'] });
    return { payload: { success: true, data: { ...(await presentProfile(ctx.db, user)), created_at: isoTime(user.created_at) } } };
  });

  app.delete('/auth/sign_out', { schema: { tags: ['auth'] } }, async (request, reply) => {
    const user = await userFromSessionHeaders(ctx, request);
    const client = request.headers.client;
    if (!user || typeof client !== 'string' || !(await deleteSession(ctx.db, user.id, client))) {
      return reply.status(404).send({ success: false, errors: ['User was not found or was not logged in.'] });
    }
    return { success: true };
  });
};
