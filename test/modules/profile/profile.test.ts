import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../helpers.js';

const PROFILE_KEYS = [
  'access_token', 'account_id', 'available_name', 'avatar_url', 'confirmed', 'display_name', 'message_signature', 'email', 'id',
  'inviter_id', 'name', 'provider', 'pubsub_token', 'role', 'ui_settings', 'uid', 'type', 'accounts',
].sort();

describe('profile', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  it('shows the user as Chatwoot renders api/v1/models/_user', async () => {
    const { account, admin } = await t.seedAccount();
    const res = await t.request({ method: 'GET', url: '/api/v1/profile', token: admin.token });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.deepEqual(Object.keys(body).sort(), PROFILE_KEYS);
    assert.equal(body.access_token, admin.token);
    assert.equal(body.account_id, account.id);
    assert.equal(body.role, 'administrator');
    assert.equal(body.provider, 'email');
    assert.equal(body.uid, admin.user.email);
    assert.equal(body.confirmed, true);
    assert.equal(typeof body.pubsub_token, 'string');
    assert.deepEqual(body.ui_settings, {});
    assert.deepEqual(Object.keys(body.accounts[0]).sort(), [
      'active_at', 'auto_offline', 'availability', 'availability_status', 'id', 'name', 'permissions', 'role', 'status',
    ]);
    assert.deepEqual(body.accounts[0].permissions, ['administrator']);
    assert.equal(body.accounts[0].availability, 'online');
    assert.equal(body.accounts[0].status, 'active');
  });

  it('updates name, display name, signature and ui_settings, under `profile` or at the root', async () => {
    const { admin } = await t.seedAccount();
    let res = await t.request({
      method: 'PUT',
      url: '/api/v1/profile',
      token: admin.token,
      payload: { profile: { name: 'New Name', display_name: 'Nick', message_signature: 'Bye', ui_settings: { theme: 'dark' } } },
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().name, 'New Name');
    assert.equal(res.json().available_name, 'Nick');
    assert.equal(res.json().message_signature, 'Bye');
    assert.deepEqual(res.json().ui_settings, { theme: 'dark' });
    res = await t.request({ method: 'PUT', url: '/api/v1/profile', token: admin.token, payload: { name: 'Root Name' } });
    assert.equal(res.json().name, 'Root Name');
  });

  it('changes the password only with the current one', async () => {
    const { admin } = await t.seedAccount();
    let res = await t.request({
      method: 'PUT',
      url: '/api/v1/profile',
      token: admin.token,
      payload: { profile: { current_password: 'wrong', password: 'Newpass1!', password_confirmation: 'Newpass1!' } },
    });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { error: 'Invalid current password' });
    res = await t.request({
      method: 'PUT',
      url: '/api/v1/profile',
      token: admin.token,
      payload: { profile: { current_password: 'Password1!', password: 'Newpass1!', password_confirmation: 'Newpass1!' } },
    });
    assert.equal(res.statusCode, 200);
    const signIn = await t.request({ method: 'POST', url: '/auth/sign_in', payload: { email: admin.user.email, password: 'Newpass1!' } });
    assert.equal(signIn.statusCode, 200);
  });

  it('rejects a taken or invalid email with Chatwoot 422 shape, writing nothing', async () => {
    const { admin, agent } = await t.seedAccount();
    let res = await t.request({ method: 'PUT', url: '/api/v1/profile', token: admin.token, payload: { profile: { email: agent.user.email.toUpperCase(), name: 'Changed' } } });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { message: 'Email has already been taken', attributes: ['email'] });
    res = await t.request({ method: 'PUT', url: '/api/v1/profile', token: admin.token, payload: { profile: { email: 'not-an-email' } } });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { message: 'Email is invalid', attributes: ['email'] });
    const me = await t.request({ method: 'GET', url: '/api/v1/profile', token: admin.token });
    assert.notEqual(me.json().name, 'Changed');
  });

  it('rejects wrong types with 400', async () => {
    const { admin } = await t.seedAccount();
    const res = await t.request({ method: 'PUT', url: '/api/v1/profile', token: admin.token, payload: { profile: { ui_settings: 'nope' } } });
    assert.equal(res.statusCode, 400);
  });

  it('sets availability and auto_offline per account, and resets the access token', async () => {
    const { account, agent } = await t.seedAccount();
    let res = await t.request({ method: 'POST', url: '/api/v1/profile/availability', token: agent.token, payload: { profile: { account_id: account.id, availability: 'busy' } } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().accounts[0].availability, 'busy');
    res = await t.request({ method: 'POST', url: '/api/v1/profile/availability', token: agent.token, payload: { profile: { account_id: account.id, availability: 'sleeping' } } });
    assert.equal(res.statusCode, 422);
    res = await t.request({ method: 'POST', url: '/api/v1/profile/auto_offline', token: agent.token, payload: { profile: { account_id: account.id, auto_offline: false } } });
    assert.equal(res.json().accounts[0].auto_offline, false);
    assert.equal(res.json().accounts[0].availability_status, 'busy');
    res = await t.request({ method: 'POST', url: '/api/v1/profile/reset_access_token', token: agent.token });
    assert.equal(res.statusCode, 200);
    const newToken = res.json().access_token;
    assert.notEqual(newToken, agent.token);
    assert.equal((await t.request({ method: 'GET', url: '/api/v1/profile', token: agent.token })).statusCode, 401);
    assert.equal((await t.request({ method: 'GET', url: '/api/v1/profile', token: newToken })).statusCode, 200);
  });
});
