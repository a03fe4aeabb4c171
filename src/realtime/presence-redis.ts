import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { reportRedisOutages } from '../lib/redis-outages.js';
import { PRESENCE_MS, notePresenceElsewhere, onPresenceShared } from './presence.js';

/**
 * Presence shared by the Parley processes of one database (REDIS_URL): each process publishes the
 * marks it makes (realtime/presence.ts decides how often) and applies the others' to its own map,
 * so `availability_status` reads stay synchronous and local. A sorted set keeps the marks of the
 * last PRESENCE_MS for a process that starts later. Names carry a digest of the database, so
 * deployments (or test schemas) sharing one Redis do not see each other's users.
 */
export interface PresenceSharing {
  /** Settles once the subscription is live and the recent marks are loaded. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

export function presenceChannel(config: Pick<Config, 'engine' | 'databaseUrl' | 'pgSchema'>): string {
  const database = createHash('sha256').update(`${config.engine}\n${config.databaseUrl}\n${config.pgSchema ?? ''}`).digest('hex').slice(0, 16);
  return `parley:presence:${database}`;
}

export function sharePresenceThroughRedis(
  config: Pick<Config, 'engine' | 'databaseUrl' | 'pgSchema'>,
  /** The process's command connection (AppContext.redis): publishes, and keeps the recent marks. */
  publisher: Redis,
  log: { warn(message: string): void; info(message: string): void },
): PresenceSharing {
  const name = presenceChannel(config);
  // A subscribed connection takes no other commands: one of its own. ioredis reconnects and
  // subscribes again by itself; until then this process's presence is its own.
  const subscriber = publisher.duplicate();
  reportRedisOutages(subscriber, 'presence sharing (subscriber)', log);

  const apply = (presenceKey: string, at: number) => {
    if (Number.isFinite(at) && presenceKey.length < 200) notePresenceElsewhere(presenceKey, at);
  };
  subscriber.on('message', (_channel: string, message: string) => {
    const space = message.indexOf(' ');
    if (space > 0) apply(message.slice(space + 1), Number(message.slice(0, space)));
  });

  const stopListening = onPresenceShared((presenceKey, at) => {
    publisher
      .multi()
      .zadd(name, at, presenceKey)
      .pexpire(name, PRESENCE_MS * 2)
      .publish(name, `${at} ${presenceKey}`)
      .exec()
      // An outage is logged once (reportRedisOutages); a mark lost meanwhile is renewed within SHARE_MS.
      .catch(() => undefined);
  });
  // Marks older than PRESENCE_MS count for no one: dropped now and then.
  const pruning = setInterval(() => {
    publisher.zremrangebyscore(name, '-inf', Date.now() - PRESENCE_MS).catch(() => undefined);
  }, PRESENCE_MS);
  pruning.unref();

  const ready = (async () => {
    await subscriber.subscribe(name);
    const recent = await publisher.zrangebyscore(name, Date.now() - PRESENCE_MS, '+inf', 'WITHSCORES');
    for (let i = 0; i + 1 < recent.length; i += 2) apply(recent[i], Number(recent[i + 1]));
  })();

  return {
    ready,
    async stop() {
      stopListening();
      clearInterval(pruning);
      subscriber.disconnect();
    },
  };
}
