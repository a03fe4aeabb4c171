import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers.js';
import { buildWorld, fillPath, probeBody, snapshotA, type World } from './world.js';

const ACCOUNT_PREFIX = '/api/v1/accounts/:account_id/';

/**
 * The isolation matrix, generated from the route table so a new route is covered the day it
 * is added: other accounts' users, agents outside an inbox, agent bots and platform apps are
 * each tried against what they must not reach.
 */
describe('isolation matrix', () => {
  let t: TestApp;
  let w: World;
  let accountRoutes: { method: string; url: string; botAccess: boolean }[];
  let apiRoutes: { method: string; url: string; botAccess: boolean }[];

  before(async () => {
    t = await startTestApp();
    w = await buildWorld(t);
    apiRoutes = t.app.routeTable.filter((r) => r.url.startsWith('/api/v1/'));
    accountRoutes = apiRoutes.filter((r) => r.url.startsWith(ACCOUNT_PREFIX));
  });
  after(() => t.close());

  it('covers a meaningful route table', () => {
    assert.ok(accountRoutes.length >= 10, `only ${accountRoutes.length} account routes`);
  });

  it("a user of account B cannot enter account A's URL space (401 on every account route)", async () => {
    for (const r of accountRoutes) {
      const url = fillPath(r.url, w.a.accountId, w.a.ids);
      const res = await t.request({ method: r.method as 'GET', url, token: w.b.admin.token, payload: probeBody(r.method) });
      assert.equal(res.statusCode, 401, `${r.method} ${r.url}`);
      assert.deepEqual(res.json(), { error: 'You are not authorized to access this account' }, `${r.method} ${r.url}`);
    }
  });

  it("a user of account B using A's ids inside account B learns nothing and changes nothing", async () => {
    const before = await snapshotA(t, w);
    for (const r of accountRoutes) {
      if (!/:[a-z_]+/.test(r.url.slice(ACCOUNT_PREFIX.length))) continue;
      const url = fillPath(r.url, w.b.accountId, w.a.ids);
      const res = await t.request({ method: r.method as 'GET', url, token: w.b.admin.token, payload: probeBody(r.method) });
      assert.ok(!res.body.includes(w.marker), `${r.method} ${url} leaked account A data (${res.statusCode})`);
      assert.ok(res.statusCode < 500, `${r.method} ${url} → ${res.statusCode}`);
      assert.ok(res.statusCode >= 400, `${r.method} ${url} → ${res.statusCode}: must not succeed on another account's record`);
    }
    assert.deepEqual(await snapshotA(t, w), before, "account A's records changed");
  });

  it('an agent outside the inbox sees none of its conversations', async () => {
    if (!w.a.ids.conversation) return;
    const conversationRoutes = accountRoutes.filter((r) => r.url.startsWith(`${ACCOUNT_PREFIX}conversations/:`));
    for (const r of conversationRoutes) {
      const url = fillPath(r.url, w.a.accountId, w.a.ids);
      const res = await t.request({ method: r.method as 'GET', url, token: w.a.agent.token, payload: probeBody(r.method) });
      // Refused (401/404), or rejected before the lookup for a malformed probe body (400/422): never served.
      assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${r.method} ${url} → ${res.statusCode}`);
      assert.ok(!res.body.includes(w.marker), `${r.method} ${url} leaked the conversation`);
    }
    const list = await t.request({ method: 'GET', url: `/api/v1/accounts/${w.a.accountId}/conversations?status=all`, token: w.a.agent.token });
    assert.ok(!list.body.includes(w.marker), 'conversation list leaked to a non-member agent');
  });

  it('agent-bot tokens reach only the bot endpoints', async () => {
    for (const r of apiRoutes) {
      const url = fillPath(r.url, w.a.accountId, w.a.ids);
      const res = await t.request({ method: r.method as 'GET', url, token: w.a.botToken, payload: probeBody(r.method) });
      if (r.botAccess) {
        assert.notEqual(safeJson(res.body)?.error, 'Access to this endpoint is not authorized for bots', `${r.method} ${r.url}`);
      } else {
        assert.equal(res.statusCode, 401, `${r.method} ${r.url}`);
        assert.deepEqual(res.json(), { error: 'Access to this endpoint is not authorized for bots' }, `${r.method} ${r.url}`);
      }
    }
  });

  it('platform-app tokens reach nothing under /api/v1', async () => {
    for (const r of apiRoutes) {
      const url = fillPath(r.url, w.a.accountId, w.a.ids);
      const res = await t.request({ method: r.method as 'GET', url, token: w.platformToken, payload: probeBody(r.method) });
      assert.equal(res.statusCode, 401, `${r.method} ${r.url}`);
    }
  });
});

function safeJson(body: string): { error?: string } | null {
  try {
    return JSON.parse(body) as { error?: string };
  } catch {
    return null;
  }
}
