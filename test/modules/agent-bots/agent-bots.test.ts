import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../helpers.js';

describe('account agent bots', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  it('administrators create, read, update and delete bots with their own tokens', async () => {
    const { account, admin, agent } = await t.seedAccount();
    const base = `/api/v1/accounts/${account.id}/agent_bots`;
    let res = await t.request({ method: 'POST', url: base, token: admin.token, payload: { agent_bot: { name: 'Triage', outgoing_url: 'https://example.com/bot' } } });
    assert.equal(res.statusCode, 200);
    const bot = res.json();
    assert.deepEqual(Object.keys(bot).sort(), ['access_token', 'account_id', 'bot_config', 'bot_type', 'description', 'id', 'name', 'outgoing_url', 'system_bot', 'thumbnail']);
    assert.equal(bot.bot_type, 'webhook');
    assert.equal(bot.system_bot, false);
    assert.equal(bot.account_id, account.id);
    res = await t.request({ method: 'GET', url: base, token: agent.token });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().length, 1);
    res = await t.request({ method: 'POST', url: base, token: agent.token, payload: { name: 'x' } });
    assert.equal(res.statusCode, 401);
    res = await t.request({ method: 'PATCH', url: `${base}/${bot.id}`, token: admin.token, payload: { name: 'Renamed' } });
    assert.equal(res.json().name, 'Renamed');
    res = await t.request({ method: 'POST', url: base, token: admin.token, payload: { name: '' } });
    assert.equal(res.statusCode, 422);
    res = await t.request({ method: 'POST', url: `${base}/${bot.id}/reset_access_token`, token: admin.token });
    assert.notEqual(res.json().access_token, bot.access_token);
    res = await t.request({ method: 'DELETE', url: `${base}/${bot.id}`, token: admin.token });
    assert.equal(res.statusCode, 200);
    res = await t.request({ method: 'GET', url: `${base}/${bot.id}`, token: admin.token });
    assert.equal(res.statusCode, 404);
  });

  it("answers 404 for another account's bot", async () => {
    const a = await t.seedAccount();
    const b = await t.seedAccount();
    const bot = (await t.request({ method: 'POST', url: `/api/v1/accounts/${b.account.id}/agent_bots`, token: b.admin.token, payload: { name: 'B bot' } })).json();
    for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
      const res = await t.request({ method, url: `/api/v1/accounts/${a.account.id}/agent_bots/${bot.id}`, token: a.admin.token, payload: method === 'PATCH' ? { name: 'x' } : undefined });
      assert.equal(res.statusCode, 404, method);
    }
  });
});
