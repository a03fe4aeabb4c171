import type { Db } from '../context.js';
import { now } from '../db/time.js';
import { secureToken, sha256 } from '../lib/random.js';

/** devise_token_auth keeps a token for two weeks (config.token_lifespan). */
export const SESSION_LIFESPAN_MS = 14 * 24 * 3600 * 1000;
const SSO_LIFESPAN_MS = 5 * 60 * 1000;

export interface IssuedSession {
  accessToken: string;
  client: string;
  expiresAt: number;
}

export async function createSession(db: Db, userId: number): Promise<IssuedSession> {
  const accessToken = secureToken(22);
  const client = secureToken(22);
  const t = now();
  const expiresAt = t + SESSION_LIFESPAN_MS;
  await db
    .insertInto('user_sessions')
    .values({ user_id: userId, client, token_digest: sha256(accessToken), expires_at: expiresAt, created_at: t, updated_at: t })
    .execute();
  // Expired sessions of this user are garbage; drop them while we are here.
  await db.deleteFrom('user_sessions').where('user_id', '=', userId).where('expires_at', '<', t).execute();
  return { accessToken, client, expiresAt };
}

export async function deleteSession(db: Db, userId: number, client: string): Promise<boolean> {
  const res = await db.deleteFrom('user_sessions').where('user_id', '=', userId).where('client', '=', client).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

/** One-time sign-in token for the Platform API's users/{id}/login (Chatwoot keeps it 5 minutes). */
export async function issueSsoToken(db: Db, userId: number): Promise<string> {
  const token = secureToken(64);
  await db.insertInto('sso_tokens').values({ token_digest: sha256(token), user_id: userId, expires_at: now() + SSO_LIFESPAN_MS }).execute();
  return token;
}

/** Consumes the token: true once, false ever after. */
export async function consumeSsoToken(db: Db, userId: number, token: string): Promise<boolean> {
  const res = await db
    .deleteFrom('sso_tokens')
    .where('token_digest', '=', sha256(token))
    .where('user_id', '=', userId)
    .where('expires_at', '>', now())
    .executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}
