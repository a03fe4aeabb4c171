import type { Redis } from 'ioredis';

/**
 * Logs a Redis client's outage once when it starts and once when it ends. ioredis reports every
 * failed reconnection attempt as an 'error' event (several a second at first), and with no
 * listener it prints each one as an unhandled error; it reconnects by itself either way.
 */
export function reportRedisOutages(client: Redis, what: string, log: { warn(message: string): void; info(message: string): void }): void {
  let down = false;
  client.on('error', (error: Error) => {
    if (down) return;
    down = true;
    log.warn(`${what}: Redis unavailable (${error.message}); retrying`);
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    log.info(`${what}: Redis available again`);
  });
}
