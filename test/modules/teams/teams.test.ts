import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../helpers.js';

const UNAUTHORIZED = { error: 'You are not authorized to do this action' };
const NOT_FOUND = { error: 'Resource could not be found' };
const TEAM_KEYS = ['id', 'name', 'description', 'allow_auto_assign', 'account_id', 'is_member'];

describe('teams', () => {
  let t: TestApp;
  let seed: Awaited<ReturnType<TestApp['seedAccount']>>;
  let url: string;
  before(async () => {
    t = await startTestApp();
    seed = await t.seedAccount();
    url = `/api/v1/accounts/${seed.account.id}/teams`;
  });
  after(() => t.close());

  const create = (payload: unknown, token = seed.admin.token) => t.request({ method: 'POST', url, token, payload: payload as object });

  it('creates a team (name lower-cased, allow_auto_assign defaults to true)', async () => {
    let res = await create({ team: { name: 'Support Team', description: 'Front line' } });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.deepEqual(Object.keys(body), TEAM_KEYS);
    assert.deepEqual({ ...body, id: 0 }, {
      id: 0, name: 'support team', description: 'Front line', allow_auto_assign: true, account_id: seed.account.id, is_member: false,
    });
    res = await create({ name: 'sales', allow_auto_assign: false });
    assert.equal(res.statusCode, 200);
    assert.deepEqual({ ...(res.json() as Record<string, unknown>), id: 0 }, {
      id: 0, name: 'sales', description: null, allow_auto_assign: false, account_id: seed.account.id, is_member: false,
    });
  });

  it('rejects a blank, duplicate (any case) or missing name', async () => {
    let res = await create({ name: '' });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { message: 'Name must not be blank', attributes: ['name'] });
    res = await create({ name: 'SALES' });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { message: 'Name has already been taken', attributes: ['name'] });
    res = await create({ description: 'no name' });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { message: 'Name must not be blank', attributes: ['name'] });
    res = await create({});
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { error: 'param is missing or the value is empty: team' });
    res = await create({ name: ['x'] });
    assert.equal(res.statusCode, 400);
  });

  it('lists and shows teams to every member with is_member for the caller', async () => {
    const { account, admin, agent } = await t.seedAccount();
    const u = `/api/v1/accounts/${account.id}/teams`;
    const a = (await t.request({ method: 'POST', url: u, token: admin.token, payload: { name: 'alpha' } })).json();
    const b = (await t.request({ method: 'POST', url: u, token: admin.token, payload: { name: 'beta' } })).json();
    const add = await t.request({ method: 'POST', url: `${u}/${b.id}/team_members`, token: admin.token, payload: { user_ids: [agent.user.id] } });
    assert.equal(add.statusCode, 200);

    let res = await t.request({ method: 'GET', url: u, token: agent.token });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), [
      { id: a.id, name: 'alpha', description: null, allow_auto_assign: true, account_id: account.id, is_member: false },
      { id: b.id, name: 'beta', description: null, allow_auto_assign: true, account_id: account.id, is_member: true },
    ]);
    res = await t.request({ method: 'GET', url: u, token: admin.token });
    assert.deepEqual(res.json().map((x: { is_member: boolean }) => x.is_member), [false, false]);

    res = await t.request({ method: 'GET', url: `${u}/${b.id}`, token: agent.token });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { id: b.id, name: 'beta', description: null, allow_auto_assign: true, account_id: account.id, is_member: true });
  });

  it('updates and deletes a team (administrator)', async () => {
    const team = (await create({ name: 'to-update' })).json();
    let res = await t.request({ method: 'PATCH', url: `${url}/${team.id}`, token: seed.admin.token, payload: { name: 'New-Team', allow_auto_assign: false, description: 'x' } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { id: team.id, name: 'new-team', description: 'x', allow_auto_assign: false, account_id: seed.account.id, is_member: false });
    res = await t.request({ method: 'PUT', url: `${url}/${team.id}`, token: seed.admin.token, payload: { team: { description: null } } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().description, null);
    assert.equal(res.json().name, 'new-team');

    res = await t.request({ method: 'PATCH', url: `${url}/${team.id}`, token: seed.admin.token, payload: { name: 'Sales' } });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { message: 'Name has already been taken', attributes: ['name'] });
    res = await t.request({ method: 'PATCH', url: `${url}/${team.id}`, token: seed.admin.token, payload: { name: null } });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { message: 'Name must not be blank', attributes: ['name'] });

    await t.request({ method: 'POST', url: `${url}/${team.id}/team_members`, token: seed.admin.token, payload: { user_ids: [seed.agent.user.id] } });
    res = await t.request({ method: 'DELETE', url: `${url}/${team.id}`, token: seed.admin.token });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, '');
    res = await t.request({ method: 'GET', url: `${url}/${team.id}`, token: seed.admin.token });
    assert.equal(res.statusCode, 404);
    const members = await t.ctx.db.selectFrom('team_members').select('id').where('team_id', '=', team.id).execute();
    assert.equal(members.length, 0);
  });

  it('denies agents create, update and delete with 401', async () => {
    const team = (await create({ name: 'guarded' })).json();
    const attempts = [
      { method: 'POST', url, payload: { name: 'agent-team' } },
      { method: 'PATCH', url: `${url}/${team.id}`, payload: { name: 'agent-team' } },
      { method: 'PUT', url: `${url}/${team.id}`, payload: { name: 'agent-team' } },
      { method: 'DELETE', url: `${url}/${team.id}` },
    ] as const;
    for (const a of attempts) {
      const res = await t.request({ ...a, token: seed.agent.token });
      assert.equal(res.statusCode, 401, a.method);
      assert.deepEqual(res.json(), UNAUTHORIZED);
    }
    const res = await t.request({ method: 'GET', url: `${url}/${team.id}`, token: seed.agent.token });
    assert.equal(res.json().name, 'guarded');
  });

  it('answers 404 for another account\'s team', async () => {
    const other = await t.seedAccount();
    const theirs = (await t.request({ method: 'POST', url: `/api/v1/accounts/${other.account.id}/teams`, token: other.admin.token, payload: { name: 'theirs' } })).json();
    for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
      const res = await t.request({ method, url: `${url}/${theirs.id}`, token: seed.admin.token, payload: method === 'PATCH' ? { name: 'x' } : undefined });
      assert.equal(res.statusCode, 404, method);
      assert.deepEqual(res.json(), NOT_FOUND);
    }
    for (const method of ['GET', 'POST', 'PATCH', 'DELETE'] as const) {
      const res = await t.request({
        method,
        url: `${url}/${theirs.id}/team_members`,
        token: seed.admin.token,
        payload: method === 'GET' ? undefined : { user_ids: [seed.agent.user.id] },
      });
      assert.equal(res.statusCode, 404, `members ${method}`);
      assert.deepEqual(res.json(), NOT_FOUND);
    }
    assert.equal((await t.request({ method: 'GET', url: `${url}/abc`, token: seed.admin.token })).statusCode, 404);
  });
});
