import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../helpers.js';

const UNAUTHORIZED = { error: 'You are not authorized to do this action' };
const AGENT_KEYS = ['id', 'account_id', 'availability_status', 'auto_offline', 'confirmed', 'email', 'provider', 'available_name', 'name', 'role', 'thumbnail'];

describe('team members', () => {
  let t: TestApp;
  let seed: Awaited<ReturnType<TestApp['seedAccount']>>;
  let base: string;
  before(async () => {
    t = await startTestApp();
    seed = await t.seedAccount();
    base = `/api/v1/accounts/${seed.account.id}/teams`;
  });
  after(() => t.close());

  const newTeam = async (name: string) => (await t.request({ method: 'POST', url: base, token: seed.admin.token, payload: { name } })).json().id as number;
  const agents = async (n: number) => Promise.all(Array.from({ length: n }, () => t.createUser({ accountId: seed.account.id, role: 'agent' })));
  const memberIds = async (teamId: number) =>
    (await t.request({ method: 'GET', url: `${base}/${teamId}/team_members`, token: seed.agent.token })).json().map((m: { id: number }) => m.id);

  it('adds members and answers with only the newly added ones, as agents', async () => {
    const teamId = await newTeam('adders');
    const users = await agents(5);
    const ids = users.map((u) => u.user.id);
    await t.request({ method: 'POST', url: `${base}/${teamId}/team_members`, token: seed.admin.token, payload: { user_ids: [ids[0]] } });
    const res = await t.request({ method: 'POST', url: `${base}/${teamId}/team_members`, token: seed.admin.token, payload: { user_ids: ids } });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.length, 4);
    assert.deepEqual(body.map((m: { id: number }) => m.id), ids.slice(1));
    assert.deepEqual(Object.keys(body[0]), AGENT_KEYS);
    const u = users[1].user;
    assert.deepEqual(body[0], {
      id: u.id,
      account_id: seed.account.id,
      availability_status: body[0].availability_status,
      auto_offline: true,
      confirmed: body[0].confirmed,
      email: u.email,
      provider: 'email',
      available_name: u.name,
      name: u.name,
      role: 'agent',
      thumbnail: '',
    });
    assert.equal(typeof body[0].availability_status, 'string');
    assert.deepEqual(await memberIds(teamId), ids);
  });

  it('lists members to agents as agent objects', async () => {
    const teamId = await newTeam('listed');
    await t.request({ method: 'POST', url: `${base}/${teamId}/team_members`, token: seed.admin.token, payload: { user_ids: [seed.agent.user.id] } });
    const res = await t.request({ method: 'GET', url: `${base}/${teamId}/team_members`, token: seed.agent.token });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.length, 1);
    assert.equal(body[0].id, seed.agent.user.id);
    assert.deepEqual(Object.keys(body[0]), AGENT_KEYS);
    assert.deepEqual(
      (await t.request({ method: 'GET', url: `${base}/${await newTeam('empty')}/team_members`, token: seed.agent.token })).json(),
      [],
    );
  });

  it('replaces the member set with PATCH and answers with every member', async () => {
    const teamId = await newTeam('replaced');
    const ids = (await agents(4)).map((u) => u.user.id);
    await t.request({ method: 'POST', url: `${base}/${teamId}/team_members`, token: seed.admin.token, payload: { user_ids: ids.slice(0, 2) } });
    const res = await t.request({ method: 'PATCH', url: `${base}/${teamId}/team_members`, token: seed.admin.token, payload: { user_ids: ids.slice(1) } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json().map((m: { id: number }) => m.id), ids.slice(1));
    assert.deepEqual(await memberIds(teamId), ids.slice(1));
    const cleared = await t.request({ method: 'PATCH', url: `${base}/${teamId}/team_members`, token: seed.admin.token, payload: { user_ids: [] } });
    assert.deepEqual(cleared.json(), []);
  });

  it('removes members with DELETE', async () => {
    const teamId = await newTeam('removed');
    const ids = (await agents(5)).map((u) => u.user.id);
    await t.request({ method: 'POST', url: `${base}/${teamId}/team_members`, token: seed.admin.token, payload: { user_ids: ids } });
    const res = await t.request({ method: 'DELETE', url: `${base}/${teamId}/team_members`, token: seed.admin.token, payload: { user_ids: ids.slice(0, 3) } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, '');
    assert.deepEqual(await memberIds(teamId), ids.slice(3));
  });

  it('refuses users outside the account with 401 Invalid User IDs and changes nothing', async () => {
    const teamId = await newTeam('outsiders');
    const other = await t.seedAccount();
    await t.request({ method: 'POST', url: `${base}/${teamId}/team_members`, token: seed.admin.token, payload: { user_ids: [seed.agent.user.id] } });
    for (const method of ['POST', 'PATCH', 'DELETE'] as const) {
      const res = await t.request({ method, url: `${base}/${teamId}/team_members`, token: seed.admin.token, payload: { user_ids: [other.agent.user.id] } });
      assert.equal(res.statusCode, 401, method);
      assert.deepEqual(res.json(), { error: 'Invalid User IDs' });
    }
    const res = await t.request({ method: 'POST', url: `${base}/${teamId}/team_members`, token: seed.admin.token, payload: { user_ids: [seed.admin.user.id, 999999] } });
    assert.equal(res.statusCode, 401);
    assert.deepEqual(await memberIds(teamId), [seed.agent.user.id]);
  });

  it('requires user_ids and rejects non-integer ids', async () => {
    const teamId = await newTeam('params');
    let res = await t.request({ method: 'POST', url: `${base}/${teamId}/team_members`, token: seed.admin.token, payload: {} });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { error: 'param is missing or the value is empty: user_ids' });
    res = await t.request({ method: 'POST', url: `${base}/${teamId}/team_members`, token: seed.admin.token, payload: { user_ids: ['abc'] } });
    assert.equal(res.statusCode, 400);
  });

  it('denies agents adding, replacing and removing members with 401', async () => {
    const teamId = await newTeam('agents-denied');
    for (const method of ['POST', 'PATCH', 'DELETE'] as const) {
      const res = await t.request({ method, url: `${base}/${teamId}/team_members`, token: seed.agent.token, payload: { user_ids: [seed.agent.user.id] } });
      assert.equal(res.statusCode, 401, method);
      assert.deepEqual(res.json(), UNAUTHORIZED);
    }
    assert.deepEqual(await memberIds(teamId), []);
  });
});
