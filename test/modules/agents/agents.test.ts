import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../helpers.js';

const AGENT_KEYS = ['id', 'account_id', 'availability_status', 'auto_offline', 'confirmed', 'email', 'provider', 'available_name', 'name', 'role', 'thumbnail'].sort();

describe('agents', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  it('lists the account users in Chatwoot _agent shape, ordered by name', async () => {
    const { account, admin } = await t.seedAccount();
    await t.createUser({ accountId: account.id, name: 'aaron' });
    const res = await t.request({ method: 'GET', url: `/api/v1/accounts/${account.id}/agents`, token: admin.token });
    assert.equal(res.statusCode, 200);
    const list = res.json();
    assert.equal(list.length, 3);
    assert.equal(list[0].name, 'aaron');
    assert.deepEqual(Object.keys(list[0]).sort(), AGENT_KEYS);
    assert.equal(list[0].account_id, account.id);
  });

  it('creates an agent (new user or existing user), refuses duplicates and agents', async () => {
    const { account, admin, agent } = await t.seedAccount();
    let res = await t.request({
      method: 'POST',
      url: `/api/v1/accounts/${account.id}/agents`,
      token: admin.token,
      payload: { name: 'New Agent', email: 'New.Agent@example.com', role: 'agent' },
    });
    assert.equal(res.statusCode, 200);
    const created = res.json();
    assert.equal(created.email, 'new.agent@example.com');
    assert.equal(created.role, 'agent');
    assert.equal(created.confirmed, false);
    res = await t.request({ method: 'POST', url: `/api/v1/accounts/${account.id}/agents`, token: admin.token, payload: { agent: { name: 'Dup', email: 'new.agent@example.com' } } });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { message: 'User has already been taken', attributes: ['user_id'] });
    res = await t.request({ method: 'POST', url: `/api/v1/accounts/${account.id}/agents`, token: agent.token, payload: { name: 'X', email: 'x@example.com' } });
    assert.equal(res.statusCode, 401);
    res = await t.request({ method: 'POST', url: `/api/v1/accounts/${account.id}/agents`, token: admin.token, payload: { name: 'X', email: 'bad' } });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { message: 'Email is invalid', attributes: ['email'] });
    res = await t.request({ method: 'POST', url: `/api/v1/accounts/${account.id}/agents`, token: admin.token, payload: { name: 'X', email: 'x2@example.com', role: 'king' } });
    assert.equal(res.statusCode, 422);
    const count = await t.ctx.db.selectFrom('users').select('id').where('email', '=', 'x2@example.com').execute();
    assert.equal(count.length, 0, 'no half-written user');
  });

  it('updates role, availability and name; deletes the membership', async () => {
    const { account, admin, agent } = await t.seedAccount();
    let res = await t.request({
      method: 'PATCH',
      url: `/api/v1/accounts/${account.id}/agents/${agent.user.id}`,
      token: admin.token,
      payload: { name: 'Renamed', role: 'administrator', availability: 'busy', auto_offline: false },
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().name, 'Renamed');
    assert.equal(res.json().role, 'administrator');
    assert.equal(res.json().availability_status, 'busy');
    assert.equal(res.json().auto_offline, false);
    res = await t.request({ method: 'DELETE', url: `/api/v1/accounts/${account.id}/agents/${agent.user.id}`, token: admin.token });
    assert.equal(res.statusCode, 200);
    res = await t.request({ method: 'GET', url: `/api/v1/accounts/${account.id}/agents`, token: admin.token });
    assert.equal(res.json().length, 1);
  });

  it('answers 404 for a user of another account', async () => {
    const a = await t.seedAccount();
    const b = await t.seedAccount();
    const res = await t.request({ method: 'PATCH', url: `/api/v1/accounts/${a.account.id}/agents/${b.agent.user.id}`, token: a.admin.token, payload: { name: 'x' } });
    assert.equal(res.statusCode, 404);
  });
});
