import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import type { Row } from '../db/types.js';
import { notFound, unauthorized } from '../lib/errors.js';
import { recordId } from '../lib/params.js';
import { safeEqual, sha256 } from '../lib/random.js';
import { markPresent } from '../realtime/presence.js';
import { precompiled } from '../db/precompiled.js';
import { EpochCache } from '../db/epochs.js';
import { readRequestEpochs } from './cache.js';

export type UserRow = Row<'users'>;
export type AgentBotRow = Row<'agent_bots'>;
export type AccountRow = Row<'accounts'>;
export type AccountUserRow = Row<'account_users'>;

/** Who made the request: a user (token or devise session) or an agent bot (token). */
export type Principal = { kind: 'user'; user: UserRow; accessToken?: string } | { kind: 'bot'; bot: AgentBotRow };

// Two point lookups measure faster on SQLite than the equivalent join (≈11 µs against ≈30 µs).
const tokenByDigest = precompiled((db, digest: string) =>
  db.selectFrom('access_tokens').select(['owner_type', 'owner_id', 'token']).where('token_digest', '=', digest),
);
const userById = precompiled((db, id: number) => db.selectFrom('users').selectAll().where('id', '=', id));
const botById = precompiled((db, id: number) => db.selectFrom('agent_bots').selectAll().where('id', '=', id));

// Every request resolves these; the caches answer while the auth epoch stands (auth/cache.ts).
const principals = new EpochCache<Principal | null>();
const accounts = new EpochCache<AccountRow | undefined>();
const memberships = new EpochCache<AccountUserRow | undefined>();

const accountById = precompiled((db, id: number) => db.selectFrom('accounts').selectAll().where('id', '=', id));
const membership = precompiled((db, accountId: number, userId: number) =>
  db.selectFrom('account_users').selectAll().where('account_id', '=', accountId).where('user_id', '=', userId),
);
// The auth epoch covers inbox_members and inboxes too (migration 0011).
const inboxAccess = new EpochCache<number[]>();
const memberInboxIds = precompiled((db, userId: number, accountId: number) =>
  db
    .selectFrom('inbox_members')
    .innerJoin('inboxes', 'inboxes.id', 'inbox_members.inbox_id')
    .select('inboxes.id')
    .where('inbox_members.user_id', '=', userId)
    .where('inboxes.account_id', '=', accountId),
);

export const ROLE = { agent: 0, administrator: 1 } as const;

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    /** The auth epoch this request read first (auth/cache.ts); its cached lookups are at it. */
    authEpoch: number | undefined;
    /** PostgreSQL: the conversation counts epoch, read with the auth epoch (auth/cache.ts); undefined on SQLite. */
    countsEpoch: number | undefined;
    account: AccountRow | null;
    accountUser: AccountUserRow | null;
  }
  interface FastifyContextConfig {
    /** Chatwoot's BOT_ACCESSIBLE_ENDPOINTS: agent-bot tokens may call this route. */
    botAccess?: boolean;
    /** The route shows conversation counts: on PostgreSQL their epoch is read with the auth epoch (auth/cache.ts). */
    countsEpoch?: boolean;
  }
}

export const INVALID_TOKEN = 'Invalid Access Token';

function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

// The same few tokens arrive on every request: hash each once (bounded, cleared when full).
const digests = new Map<string, string>();
function tokenDigest(token: string): string {
  let digest = digests.get(token);
  if (digest === undefined) {
    if (digests.size >= 10_000) digests.clear();
    digest = sha256(token);
    digests.set(token, digest);
  }
  return digest;
}

/**
 * Resolves the caller from `api_access_token`, or from devise_token_auth's
 * `access-token` + `client` + `uid` headers. Throws 401 when neither identifies anyone.
 */
export async function authenticate(ctx: AppContext, request: FastifyRequest): Promise<Principal> {
  const token = header(request, 'api_access_token') ?? header(request, 'api-access-token');
  if (token) {
    if (token.length > 256) throw unauthorized(INVALID_TOKEN);
    const digest = tokenDigest(token);
    const epochs = await readRequestEpochs(ctx.db, ctx.engine, request.routeOptions.config?.countsEpoch === true);
    request.authEpoch = epochs.auth;
    request.countsEpoch = epochs.counts;
    const principal = await principals.get(ctx.db, request.authEpoch, digest, () => principalForToken(ctx, digest, token));
    if (!principal) throw unauthorized(INVALID_TOKEN);
    return principal;
  }
  const sessionUser = await userFromSessionHeaders(ctx, request);
  if (sessionUser) return { kind: 'user', user: sessionUser };
  throw unauthorized(INVALID_TOKEN);
}

/** Looked up by digest (the lookup's timing says nothing about the token), then compared in constant time. */
async function principalForToken(ctx: AppContext, digest: string, token: string): Promise<Principal | null> {
  const [found] = await tokenByDigest(ctx.db, digest);
  if (!found || !safeEqual(found.token, token)) return null;
  if (found.owner_type === 'User') {
    const [user] = await userById(ctx.db, found.owner_id);
    if (user) return { kind: 'user', user, accessToken: token };
  } else if (found.owner_type === 'AgentBot') {
    const [bot] = await botById(ctx.db, found.owner_id);
    if (bot) return { kind: 'bot', bot };
  }
  return null;
}

export async function userFromSessionHeaders(ctx: AppContext, request: FastifyRequest): Promise<UserRow | undefined> {
  const accessToken = header(request, 'access-token');
  const client = header(request, 'client');
  const uid = header(request, 'uid');
  if (!accessToken || !client || !uid) return undefined;
  const row = await ctx.db
    .selectFrom('user_sessions')
    .innerJoin('users', 'users.id', 'user_sessions.user_id')
    .select(['user_sessions.token_digest', 'user_sessions.expires_at', 'users.id as uid_user_id'])
    .where('users.uid', '=', uid.toLowerCase())
    .where('user_sessions.client', '=', client)
    .executeTakeFirst();
  if (!row || row.expires_at < Date.now() || !safeEqual(row.token_digest, sha256(accessToken))) return undefined;
  return ctx.db.selectFrom('users').selectAll().where('id', '=', row.uid_user_id).executeTakeFirst();
}

/** Bots reach only the routes marked `botAccess`; Chatwoot answers anything else with this 401. */
export function assertBotAllowed(request: FastifyRequest, principal: Principal): void {
  if (principal.kind === 'bot' && !request.routeOptions.config?.botAccess) {
    throw unauthorized('Access to this endpoint is not authorized for bots');
  }
}

/**
 * /api/v1/accounts/:account_id/… — the account must exist (404), be active (401 suspended),
 * and the caller must be a member (user) or belong to it (bot).
 */
export async function loadAccountScope(ctx: AppContext, request: FastifyRequest, principal: Principal): Promise<void> {
  const raw = (request.params as Record<string, string | undefined>).account_id;
  const accountId = recordId(raw);
  const account = await accounts.get(ctx.db, request.authEpoch, String(accountId), async () => (await accountById(ctx.db, accountId))[0]);
  if (!account) throw notFound();
  if (account.status !== 0) throw unauthorized('Account is suspended');
  if (principal.kind === 'user') {
    const userId = principal.user.id;
    const accountUser = await memberships.get(ctx.db, request.authEpoch, `${accountId}:${userId}`, async () => (await membership(ctx.db, accountId, userId))[0]);
    if (!accountUser) throw unauthorized('You are not authorized to access this account');
    request.accountUser = accountUser;
    markPresent(accountId, 'User', principal.user.id);
  } else if (principal.bot.account_id !== accountId) {
    const viaInbox = await ctx.db
      .selectFrom('agent_bot_inboxes')
      .select('id')
      .where('agent_bot_id', '=', principal.bot.id)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    if (!viaInbox) throw unauthorized('Bot is not authorized to access this account');
  }
  request.account = account;
}

// ---- accessors used by route handlers ----

export function currentAccount(request: FastifyRequest): AccountRow {
  if (!request.account) throw notFound();
  return request.account;
}

/** The signed-in user; bots have none (routes bots may call must not rely on it). */
export function currentUser(request: FastifyRequest): UserRow {
  if (request.principal?.kind !== 'user') throw unauthorized();
  return request.principal.user;
}

export function isAdministrator(request: FastifyRequest): boolean {
  return request.accountUser?.role === ROLE.administrator;
}

/** Pundit's `administrator?` policies: agents (and bots) get Chatwoot's 401. */
export function requireAdministrator(request: FastifyRequest): void {
  if (!isAdministrator(request)) throw unauthorized();
}

/**
 * The inboxes the caller may act in: null means all of the account's (administrators, bots);
 * agents get the inboxes they are members of. The list is shared between requests: never mutate it.
 */
export async function accessibleInboxIds(ctx: AppContext, request: FastifyRequest): Promise<number[] | null> {
  if (request.principal?.kind === 'bot' || isAdministrator(request)) return null;
  const userId = currentUser(request).id;
  const accountId = currentAccount(request).id;
  return inboxAccess.get(ctx.db, request.authEpoch, `${accountId}:${userId}`, async () => (await memberInboxIds(ctx.db, userId, accountId)).map((r) => r.id));
}

/** Throws Chatwoot's 401 unless the caller may act in this inbox. */
export async function assertInboxAccess(ctx: AppContext, request: FastifyRequest, inboxId: number): Promise<void> {
  const ids = await accessibleInboxIds(ctx, request);
  if (ids !== null && !ids.includes(inboxId)) throw unauthorized();
}
