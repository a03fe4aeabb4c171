import type { Kysely } from 'kysely';
import type { Config } from '../config.js';
import type { Database } from '../db/types.js';
import { accessTokenOf } from '../auth/tokens.js';
import { createAccount } from '../modules/accounts/service.js';
import { createUser, upsertMembership } from '../modules/users/service.js';
import { secureToken } from '../lib/random.js';

export interface FirstRun {
  email: string;
  generatedPassword?: string;
  accessToken: string;
  accountId: number;
}

/**
 * On an empty database, create the first administrator and account so a new install can be
 * used at once: from PARLEY_ADMIN_EMAIL / PARLEY_ADMIN_PASSWORD, or generated and shown once.
 */
export async function ensureFirstAdmin(db: Kysely<Database>, config: Config): Promise<FirstRun | null> {
  return db.transaction().execute(async (trx) => {
    const anyUser = await trx.selectFrom('users').select('id').limit(1).executeTakeFirst();
    if (anyUser) return null;
    const email = config.adminEmail ?? 'admin@parley.local';
    const generatedPassword = config.adminPassword ? undefined : `${secureToken(16)}aA1!`;
    const user = await createUser(trx, { email, password: config.adminPassword ?? generatedPassword, name: 'Administrator', type: 'SuperAdmin' });
    const account = await createAccount(trx, { name: 'My Team' });
    await upsertMembership(trx, account.id, user.id, { role: 'administrator' });
    return { email: user.email, generatedPassword, accessToken: (await accessTokenOf(trx, 'User', user.id))!, accountId: account.id };
  });
}
