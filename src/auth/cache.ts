import type { Kysely } from 'kysely';
import { readEpoch } from '../db/epochs.js';
import { AUTH_EPOCH } from '../db/migrations/0010_auth_cache_epoch.js';
import type { Database } from '../db/types.js';

/**
 * The auth epoch (migration 0010): moves with every change of accounts, users, memberships,
 * access tokens and agent bots, by whichever process. Read once per request.
 */
export const readAuthEpoch = (db: Kysely<Database>): number | Promise<number> => readEpoch(db, 'cache_epochs', AUTH_EPOCH);
