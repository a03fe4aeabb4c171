import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server } from 'node:net';
import { reportRedisOutages } from '../../src/lib/redis-outages.js';

const skip = process.env.REDIS_URL ? false : 'needs REDIS_URL';

test('a Redis outage is logged once when it starts and once when it ends, however often the client retries', { skip }, async () => {
  const { Redis } = await import('ioredis');
  const target = new URL(process.env.REDIS_URL!);
  // A port that refuses connections until a proxy to the real Redis listens on it.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));

  const warnings: string[] = [];
  const infos: string[] = [];
  const client = new Redis({ host: '127.0.0.1', port, retryStrategy: () => 20, maxRetriesPerRequest: null });
  let errors = 0;
  client.on('error', () => errors++);
  reportRedisOutages(client, 'test', { warn: (m) => warnings.push(m), info: (m) => infos.push(m) });
  let proxy: Server | undefined;
  try {
    for (let i = 0; i < 100 && errors < 3; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(errors >= 3, 'the client retried several times');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /^test: Redis unavailable/);
    assert.equal(infos.length, 0);

    proxy = createServer((socket) => {
      const upstream = connect(Number(target.port || 6379), target.hostname);
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => proxy!.listen(port, '127.0.0.1', resolve));
    assert.equal(await client.ping(), 'PONG');
    assert.deepEqual(infos, ['test: Redis available again']);
    assert.equal(warnings.length, 1);
  } finally {
    client.disconnect();
    await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
  }
});
