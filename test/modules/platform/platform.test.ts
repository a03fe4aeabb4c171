import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../helpers.js';

describe('Platform API', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  it('refuses anything but a platform-app token', async () => {
    const { admin } = await t.seedAccount();
    for (const token of [undefined, 'nope', admin.token]) {
      const res = await t.request({ method: 'POST', url: '/platform/api/v1/accounts', token, payload: { name: 'x' } });
      assert.equal(res.statusCode, 401);
      assert.deepEqual(res.json(), { error: 'Invalid access_token' });
    }
  });

  it('creates, shows, updates and deletes accounts it owns', async () => {
    const p = await t.createPlatformApp();
    let res = await t.request({
      method: 'POST',
      url: '/platform/api/v1/accounts',
      token: p.token,
      payload: { name: 'Acme', locale: 'de', limits: { agents: 5 }, custom_attributes: { plan: 'gold' }, features: { sla: true, macros: false } },
    });
    assert.equal(res.statusCode, 200);
    const acct = res.json();
    assert.deepEqual(Object.keys(acct).sort(), ['custom_attributes', 'domain', 'features', 'id', 'limits', 'locale', 'name', 'status', 'support_email']);
    assert.equal(acct.name, 'Acme');
    assert.equal(acct.locale, 'de');
    assert.deepEqual(acct.limits, { agents: 5 });
    assert.equal(acct.features.sla, true);
    assert.equal(acct.features.macros, undefined);
    assert.equal(acct.status, 'active');
    res = await t.request({ method: 'GET', url: `/platform/api/v1/accounts/${acct.id}`, token: p.token });
    assert.equal(res.json().name, 'Acme');
    res = await t.request({ method: 'PATCH', url: `/platform/api/v1/accounts/${acct.id}`, token: p.token, payload: { name: 'Acme 2', status: 'suspended' } });
    assert.equal(res.json().name, 'Acme 2');
    assert.equal(res.json().status, 'suspended');
    res = await t.request({ method: 'POST', url: '/platform/api/v1/accounts', token: p.token, payload: { name: '' } });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { message: "Name can't be blank", attributes: ['name'] });
    res = await t.request({ method: 'DELETE', url: `/platform/api/v1/accounts/${acct.id}`, token: p.token });
    assert.equal(res.statusCode, 200);
    res = await t.request({ method: 'GET', url: `/platform/api/v1/accounts/${acct.id}`, token: p.token });
    assert.equal(res.statusCode, 404);
  });

  it('isolates platform apps: app B cannot read or change app A resources', async () => {
    const a = await t.createPlatformApp('A');
    const b = await t.createPlatformApp('B');
    const acct = (await t.request({ method: 'POST', url: '/platform/api/v1/accounts', token: a.token, payload: { name: 'Mine' } })).json();
    const user = (await t.request({ method: 'POST', url: '/platform/api/v1/users', token: a.token, payload: { name: 'U', email: 'u-iso@example.com', password: 'Password1!' } })).json();
    const bot = (await t.request({ method: 'POST', url: '/platform/api/v1/agent_bots', token: a.token, payload: { name: 'Bot' } })).json();
    const attempts: [string, string][] = [
      ['GET', `/platform/api/v1/accounts/${acct.id}`],
      ['PATCH', `/platform/api/v1/accounts/${acct.id}`],
      ['DELETE', `/platform/api/v1/accounts/${acct.id}`],
      ['GET', `/platform/api/v1/accounts/${acct.id}/account_users`],
      ['GET', `/platform/api/v1/users/${user.id}`],
      ['PATCH', `/platform/api/v1/users/${user.id}`],
      ['DELETE', `/platform/api/v1/users/${user.id}`],
      ['GET', `/platform/api/v1/users/${user.id}/login`],
      ['GET', `/platform/api/v1/agent_bots/${bot.id}`],
      ['PATCH', `/platform/api/v1/agent_bots/${bot.id}`],
      ['DELETE', `/platform/api/v1/agent_bots/${bot.id}`],
    ];
    for (const [method, url] of attempts) {
      const res = await t.request({ method: method as 'GET', url, token: b.token, payload: method === 'PATCH' ? { name: 'hijack' } : undefined });
      assert.equal(res.statusCode, 401, `${method} ${url}`);
      assert.deepEqual(res.json(), { error: 'Non permissible resource' });
    }
    const list = await t.request({ method: 'GET', url: '/platform/api/v1/agent_bots', token: b.token });
    assert.deepEqual(list.json(), []);
    const still = await t.request({ method: 'GET', url: `/platform/api/v1/accounts/${acct.id}`, token: a.token });
    assert.equal(still.json().name, 'Mine');
  });

  it('manages users, account users and the one-time SSO login link', async () => {
    const p = await t.createPlatformApp();
    const acct = (await t.request({ method: 'POST', url: '/platform/api/v1/accounts', token: p.token, payload: { name: 'Acme' } })).json();
    let res = await t.request({
      method: 'POST',
      url: '/platform/api/v1/users',
      token: p.token,
      payload: { name: 'Jane', email: 'Jane@Example.com', password: 'Password1!', custom_attributes: { tier: 1 } },
    });
    assert.equal(res.statusCode, 200);
    const user = res.json();
    assert.equal(user.email, 'jane@example.com');
    assert.equal(typeof user.access_token, 'string');
    assert.deepEqual(user.custom_attributes, { tier: 1 });
    assert.deepEqual(user.accounts, []);
    res = await t.request({ method: 'POST', url: '/platform/api/v1/users', token: p.token, payload: { name: 'Bad', email: 'bad' } });
    assert.equal(res.statusCode, 422);

    res = await t.request({ method: 'POST', url: `/platform/api/v1/accounts/${acct.id}/account_users`, token: p.token, payload: { user_id: user.id, role: 'administrator' } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().role, 'administrator');
    assert.equal(res.json().user_id, user.id);
    res = await t.request({ method: 'GET', url: `/platform/api/v1/accounts/${acct.id}/account_users`, token: p.token });
    assert.deepEqual(res.json().map((m: any) => [m.user_id, m.role]), [[user.id, 'administrator']]);

    res = await t.request({ method: 'PATCH', url: `/platform/api/v1/users/${user.id}`, token: p.token, payload: { name: 'Jane D', custom_attributes: { vip: true } } });
    assert.equal(res.json().name, 'Jane D');
    assert.deepEqual(res.json().custom_attributes, { tier: 1, vip: true });
    assert.equal(res.json().accounts[0].id, acct.id);

    res = await t.request({ method: 'GET', url: `/platform/api/v1/users/${user.id}/login`, token: p.token });
    const url = new URL(res.json().url);
    assert.equal(url.pathname, '/app/login');
    const sso = url.searchParams.get('sso_auth_token')!;
    let signIn = await t.request({ method: 'POST', url: '/auth/sign_in', payload: { email: 'jane@example.com', sso_auth_token: sso } });
    assert.equal(signIn.statusCode, 200);
    assert.equal(signIn.json().data.id, user.id);
    signIn = await t.request({ method: 'POST', url: '/auth/sign_in', payload: { email: 'jane@example.com', sso_auth_token: sso } });
    assert.equal(signIn.statusCode, 401, 'the link works once');

    res = await t.request({ method: 'DELETE', url: `/platform/api/v1/accounts/${acct.id}/account_users`, token: p.token, payload: { user_id: user.id } });
    assert.equal(res.statusCode, 200);
    res = await t.request({ method: 'DELETE', url: `/platform/api/v1/users/${user.id}`, token: p.token });
    assert.equal(res.statusCode, 200);
    res = await t.request({ method: 'GET', url: `/platform/api/v1/users/${user.id}`, token: p.token });
    assert.equal(res.statusCode, 404);
  });

  it('manages agent bots with their own access token', async () => {
    const p = await t.createPlatformApp();
    const acct = (await t.request({ method: 'POST', url: '/platform/api/v1/accounts', token: p.token, payload: { name: 'Acme' } })).json();
    let res = await t.request({ method: 'POST', url: '/platform/api/v1/agent_bots', token: p.token, payload: { name: 'Helper', description: 'd', outgoing_url: 'https://bot.example.com/hook', account_id: acct.id } });
    assert.equal(res.statusCode, 200);
    const bot = res.json();
    assert.deepEqual(Object.keys(bot).sort(), ['access_token', 'account_id', 'description', 'id', 'name', 'outgoing_url']);
    assert.equal(bot.account_id, acct.id);
    res = await t.request({ method: 'GET', url: '/platform/api/v1/agent_bots', token: p.token });
    assert.equal(res.json().length, 1);
    res = await t.request({ method: 'PATCH', url: `/platform/api/v1/agent_bots/${bot.id}`, token: p.token, payload: { name: 'Helper 2' } });
    assert.equal(res.json().name, 'Helper 2');
    res = await t.request({ method: 'POST', url: '/platform/api/v1/agent_bots', token: p.token, payload: { name: 'x', outgoing_url: 'ftp://nope' } });
    assert.equal(res.statusCode, 422);
    res = await t.request({ method: 'DELETE', url: `/platform/api/v1/agent_bots/${bot.id}`, token: p.token });
    assert.equal(res.statusCode, 200);
    res = await t.request({ method: 'GET', url: `/platform/api/v1/agent_bots/${bot.id}`, token: p.token });
    assert.equal(res.statusCode, 404);
  });
});
