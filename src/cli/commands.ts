import type { Db } from '../context.js';
import { now } from '../db/time.js';
import { issueAccessToken, accessTokenOf } from '../auth/tokens.js';
import { createAccount, findAccount } from '../modules/accounts/service.js';
import { createUser, upsertMembership, ROLES, type Role } from '../modules/users/service.js';
import { grantPermissible } from '../modules/platform/permissibles.js';
import { HttpError } from '../lib/errors.js';

export const COMMANDS = ['create-platform-app', 'create-account', 'create-user', 'grant'] as const;
export type CommandName = (typeof COMMANDS)[number];

export interface CommandResult {
  json: unknown;
  text: string;
}

type Options = Partial<Record<'name' | 'email' | 'password' | 'account' | 'role' | 'platform-app', string>>;

class UsageError extends HttpError {
  constructor(message: string) {
    super(400, { error: message });
  }
}

function required(options: Options, key: keyof Options): string {
  const v = options[key];
  if (v === undefined || v.trim() === '') throw new UsageError(`--${key} is required`);
  return v;
}

function positiveInt(options: Options, key: keyof Options): number {
  const raw = required(options, key);
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`--${key} must be a positive integer, got "${raw}"`);
  return n;
}

/** The admin commands that replace Chatwoot's Rails console. Each runs in one transaction. */
export async function runCommand(db: Db, command: CommandName, options: Options): Promise<CommandResult> {
  switch (command) {
    case 'create-platform-app': {
      const name = required(options, 'name');
      return db.transaction().execute(async (trx) => {
        const t = now();
        const app = await trx.insertInto('platform_apps').values({ name, created_at: t, updated_at: t }).returningAll().executeTakeFirstOrThrow();
        const token = await issueAccessToken(trx, 'PlatformApp', app.id);
        return { json: { id: app.id, name: app.name, access_token: token }, text: `Platform app ${app.id} "${app.name}"\naccess_token: ${token}` };
      });
    }
    case 'create-account': {
      const name = required(options, 'name');
      const account = await createAccount(db, { name });
      return { json: { id: account.id, name: account.name }, text: `Account ${account.id} "${account.name}"` };
    }
    case 'create-user': {
      const email = required(options, 'email');
      const password = required(options, 'password');
      const name = required(options, 'name');
      const role = (options.role ?? 'agent') as Role;
      if (!ROLES.includes(role)) throw new UsageError(`--role must be administrator or agent, got "${options.role}"`);
      if (options.role && !options.account) throw new UsageError('--role needs --account');
      const accountId = options.account ? positiveInt(options, 'account') : undefined;
      return db.transaction().execute(async (trx) => {
        if (accountId) await findAccount(trx, accountId).catch(() => Promise.reject(new UsageError(`account ${accountId} does not exist`)));
        const user = await createUser(trx, { email, password, name });
        if (accountId) await upsertMembership(trx, accountId, user.id, { role });
        const token = await accessTokenOf(trx, 'User', user.id);
        return {
          json: { id: user.id, email: user.email, name: user.name, access_token: token, account_id: accountId ?? null, role: accountId ? role : null },
          text: `User ${user.id} <${user.email}>${accountId ? ` (${role} of account ${accountId})` : ''}\naccess_token: ${token}`,
        };
      });
    }
    case 'grant': {
      const appId = positiveInt(options, 'platform-app');
      const accountId = positiveInt(options, 'account');
      const app = await db.selectFrom('platform_apps').select('id').where('id', '=', appId).executeTakeFirst();
      if (!app) throw new UsageError(`platform app ${appId} does not exist`);
      await findAccount(db, accountId).catch(() => Promise.reject(new UsageError(`account ${accountId} does not exist`)));
      await grantPermissible(db, appId, 'Account', accountId);
      return { json: { platform_app_id: appId, account_id: accountId }, text: `Platform app ${appId} may now manage account ${accountId}` };
    }
  }
}
