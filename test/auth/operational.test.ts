import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import AjvCompiler from '@fastify/ajv-compiler';
import { AJV_OPTIONS } from '../../src/app.js';
import { ConfigError, loadConfig, messagesPerMinuteLimit } from '../../src/config.js';
import { ENGINE, startTestApp } from '../helpers.js';

describe('operational basics', () => {
  it('answers CORS preflights for configured origins only', async () => {
    const t = await startTestApp({ CORS_ORIGINS: 'https://app.example.com' });
    try {
      const ok = await t.request({
        method: 'OPTIONS',
        url: '/api/v1/profile',
        headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET' },
      });
      assert.equal(ok.statusCode, 204);
      assert.equal(ok.headers['access-control-allow-origin'], 'https://app.example.com');
      const other = await t.request({
        method: 'OPTIONS',
        url: '/api/v1/profile',
        headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'GET' },
      });
      assert.notEqual(other.headers['access-control-allow-origin'], 'https://evil.example.com');
    } finally {
      await t.close();
    }
  });

  it('compiles every route\'s schemas (validators are compiled on first use, so a broken one would only fail then)', async () => {
    const t = await startTestApp();
    try {
      const compile = AjvCompiler()({}, AJV_OPTIONS);
      let compiled = 0;
      for (const { method, url, schema } of t.app.routeTable) {
        for (const httpPart of ['params', 'querystring', 'body'] as const) {
          const part = schema?.[httpPart] as { content?: Record<string, { schema: object }> } | undefined;
          if (part === undefined) continue;
          const schemas = httpPart === 'body' && part.content ? Object.values(part.content).map((c) => c.schema) : [part];
          for (const s of schemas) {
            assert.doesNotThrow(() => compile({ schema: s, method, url, httpPart: httpPart as never }), `${method} ${url} ${httpPart}`);
            compiled++;
          }
        }
      }
      assert.ok(compiled > 100, `only ${compiled} schemas`);
      // A lazily compiled validator still coerces and reports like Fastify's own.
      const { admin, account } = await t.seedAccount();
      const bad = await t.request({ method: 'POST', url: `/api/v1/accounts/${account.id}/teams`, token: admin.token, payload: { name: ['x'] } });
      assert.equal(bad.statusCode, 400);
      assert.match(bad.json().message, /body\/name/);
      const again = await t.request({ method: 'POST', url: `/api/v1/accounts/${account.id}/teams`, token: admin.token, payload: { name: ['x'] } });
      assert.equal(again.json().message, bad.json().message);
    } finally {
      await t.close();
    }
  });

  it('rejects bodies over the limit with 413 and writes nothing', async () => {
    const t = await startTestApp({ BODY_LIMIT_BYTES: '2048' });
    try {
      const { admin } = await t.seedAccount();
      const res = await t.request({ method: 'PUT', url: '/api/v1/profile', token: admin.token, payload: { name: 'x'.repeat(5000) } });
      assert.equal(res.statusCode, 413);
      const me = await t.request({ method: 'GET', url: '/api/v1/profile', token: admin.token });
      assert.equal(me.json().name, admin.user.name);
    } finally {
      await t.close();
    }
  });

  it('on SIGTERM lets an in-flight request finish, then exits 0', { skip: ENGINE === 'postgres' ? 'process test runs on SQLite' : false }, async () => {
    const t = await startTestApp();
    const dbFile = join(t.config.storageDir, '..', 'graceful.sqlite3');
    await t.close();
    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', '..', 'src', 'main.ts'), 'start'], {
      env: { ...process.env, DATABASE_URL: `sqlite:${dbFile}`, PORT: String(port), HOST: '127.0.0.1', PARLEY_ADMIN_PASSWORD: 'Password1!', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      let healthy = false;
      for (let i = 0; i < 100 && !healthy; i++) {
        await new Promise((r) => setTimeout(r, 100));
        healthy = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
      }
      assert.ok(healthy);
      // A sign-in whose body is still arriving is in flight for certain: send half of it, give the
      // server ample time to take the request, SIGTERM, then send the rest.
      const body = JSON.stringify({ email: 'admin@parley.local', password: 'Password1!' });
      const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/auth/sign_in', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } });
      const inflight = new Promise<number>((resolve, reject) => {
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
      });
      req.write(body.slice(0, 10));
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 100));
      req.end(body.slice(10));
      assert.equal(await inflight, 200);
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 10_000))]);
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

describe('slow clients', () => {
  it('a client that never finishes its request is cut off (408) while others are served', async () => {
    const { startTestApp: start } = await import('../helpers.js');
    const net = await import('node:net');
    const t = await start({ REQUEST_TIMEOUT_MS: '800' });
    try {
      const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = new URL(address);
      const slow = net.connect(Number(port), '127.0.0.1');
      let received = '';
      slow.on('data', (d) => (received += d));
      const closed = new Promise<void>((resolve) => slow.on('close', () => resolve()));
      slow.write('GET /health HTTP/1.1\r\nHost: x\r\n'); // headers never end
      const ok = await fetch(`${address}/health`);
      assert.equal(ok.status, 200);
      await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('slow socket was never closed')), 5000))]);
      assert.match(received, /^HTTP\/1\.1 408/);
    } finally {
      await t.close();
    }
  });

  it('caps open sockets at MAX_CONNECTIONS: one more is closed at once, and a freed place serves again', async () => {
    const net = await import('node:net');
    const t = await startTestApp({ MAX_CONNECTIONS: '2' });
    try {
      const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
      const port = Number(new URL(address).port);
      // A raw keep-alive socket that has been answered once: the server holds it open.
      const open = async () => {
        const socket = net.connect(port, '127.0.0.1');
        let received = '';
        socket.on('data', (d) => (received += d));
        const closed = new Promise<string>((resolve) => socket.on('close', () => resolve(received)));
        socket.on('error', () => undefined);
        socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
        return { socket, closed, answered: () => received.startsWith('HTTP/1.1 200') };
      };
      const held = [await open(), await open()];
      for (let i = 0; i < 100 && !held.every((h) => h.answered()); i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(held.every((h) => h.answered()), 'the first two connections are served');

      const third = await open();
      const outcome = await Promise.race([third.closed, new Promise<string>((r) => setTimeout(() => r('still open'), 3000))]);
      third.socket.destroy();
      assert.equal(outcome, '', 'the third connection is closed without an answer');

      held[0].socket.destroy();
      await held[0].closed;
      let count = 2;
      for (let i = 0; i < 100 && count > 1; i++) {
        await new Promise((r) => setTimeout(r, 20));
        count = await new Promise<number>((resolve, reject) => t.app.server.getConnections((e, n) => (e ? reject(e) : resolve(n))));
      }
      const again = await open();
      for (let i = 0; i < 100 && !again.answered(); i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(again.answered(), 'a connection is served once one has left');
      for (const h of [held[1], again]) h.socket.destroy();
    } finally {
      await t.close();
    }
  });

  it('validates CONVERSATION_MESSAGE_PER_MINUTE_LIMIT at start (Chatwoot\'s flood limit, default 200)', () => {
    assert.equal(messagesPerMinuteLimit({}), 200);
    assert.equal(messagesPerMinuteLimit({ CONVERSATION_MESSAGE_PER_MINUTE_LIMIT: '30' }), 30);
    for (const bad of ['0', 'lots', '2.5']) {
      assert.throws(() => loadConfig({ CONVERSATION_MESSAGE_PER_MINUTE_LIMIT: bad }), (e: Error) => e instanceof ConfigError && /CONVERSATION_MESSAGE_PER_MINUTE_LIMIT/.test(e.message), bad);
    }
  });

  it('validates PG_POOL_SIZE and PG_PIPELINE at start', () => {
    assert.deepEqual([loadConfig({}).pgPoolSize, loadConfig({}).pgPipeline], [10, true]);
    assert.deepEqual([loadConfig({ PG_POOL_SIZE: '4', PG_PIPELINE: '0' }).pgPoolSize, loadConfig({ PG_PIPELINE: '0' }).pgPipeline], [4, false]);
    for (const [name, bad] of [['PG_POOL_SIZE', '0'], ['PG_POOL_SIZE', 'ten'], ['PG_PIPELINE', 'off']]) {
      assert.throws(() => loadConfig({ [name]: bad }), (e: Error) => e instanceof ConfigError && e.message.startsWith(name), `${name}=${bad}`);
    }
  });

  it('validates MAX_CONNECTIONS and TRUST_PROXY at start, and honours X-Forwarded-For only when trusted', async () => {
    assert.equal(loadConfig({}).maxConnections, 10_000);
    assert.equal(loadConfig({ MAX_CONNECTIONS: '50' }).maxConnections, 50);
    for (const bad of ['0', 'many', '-1', '1.5']) {
      assert.throws(() => loadConfig({ MAX_CONNECTIONS: bad }), (e: Error) => e instanceof ConfigError && /MAX_CONNECTIONS/.test(e.message), bad);
    }
    assert.equal(loadConfig({}).trustProxy, false);
    assert.equal(loadConfig({ TRUST_PROXY: 'true' }).trustProxy, true);
    assert.equal(loadConfig({ TRUST_PROXY: '1' }).trustProxy, true);
    assert.equal(loadConfig({ TRUST_PROXY: 'false' }).trustProxy, false);
    assert.throws(() => loadConfig({ TRUST_PROXY: 'yes' }), (e: Error) => e instanceof ConfigError && /TRUST_PROXY/.test(e.message));

    // The sign-in rate limit counts per client address: behind a trusted proxy, the forwarded one.
    // Addresses of this run only (with Redis the counters outlive the app).
    const [a, b] = [Math.floor(Math.random() * 250) + 1, Math.floor(Math.random() * 250) + 1];
    for (const trusted of [true, false]) {
      const t = await startTestApp({ TRUST_PROXY: String(trusted), SIGN_IN_RATE_LIMIT: '2' });
      try {
        const signIn = (client: string) =>
          t.request({
            method: 'POST',
            url: '/auth/sign_in',
            payload: { email: 'nobody@example.com', password: 'x' },
            remoteAddress: `192.168.${trusted ? a : b}.${trusted ? b : a}`,
            headers: { 'x-forwarded-for': client },
          });
        const statuses = [];
        for (const client of [`10.${a}.${b}.1`, `10.${a}.${b}.1`, `10.${a}.${b}.1`, `10.${a}.${b}.2`]) statuses.push((await signIn(client)).statusCode);
        assert.deepEqual(statuses, trusted ? [401, 401, 429, 401] : [401, 401, 429, 429], `TRUST_PROXY=${trusted}`);
      } finally {
        await t.close();
      }
    }
  });
});
