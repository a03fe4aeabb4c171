import type { Kysely } from 'kysely';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config, Engine } from './config.js';
import type { Database } from './db/types.js';
import type { EventBus } from './events/bus.js';

/** What every service receives: the database, its engine, the configuration and the event bus. */
export interface AppContext {
  db: Kysely<Database>;
  engine: Engine;
  config: Config;
  events: EventBus;
  log: Logger;
  /** The process's Redis connection for commands (REDIS_URL), shared by what keeps state there. */
  redis?: Redis;
}

/** A database handle that may be the root connection or an open transaction. */
export type Db = Kysely<Database>;
