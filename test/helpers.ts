import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../src/app.js';
import { loadConfig, type Config } from '../src/config.js';
import type { AppContext } from '../src/context.js';
import { createAccount } from '../src/modules/accounts/service.js';
import { createUser, upsertMembership, type Role } from '../src/modules/users/service.js';
import { accessTokenOf, issueAccessToken } from '../src/auth/tokens.js';
import { now } from '../src/db/time.js';
import type { Row } from '../src/db/types.js';

/** Which engine this test run uses: PostgreSQL when DATABASE_URL points at one, SQLite otherwise. */
export const ENGINE: 'sqlite' | 'postgres' = /^postgres(ql)?:\/\//.test(process.env.DATABASE_URL ?? '') ? 'postgres' : 'sqlite';

export interface TestUser {
  user: Row<'users'>;
  token: string;
  /** Headers that authenticate as this user. */
  headers: Record<string, string>;
}

export interface TestApp {
  app: FastifyInstance;
  ctx: AppContext;
  config: Config;
  close(): Promise<void>;
  /** app.inject with JSON in and parsed JSON out. */
  request(options: InjectOptions & { token?: string }): Promise<LightMyRequestResponse & { body: string; json<T = any>(): T }>;
  createAccount(name?: string): Promise<Row<'accounts'>>;
  /** A confirmed user, member of `accountId` with `role` when given. */
  createUser(options?: { accountId?: number; role?: Role; email?: string; password?: string; name?: string }): Promise<TestUser>;
  createPlatformApp(name?: string): Promise<{ id: number; token: string }>;
  /** An account with an administrator and an agent: the usual starting point. */
  seedAccount(): Promise<{ account: Row<'accounts'>; admin: TestUser; agent: TestUser }>;
}

let counter = 0;
const unique = () => `${process.pid}_${Date.now().toString(36)}_${++counter}`;

/**
 * A Parley app on a fresh database: a temp SQLite file, or a new schema on the PostgreSQL
 * of DATABASE_URL. Nothing is shared between tests.
 */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const tmp = mkdtempSync(join(tmpdir(), 'parley-test-'));
  let dropSchema: (() => Promise<void>) | undefined;
  let config: Config;
  if (ENGINE === 'postgres') {
    const schema = `t_${unique()}`;
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA "${schema}"`);
    await admin.end();
    config = { ...loadConfig({ ...process.env, ...env }), pgSchema: schema, storageDir: join(tmp, 'storage') };
    config.pgSchema = schema;
    dropSchema = async () => {
      const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await c.end();
    };
  } else {
    config = {
      ...loadConfig({ ...process.env, DATABASE_URL: `sqlite:${join(tmp, 'test.sqlite3')}`, ...env }),
      storageDir: join(tmp, 'storage'),
    };
  }
  config.logLevel = process.env.TEST_LOG_LEVEL ?? 'silent';
  const { app, ctx } = await buildApp(config, { logger: process.env.TEST_LOG_LEVEL !== undefined });
  await app.ready();

  const t: TestApp = {
    app,
    ctx,
    config,
    async close() {
      await app.close();
      if (dropSchema) await dropSchema();
      rmSync(tmp, { recursive: true, force: true });
    },
    async request(options) {
      const { token, ...rest } = options;
      const headers = { ...(rest.headers ?? {}) } as Record<string, string>;
      if (token) headers.api_access_token = token;
      const res = await app.inject({ ...rest, headers } as InjectOptions);
      return res as LightMyRequestResponse & { body: string; json<T = any>(): T };
    },
    createAccount(name = `Account ${unique()}`) {
      return createAccount(ctx.db, { name });
    },
    async createUser(options = {}) {
      const user = await createUser(ctx.db, {
        name: options.name ?? `User ${unique()}`,
        email: options.email ?? `user_${unique()}@example.com`,
        password: options.password ?? 'Password1!',
      });
      if (options.accountId) await upsertMembership(ctx.db, options.accountId, user.id, { role: options.role ?? 'agent' });
      const token = (await accessTokenOf(ctx.db, 'User', user.id))!;
      return { user, token, headers: { api_access_token: token } };
    },
    async createPlatformApp(name = 'Platform app') {
      const ts = now();
      const row = await ctx.db.insertInto('platform_apps').values({ name, created_at: ts, updated_at: ts }).returning('id').executeTakeFirstOrThrow();
      return { id: row.id, token: await issueAccessToken(ctx.db, 'PlatformApp', row.id) };
    },
    async seedAccount() {
      const account = await t.createAccount();
      const admin = await t.createUser({ accountId: account.id, role: 'administrator' });
      const agent = await t.createUser({ accountId: account.id, role: 'agent' });
      return { account, admin, agent };
    },
  };
  return t;
}
