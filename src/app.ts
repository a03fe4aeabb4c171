import { createServer } from 'node:http';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from './config.js';
import type { AppContext } from './context.js';
import { openStore, type Store } from './db/connection.js';
import { migrateToLatest } from './db/migrate.js';
import { EventBus } from './events/bus.js';
import { lazyValidatorFactory } from './lib/lazy-validation.js';
import { HttpError, isForeignKeyViolation, isUniqueViolation, isUnstorableNumber, isUnstorableText, NOT_FOUND_MESSAGE } from './lib/errors.js';
import { reportRedisOutages } from './lib/redis-outages.js';
import { afterTurn } from './lib/turn-writes.js';
import { assertBotAllowed, authenticate, loadAccountScope } from './auth/guard.js';
import { accountRoutes, apiRoutes, platformRoutes, publicRoutes } from './modules/index.js';

declare module 'fastify' {
  interface FastifyInstance {
    ctx: AppContext;
    /** Every route as registered (method, full URL, schema, config): drives the fuzzer and the isolation matrix. */
    routeTable: RouteEntry[];
    /** Writes an answer: at the end of the event loop's turn on SQLite (lib/turn-writes.ts), at once on PostgreSQL. */
    writeAnswer: (write: () => void) => void;
  }
}

export interface RouteEntry {
  method: string;
  url: string;
  schema?: Record<string, unknown>;
  botAccess: boolean;
}

export interface BuiltApp {
  app: FastifyInstance;
  ctx: AppContext;
  store: Store;
}

/** Paths and headers that must never reach a log line. */
/** Fastify's Ajv options: Rails-like coercion of query and form values. */
export const AJV_OPTIONS = {
  customOptions: { coerceTypes: 'array', removeAdditional: true, useDefaults: true, allErrors: false, allowUnionTypes: true },
} as const;

const REDACT = [
  'req.headers.api_access_token',
  'req.headers["api-access-token"]',
  'req.headers["access-token"]',
  'req.headers.authorization',
  'req.headers.cookie',
];

export async function buildApp(
  config: Config,
  options: { logger?: boolean; migrate?: boolean; logStream?: NodeJS.WritableStream } = {},
): Promise<BuiltApp> {
  const store = openStore(config);
  if (options.migrate !== false) await migrateToLatest(store.db as never, store.engine);

  const app = Fastify({
    logger:
      options.logger === false
        ? false
        : { level: config.logLevel, redact: { paths: REDACT, censor: '[redacted]' }, ...(options.logStream ? { stream: options.logStream } : {}) },
    bodyLimit: config.bodyLimitBytes,
    // One slow client must not hold a connection forever.
    connectionTimeout: Math.max(config.requestTimeoutMs * 2, config.keepAliveMs),
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveMs,
    // Node checks request/header deadlines on this interval (30 s by default): check every second
    // so a client that trickles its headers is cut off on time.
    serverFactory: (handler) => {
      const server = createServer(
        {
          connectionsCheckingInterval: 1000,
          requestTimeout: config.requestTimeoutMs,
          headersTimeout: Math.min(config.requestTimeoutMs, 60_000),
          keepAliveTimeout: config.keepAliveMs,
        },
        handler,
      );
      // A cap on open sockets, so a flood of idle clients cannot exhaust file descriptors.
      server.maxConnections = config.maxConnections;
      return server;
    },
    maxRequestsPerSocket: 0,
    trustProxy: config.trustProxy,
    ajv: AJV_OPTIONS,
    schemaController: { compilersFactory: { buildValidator: lazyValidatorFactory() as never } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Response schemas document shapes; JSON.stringify writes them. fast-json-stringify picks each
  // nullable field's anyOf branch with a validator, which cost the profile a fifth of its request.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  const ctx: AppContext = { db: store.db, engine: store.engine, config, events: new EventBus(), log: app.log as never };
  if (config.redisUrl) {
    // One command connection per process: the sign-in rate limit and presence sharing use it.
    // (ioredis is loaded only then: a single process does not pay its load at start.)
    ctx.redis = new (await import('ioredis')).Redis(config.redisUrl, { maxRetriesPerRequest: 1 });
    reportRedisOutages(ctx.redis, 'sign-in rate limit and presence', app.log);
  }
  app.decorate('ctx', ctx);
  const routeTable: RouteEntry[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'HEAD') continue;
      routeTable.push({
        method,
        url: route.url,
        schema: route.schema as Record<string, unknown> | undefined,
        botAccess: Boolean((route.config as { botAccess?: boolean } | undefined)?.botAccess),
      });
    }
  });
  app.decorateRequest('principal', null);
  app.decorateRequest('authEpoch', undefined);
  app.decorateRequest('countsEpoch', undefined);
  app.decorateRequest('account', null);
  app.decorateRequest('accountUser', null);
  // SQLite: the answers finished in one turn of the event loop are written together at its end
  // (lib/turn-writes.ts). PostgreSQL's answers already come in batches, one per pipelined reply.
  const turnEnd = ctx.engine === 'sqlite';
  app.decorate('writeAnswer', turnEnd ? afterTurn : (write: () => void) => write());
  if (turnEnd) {
    app.addHook('onSend', (_request, _reply, payload, done) => {
      afterTurn(() => done(null, payload));
    });
  }

  if (config.corsOrigins !== false) {
    await app.register(cors, {
      origin: config.corsOrigins,
      exposedHeaders: ['access-token', 'client', 'uid', 'token-type', 'expiry'],
    });
  }
  await app.register(swagger, {
    openapi: { info: { title: 'Parley API (Chatwoot-compatible)', version: '0.1.0' } },
  });

  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply) => {
    if (error instanceof HttpError) return reply.status(error.statusCode).send(error.body);
    if (error.validation) {
      return reply.status(400).send({ error: 'Bad Request', message: error.message });
    }
    if (isUniqueViolation(error)) {
      return reply.status(422).send({ message: 'Record has already been taken', attributes: [] });
    }
    if (isForeignKeyViolation(error)) {
      return reply.status(422).send({ error: 'A referenced record does not exist' });
    }
    if (isUnstorableText(error)) {
      return reply.status(400).send({ error: 'Bad Request', message: 'Text may not contain the NUL character' });
    }
    if (isUnstorableNumber(error)) {
      request.log.warn({ err: error }, 'a number no row can hold: not found');
      return reply.status(404).send({ error: NOT_FOUND_MESSAGE });
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply.status(status).send({ error: status === 413 ? 'Payload Too Large' : 'Bad Request', message: error.message });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send({ error: 'Internal Server Error' });
  });
  app.setNotFoundHandler((_request, reply) => reply.status(404).send({ error: 'Resource could not be found' }));

  app.get('/health', { schema: { hide: true } }, async (_request, reply) => {
    try {
      await ctx.db.selectFrom('accounts').select('id').limit(1).execute();
      return { status: 'ok', engine: ctx.engine };
    } catch {
      return reply.status(503).send({ status: 'unavailable' });
    }
  });
  app.get('/api-docs/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  for (const routes of publicRoutes) await app.register(routes);

  await app.register(
    async (api) => {
      api.addHook('onRequest', async (request) => {
        const principal = await authenticate(ctx, request);
        request.principal = principal;
        assertBotAllowed(request, principal);
      });
      for (const routes of apiRoutes) await api.register(routes);
      await api.register(
        async (scoped) => {
          scoped.addHook('onRequest', async (request) => {
            if (request.principal) await loadAccountScope(ctx, request, request.principal);
          });
          for (const routes of accountRoutes) await scoped.register(routes);
        },
        { prefix: '/accounts/:account_id' },
      );
    },
    { prefix: '/api/v1' },
  );

  await app.register(
    async (platform) => {
      for (const routes of platformRoutes) await platform.register(routes);
    },
    { prefix: '/platform/api/v1' },
  );

  if (ctx.redis) {
    // Several processes: each tells the others who it saw (realtime/presence-redis.ts). Without
    // Redis at start, presence stays this process's own until the connection comes back.
    const { sharePresenceThroughRedis } = await import('./realtime/presence-redis.js');
    const presence = sharePresenceThroughRedis(config, ctx.redis, app.log);
    await presence.ready.catch((error: Error) => app.log.warn(`presence sharing: ${error.message}`));
    app.addHook('onClose', () => presence.stop());
  }

  app.addHook('onClose', async () => {
    ctx.redis?.disconnect();
    await store.close();
  });

  return { app, ctx, store };
}
