import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ENGINE, startTestApp } from '../helpers.js';
import { SHARE_MS, clearPresence, isPresent, markPresent, notePresenceElsewhere, onPresenceShared } from '../../src/realtime/presence.js';

const skip = ENGINE !== 'postgres' || !process.env.REDIS_URL ? 'two processes share presence on PostgreSQL with REDIS_URL' : false;

const statusOf = (agents: { id: number; availability_status: string }[], id: number) => agents.find((a) => a.id === id)?.availability_status;

test('presence made in one process shows in another (REDIS_URL): at once for a running one, from Redis for one started later', { skip }, async () => {
  clearPresence();
  const t = await startTestApp();
  const port = 20000 + Math.floor(Math.random() * 20000);
  let child: ReturnType<typeof spawn> | undefined;
  try {
    const { account, admin, agent } = await t.seedAccount();
    const second = await t.createUser({ accountId: account.id, role: 'agent' });
    const idle = await t.createUser({ accountId: account.id, role: 'agent' });
    const agentsUrl = `/api/v1/accounts/${account.id}/agents`;
    // Any request in the account marks its user present there.
    const seenUrl = `/api/v1/accounts/${account.id}/conversations/meta`;

    // Seen by this process before the other one exists.
    assert.equal((await t.request({ method: 'GET', url: seenUrl, token: agent.token })).statusCode, 200);

    child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', '..', 'src', 'main.ts'), 'start'], {
      env: { ...process.env, PARLEY_PG_SCHEMA: t.config.pgSchema!, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const base = `http://127.0.0.1:${port}`;
    let healthy = false;
    for (let i = 0; i < 150 && !healthy; i++) {
      await new Promise((r) => setTimeout(r, 100));
      healthy = await fetch(`${base}/health`).then((r) => r.ok, () => false);
    }
    assert.ok(healthy, 'the second process starts');

    const there = async () => (await fetch(base + agentsUrl, { headers: { api_access_token: admin.token } })).json() as Promise<{ id: number; availability_status: string }[]>;
    const atStart = await there();
    assert.equal(statusOf(atStart, agent.user.id), 'online', 'a mark made before the second process started is loaded from Redis');
    assert.equal(statusOf(atStart, second.user.id), 'offline');
    assert.equal(statusOf(atStart, idle.user.id), 'offline');

    // Seen by the second process: this one hears of it.
    assert.equal((await fetch(base + seenUrl, { headers: { api_access_token: second.token } })).status, 200);
    let here: { id: number; availability_status: string }[] = [];
    for (let i = 0; i < 50; i++) {
      here = (await t.request({ method: 'GET', url: agentsUrl, token: admin.token })).json();
      if (statusOf(here, second.user.id) === 'online') break;
      await new Promise((r) => setTimeout(r, 40));
    }
    assert.equal(statusOf(here, second.user.id), 'online', 'a mark made in the second process reaches this one');
    assert.equal(statusOf(here, agent.user.id), 'online');
    assert.equal(statusOf(here, idle.user.id), 'offline', 'no one else became present');
  } finally {
    child?.kill('SIGKILL');
    await t.close();
    clearPresence();
  }
});

test('a key is told to the other processes at its first mark, then at most once per SHARE_MS; marks heard never move presence back', () => {
  clearPresence();
  const told: [string, number][] = [];
  const stop = onPresenceShared((key, at) => told.push([key, at]));
  try {
    const t0 = 1_000_000;
    markPresent(7, 'User', 3, t0);
    markPresent(7, 'User', 3, t0 + SHARE_MS - 1);
    markPresent(7, 'Contact', 3, t0 + 10);
    markPresent(7, 'User', 3, t0 + SHARE_MS);
    assert.deepEqual(told, [
      ['7:User:3', t0],
      ['7:Contact:3', t0 + 10],
      ['7:User:3', t0 + SHARE_MS],
    ]);
    notePresenceElsewhere('7:User:4', t0);
    assert.equal(isPresent(7, 'User', 4, t0 + 1), true);
    notePresenceElsewhere('7:User:3', t0 - 60_000);
    assert.equal(isPresent(7, 'User', 3, t0 + SHARE_MS + 1), true, 'an older mark from elsewhere is ignored');
  } finally {
    stop();
    clearPresence();
  }
});
