import type { Kysely } from 'kysely';
import type { AccessTokensTable, Database } from '../db/types.js';
import { now } from '../db/time.js';
import { safeEqual, secureToken, sha256 } from '../lib/random.js';

export type TokenOwnerType = AccessTokensTable['owner_type'];

/**
 * Access tokens are looked up by their SHA-256 digest (so the lookup's timing says nothing
 * about the token) and then compared in constant time. The plain token stays stored because
 * Chatwoot shows it back to its owner (profile, agent bot, platform app).
 */
export async function issueAccessToken(db: Kysely<Database>, ownerType: TokenOwnerType, ownerId: number): Promise<string> {
  const token = secureToken(24);
  const t = now();
  await db
    .insertInto('access_tokens')
    .values({ owner_type: ownerType, owner_id: ownerId, token, token_digest: sha256(token), created_at: t, updated_at: t })
    .execute();
  return token;
}

export async function findAccessToken(db: Kysely<Database>, token: string): Promise<{ owner_type: TokenOwnerType; owner_id: number } | undefined> {
  if (token.length === 0 || token.length > 256) return undefined;
  const row = await db
    .selectFrom('access_tokens')
    .select(['owner_type', 'owner_id', 'token'])
    .where('token_digest', '=', sha256(token))
    .executeTakeFirst();
  if (!row || !safeEqual(row.token, token)) return undefined;
  return row;
}

export async function accessTokenOf(db: Kysely<Database>, ownerType: TokenOwnerType, ownerId: number): Promise<string | null> {
  const row = await db
    .selectFrom('access_tokens')
    .select('token')
    .where('owner_type', '=', ownerType)
    .where('owner_id', '=', ownerId)
    .orderBy('id')
    .executeTakeFirst();
  return row?.token ?? null;
}

/** Replaces the owner's token (profile reset_access_token, a bot's reset). */
export async function rotateAccessToken(db: Kysely<Database>, ownerType: TokenOwnerType, ownerId: number): Promise<string> {
  await db.deleteFrom('access_tokens').where('owner_type', '=', ownerType).where('owner_id', '=', ownerId).execute();
  return issueAccessToken(db, ownerType, ownerId);
}

export async function deleteAccessTokens(db: Kysely<Database>, ownerType: TokenOwnerType, ownerId: number): Promise<void> {
  await db.deleteFrom('access_tokens').where('owner_type', '=', ownerType).where('owner_id', '=', ownerId).execute();
}
