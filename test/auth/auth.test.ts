import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers.js';
import { createAgentBot } from '../../src/modules/agent-bots/service.js';
import { accessTokenOf } from '../../src/auth/tokens.js';

describe('authentication', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  it('rejects missing and unknown tokens with 401 Invalid Access Token', async () => {
    for (const token of [undefined, 'not-a-token', 'x'.repeat(300)]) {
      const res = await t.request({ method: 'GET', url: '/api/v1/profile', token });
      assert.equal(res.statusCode, 401);
      assert.deepEqual(res.json(), { error: 'Invalid Access Token' });
    }
  });

  it('answers 404 for an unknown account, 401 for a non-member, 401 for a suspended account', async () => {
    const a = await t.seedAccount();
    const b = await t.seedAccount();
    let res = await t.request({ method: 'GET', url: '/api/v1/accounts/999999/agents', token: a.admin.token });
    assert.equal(res.statusCode, 404);
    assert.deepEqual(res.json(), { error: 'Resource could not be found' });
    res = await t.request({ method: 'GET', url: `/api/v1/accounts/${b.account.id}/agents`, token: a.admin.token });
    assert.equal(res.statusCode, 401);
    assert.deepEqual(res.json(), { error: 'You are not authorized to access this account' });
    await t.ctx.db.updateTable('accounts').set({ status: 1 }).where('id', '=', a.account.id).execute();
    res = await t.request({ method: 'GET', url: `/api/v1/accounts/${a.account.id}/agents`, token: a.admin.token });
    assert.equal(res.statusCode, 401);
    assert.deepEqual(res.json(), { error: 'Account is suspended' });
  });

  it('lets agent-bot tokens reach only bot endpoints', async () => {
    const { account } = await t.seedAccount();
    const bot = await createAgentBot(t.ctx.db, { name: 'Bot', account_id: account.id });
    const token = (await accessTokenOf(t.ctx.db, 'AgentBot', bot.id))!;
    for (const url of [`/api/v1/accounts/${account.id}/agents`, '/api/v1/profile', `/api/v1/accounts/${account.id}/agent_bots`]) {
      const res = await t.request({ method: 'GET', url, token });
      assert.equal(res.statusCode, 401, url);
      assert.deepEqual(res.json(), { error: 'Access to this endpoint is not authorized for bots' });
    }
  });

  it('signs in like devise_token_auth and the session headers authenticate; sign_out ends it', async () => {
    const { account } = await t.seedAccount();
    const u = await t.createUser({ accountId: account.id, role: 'administrator', email: 'Sign.In@Example.com', password: 'Secret123!' });
    const res = await t.request({ method: 'POST', url: '/auth/sign_in', payload: { email: 'sign.in@example.com', password: 'Secret123!' } });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.data.id, u.user.id);
    assert.equal(body.data.email, 'sign.in@example.com');
    assert.equal(body.data.access_token, u.token);
    assert.equal(body.data.accounts[0].id, account.id);
    assert.equal(body.data.accounts[0].role, 'administrator');
    for (const h of ['access-token', 'client', 'uid', 'token-type', 'expiry']) assert.ok(res.headers[h], `header ${h}`);
    assert.equal(res.headers['token-type'], 'Bearer');
    assert.equal(res.headers.uid, 'sign.in@example.com');
    const session = {
      'access-token': String(res.headers['access-token']),
      client: String(res.headers.client),
      uid: String(res.headers.uid),
    };
    let me = await t.request({ method: 'GET', url: '/api/v1/profile', headers: session });
    assert.equal(me.statusCode, 200);
    assert.equal(me.json().id, u.user.id);
    const validate = await t.request({ method: 'GET', url: '/auth/validate_token', headers: session });
    assert.equal(validate.statusCode, 200);
    assert.equal(validate.json().payload.success, true);
    assert.equal(validate.json().payload.data.id, u.user.id);

    const out = await t.request({ method: 'DELETE', url: '/auth/sign_out', headers: session });
    assert.equal(out.statusCode, 200);
    assert.deepEqual(out.json(), { success: true });
    me = await t.request({ method: 'GET', url: '/api/v1/profile', headers: session });
    assert.equal(me.statusCode, 401);
    const again = await t.request({ method: 'DELETE', url: '/auth/sign_out', headers: session });
    assert.equal(again.statusCode, 404);
  });

  it('rejects a wrong password with devise_token_auth errors and never leaks which part was wrong', async () => {
    const u = await t.createUser({ password: 'Secret123!' });
    for (const payload of [{ email: u.user.email, password: 'wrong' }, { email: 'nobody@example.com', password: 'Secret123!' }, {}]) {
      const res = await t.request({ method: 'POST', url: '/auth/sign_in', payload, remoteAddress: '10.1.1.1' });
      assert.equal(res.statusCode, 401);
      assert.deepEqual(res.json(), { success: false, errors: ['Invalid login credentials. Please try again.'] });
    }
  });

  it('slows repeated sign-in attempts from one address down (429)', async () => {
    let last = 0;
    for (let i = 0; i < 12; i++) {
      const res = await t.request({
        method: 'POST',
        url: '/auth/sign_in',
        payload: { email: 'nobody@example.com', password: 'x' },
        remoteAddress: '10.9.9.9',
      });
      last = res.statusCode;
    }
    assert.equal(last, 429);
    const other = await t.request({ method: 'POST', url: '/auth/sign_in', payload: { email: 'n@example.com', password: 'x' }, remoteAddress: '10.9.9.10' });
    assert.equal(other.statusCode, 401);
  });

  it('answers malformed JSON with 400 and never 500', async () => {
    const { admin } = await t.seedAccount();
    const res = await t.request({
      method: 'PUT',
      url: '/api/v1/profile',
      token: admin.token,
      headers: { 'content-type': 'application/json' },
      payload: '{"name": ',
    });
    assert.equal(res.statusCode, 400);
    assert.equal(typeof res.json().message, 'string');
  });

  it('serves health and the OpenAPI document', async () => {
    const health = await t.request({ method: 'GET', url: '/health' });
    assert.equal(health.statusCode, 200);
    assert.equal(health.json().status, 'ok');
    const doc = await t.request({ method: 'GET', url: '/api-docs/openapi.json' });
    assert.equal(doc.statusCode, 200);
    assert.ok(doc.json().paths['/platform/api/v1/accounts']);
  });
});
