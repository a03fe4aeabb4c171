import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../helpers.js';

describe('accounts (application API)', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  it('shows the account to its members in Chatwoot _account shape', async () => {
    const { account, agent } = await t.seedAccount();
    const res = await t.request({ method: 'GET', url: `/api/v1/accounts/${account.id}`, token: agent.token });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    for (const key of ['settings', 'created_at', 'domain', 'features', 'id', 'locale', 'name', 'support_email', 'status', 'cache_keys', 'latest_chatwoot_version']) {
      assert.ok(key in body, key);
    }
    assert.equal(body.id, account.id);
    assert.equal(body.locale, 'en');
    assert.equal(body.status, 'active');
    assert.equal(body.features.agent_bots, true);
    assert.match(body.created_at, /^\d{4}-\d\d-\d\dT/);
  });

  it('lets administrators update name, locale, custom attributes and settings; agents get 401', async () => {
    const { account, admin, agent } = await t.seedAccount();
    let res = await t.request({ method: 'PATCH', url: `/api/v1/accounts/${account.id}`, token: agent.token, payload: { name: 'X' } });
    assert.equal(res.statusCode, 401);
    assert.deepEqual(res.json(), { error: 'You are not authorized to do this action' });
    res = await t.request({
      method: 'PATCH',
      url: `/api/v1/accounts/${account.id}`,
      token: admin.token,
      payload: { name: 'Renamed', locale: 'fr', industry: 'Retail', auto_resolve_after: 1440 },
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().name, 'Renamed');
    assert.equal(res.json().locale, 'fr');
    assert.equal(res.json().custom_attributes.industry, 'Retail');
    assert.equal(res.json().settings.auto_resolve_after, 1440);
    res = await t.request({ method: 'PATCH', url: `/api/v1/accounts/${account.id}`, token: admin.token, payload: { name: '' } });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { message: "Name can't be blank", attributes: ['name'] });
  });

  it('hides other accounts (404) from non-members', async () => {
    const a = await t.seedAccount();
    const b = await t.seedAccount();
    const res = await t.request({ method: 'GET', url: `/api/v1/accounts/${b.account.id}`, token: a.admin.token });
    assert.equal(res.statusCode, 404);
  });
});
