import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers.js';

describe('account scope authentication', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  it('rejects a missing or unknown token with 401 Invalid Access Token', async () => {
    const { account } = await t.seedAccount();
    for (const token of [undefined, 'nope']) {
      const res = await t.request({ method: 'GET', url: `/api/v1/accounts/${account.id}/agents`, token });
      assert.equal(res.statusCode, 401);
      assert.deepEqual(res.json(), { error: 'Invalid Access Token' });
    }
  });

  it('answers 404 for an unknown account and 401 for a non-member', async () => {
    const a = await t.seedAccount();
    const b = await t.seedAccount();
    let res = await t.request({ method: 'GET', url: '/api/v1/accounts/999999/agents', token: a.admin.token });
    assert.equal(res.statusCode, 404);
    assert.deepEqual(res.json(), { error: 'Resource could not be found' });
    res = await t.request({ method: 'GET', url: `/api/v1/accounts/${b.account.id}/agents`, token: a.admin.token });
    assert.equal(res.statusCode, 401);
    assert.deepEqual(res.json(), { error: 'You are not authorized to access this account' });
  });
});
