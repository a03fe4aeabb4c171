import { resolve } from 'node:path';

export type Engine = 'sqlite' | 'postgres';

export interface Config {
  port: number;
  host: string;
  engine: Engine;
  /** SQLite file path (engine sqlite) or connection string (engine postgres). */
  databaseUrl: string;
  /** PostgreSQL schema to use (tests isolate themselves in a schema of their own). */
  pgSchema?: string;
  /** SQLite's page cache, in MiB: pages read more than once are served from process memory. */
  sqliteCacheMb?: number;
  /** PostgreSQL connections per process. */
  pgPoolSize?: number;
  /** PostgreSQL: send queries without waiting for the previous answer (db/pg-pipeline.ts). */
  pgPipeline?: boolean;
  redisUrl?: string;
  logLevel: string;
  corsOrigins: string[] | boolean;
  frontendUrl: string;
  storageDir: string;
  maxUploadBytes: number;
  bodyLimitBytes: number;
  adminEmail?: string;
  adminPassword?: string;
  signInRateLimit: number;
  /** Whole-request deadline (slow clients get 408); idle keep-alive sockets close after keepAliveMs. */
  requestTimeoutMs: number;
  keepAliveMs: number;
  /** Open sockets per process: a connection beyond it is closed at once. */
  maxConnections: number;
  /** Honour X-Forwarded-For (behind a load balancer). */
  trustProxy: boolean;
  /** How often snoozed conversations whose time has passed are opened again (ms); 0: never. */
  snoozeSweepMs: number;
}

export class ConfigError extends Error {}

/**
 * 128 MiB: on the medium benchmark dataset (400 MB file) 64 → 128 MiB cut a messages page's SQL by
 * a fifth; the cache fills only as pages are read, and stays within the 500 MB peak RSS budget.
 */
export const DEFAULT_SQLITE_CACHE_MB = 128;

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  const expected = min === 0 ? 'a non-negative integer' : `an integer of at least ${min}`;
  if (!Number.isInteger(n) || n < min) throw new ConfigError(`${name} must be ${expected}, got "${raw}"`);
  return n;
}

function bool(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

export const DEFAULT_MESSAGES_PER_MINUTE = 200;
/** PostgreSQL connections per process unless PG_POOL_SIZE says otherwise. */
export const DEFAULT_PG_POOL_SIZE = 10;

/**
 * Chatwoot's `CONVERSATION_MESSAGE_PER_MINUTE_LIMIT` (Limits), default 200. The messages module
 * reads it when it loads (it is compiled into the message create's statements); a bad value stops
 * the start here, in loadConfig.
 */
export function messagesPerMinuteLimit(env: NodeJS.ProcessEnv = process.env): number {
  return int(env, 'CONVERSATION_MESSAGE_PER_MINUTE_LIMIT', DEFAULT_MESSAGES_PER_MINUTE, 1);
}

/** Reads the environment once, validating every value, so a bad setting fails at start, not mid-request. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const rawUrl = env.DATABASE_URL ?? '';
  let engine: Engine = 'sqlite';
  let databaseUrl = resolve('data/parley.sqlite3');
  if (rawUrl.startsWith('postgres://') || rawUrl.startsWith('postgresql://')) {
    engine = 'postgres';
    databaseUrl = rawUrl;
  } else if (rawUrl.startsWith('sqlite:')) {
    databaseUrl = resolve(rawUrl.slice('sqlite:'.length).replace(/^\/\//, ''));
  } else if (rawUrl !== '') {
    throw new ConfigError(`DATABASE_URL must start with postgres://, postgresql:// or sqlite:, got "${rawUrl}"`);
  }
  const cors = env.CORS_ORIGINS;
  const port = int(env, 'PORT', 3000);
  // Checked here with the rest; the messages module reads it when it loads (messagesPerMinuteLimit).
  messagesPerMinuteLimit(env);
  return {
    port,
    host: env.HOST ?? '0.0.0.0',
    engine,
    databaseUrl,
    pgSchema: env.PARLEY_PG_SCHEMA || undefined,
    sqliteCacheMb: int(env, 'SQLITE_CACHE_MB', DEFAULT_SQLITE_CACHE_MB),
    pgPoolSize: int(env, 'PG_POOL_SIZE', DEFAULT_PG_POOL_SIZE, 1),
    pgPipeline: bool(env, 'PG_PIPELINE', true),
    redisUrl: env.REDIS_URL || undefined,
    logLevel: env.LOG_LEVEL ?? 'info',
    corsOrigins: cors === undefined || cors === '' ? false : cors === '*' ? true : cors.split(',').map((s) => s.trim()),
    frontendUrl: (env.FRONTEND_URL ?? `http://localhost:${port}`).replace(/\/$/, ''),
    storageDir: resolve(env.STORAGE_DIR ?? 'data/storage'),
    maxUploadBytes: int(env, 'MAX_UPLOAD_BYTES', 40 * 1024 * 1024),
    bodyLimitBytes: int(env, 'BODY_LIMIT_BYTES', 1024 * 1024),
    adminEmail: env.PARLEY_ADMIN_EMAIL || undefined,
    adminPassword: env.PARLEY_ADMIN_PASSWORD || undefined,
    signInRateLimit: int(env, 'SIGN_IN_RATE_LIMIT', 10),
    requestTimeoutMs: int(env, 'REQUEST_TIMEOUT_MS', 30_000),
    keepAliveMs: int(env, 'KEEP_ALIVE_TIMEOUT_MS', 72_000),
    maxConnections: int(env, 'MAX_CONNECTIONS', 10_000, 1),
    trustProxy: bool(env, 'TRUST_PROXY', false),
    snoozeSweepMs: int(env, 'SNOOZE_SWEEP_MS', 30_000),
  };
}
