import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../helpers.js';

const NOT_FOUND = { error: 'Resource could not be found' };
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const QUERY = {
  payload: [{ values: ['open'], attribute_key: 'status', query_operator: null, attribute_model: 'standard', filter_operator: 'equal_to', custom_attribute_type: '' }],
};

describe('custom filters', () => {
  let t: TestApp;
  let seed: Awaited<ReturnType<TestApp['seedAccount']>>;
  let url: string;
  before(async () => {
    t = await startTestApp();
    seed = await t.seedAccount();
    url = `/api/v1/accounts/${seed.account.id}/custom_filters`;
  });
  after(() => t.close());

  const create = (payload: unknown, token = seed.agent.token, u = url) => t.request({ method: 'POST', url: u, token, payload: payload as object });

  it('creates a filter for the current user and answers Chatwoot\'s shape', async () => {
    const res = await create({ custom_filter: { name: 'vip-customers', filter_type: 'conversation', query: QUERY } });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.deepEqual(Object.keys(body), ['id', 'name', 'filter_type', 'query', 'created_at', 'updated_at']);
    assert.equal(typeof body.id, 'number');
    assert.equal(body.name, 'vip-customers');
    assert.equal(body.filter_type, 'conversation');
    assert.deepEqual(body.query, QUERY);
    assert.match(body.created_at, ISO);
    assert.match(body.updated_at, ISO);
    const row = await t.ctx.db.selectFrom('custom_filters').select(['user_id', 'account_id']).where('id', '=', body.id).executeTakeFirstOrThrow();
    assert.deepEqual(row, { user_id: seed.agent.user.id, account_id: seed.account.id });
  });

  it('accepts filter_type as a name or integer and defaults to conversation', async () => {
    let res = await create({ name: 'contacts view', filter_type: 'contact', query: {} });
    assert.equal(res.json().filter_type, 'contact');
    res = await create({ name: 'report view', filter_type: 2 });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().filter_type, 'report');
    assert.deepEqual(res.json().query, {});
    res = await create({ name: 'default type' });
    assert.equal(res.json().filter_type, 'conversation');
  });

  it('rejects a missing name, an unknown type, a non-object query and a missing body', async () => {
    let res = await create({ filter_type: 'conversation', query: QUERY });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { message: "Name can't be blank", attributes: ['name'] });
    res = await create({ name: 'x', filter_type: 'tickets' });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { message: 'Filter type is not included in the list', attributes: ['filter_type'] });
    res = await create({ name: 'x', query: [1, 2] });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { message: 'Query must be an object', attributes: ['query'] });
    res = await create({});
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { error: 'param is missing or the value is empty: custom_filter' });
  });

  it('lists the user\'s own filters of one type (conversation by default)', async () => {
    const { account, admin, agent } = await t.seedAccount();
    const u = `/api/v1/accounts/${account.id}/custom_filters`;
    const a1 = (await create({ name: 'a1', query: QUERY }, agent.token, u)).json();
    const a2 = (await create({ name: 'a2', filter_type: 'contact' }, agent.token, u)).json();
    const a3 = (await create({ name: 'a3', filter_type: 'report' }, agent.token, u)).json();
    await create({ name: 'admin-only' }, admin.token, u);
    const list = async (q: string, token = agent.token) => {
      const res = await t.request({ method: 'GET', url: `${u}${q}`, token });
      assert.equal(res.statusCode, 200);
      return res.json();
    };
    assert.deepEqual(await list(''), [a1]);
    assert.deepEqual(await list('?filter_type=conversation'), [a1]);
    assert.deepEqual(await list('?filter_type=contact'), [a2]);
    assert.deepEqual(await list('?filter_type=1'), [a2]);
    assert.deepEqual(await list('?filter_type=report'), [a3]);
    assert.deepEqual(await list('?filter_type=unknown'), []);
    assert.deepEqual((await list('', admin.token)).map((f: { name: string }) => f.name), ['admin-only']);
  });

  it('shows, updates and deletes (204) the user\'s own filter', async () => {
    const f = (await create({ name: 'mine', query: QUERY })).json();
    let res = await t.request({ method: 'GET', url: `${url}/${f.id}`, token: seed.agent.token });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), f);

    const resolved = { payload: [{ ...QUERY.payload[0], values: ['resolved'] }] };
    res = await t.request({ method: 'PATCH', url: `${url}/${f.id}`, token: seed.agent.token, payload: { custom_filter: { name: 'renamed', filter_type: 'conversation', query: resolved } } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().name, 'renamed');
    assert.equal(res.json().filter_type, 'conversation');
    assert.deepEqual(res.json().query.payload[0].values, ['resolved']);
    assert.equal(res.json().created_at, f.created_at);

    res = await t.request({ method: 'PUT', url: `${url}/${f.id}`, token: seed.agent.token, payload: { filter_type: 'contact' } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().filter_type, 'contact');
    assert.equal(res.json().name, 'renamed');
    res = await t.request({ method: 'PATCH', url: `${url}/${f.id}`, token: seed.agent.token, payload: { name: '' } });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { message: "Name can't be blank", attributes: ['name'] });

    res = await t.request({ method: 'DELETE', url: `${url}/${f.id}`, token: seed.agent.token });
    assert.equal(res.statusCode, 204);
    assert.equal(res.body, '');
    assert.equal((await t.request({ method: 'GET', url: `${url}/${f.id}`, token: seed.agent.token })).statusCode, 404);
  });

  it('keeps filters private: another user\'s or another account\'s filter is 404', async () => {
    const agentFilter = (await create({ name: 'private' })).json();
    for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
      const res = await t.request({ method, url: `${url}/${agentFilter.id}`, token: seed.admin.token, payload: method === 'PATCH' ? { name: 'stolen' } : undefined });
      assert.equal(res.statusCode, 404, `administrator ${method}`);
      assert.deepEqual(res.json(), NOT_FOUND);
    }
    const other = await t.seedAccount();
    const theirs = (await create({ name: 'elsewhere' }, other.agent.token, `/api/v1/accounts/${other.account.id}/custom_filters`)).json();
    const res = await t.request({ method: 'PATCH', url: `${url}/${theirs.id}`, token: seed.agent.token, payload: { name: 'x' } });
    assert.equal(res.statusCode, 404);
    const still = await t.request({ method: 'GET', url: `${url}/${agentFilter.id}`, token: seed.agent.token });
    assert.equal(still.json().name, 'private');
    assert.equal((await t.request({ method: 'GET', url })).statusCode, 401);
  });

  it('refuses the 1001st filter of a user in an account', async () => {
    const { account, agent, admin } = await t.seedAccount();
    const ts = Date.now();
    const rows = Array.from({ length: 1000 }, (_, i) => ({
      account_id: account.id, user_id: agent.user.id, name: `f${i}`, filter_type: 0, query: '{}', created_at: ts, updated_at: ts,
    }));
    for (let i = 0; i < rows.length; i += 200) await t.ctx.db.insertInto('custom_filters').values(rows.slice(i, i + 200)).execute();
    const u = `/api/v1/accounts/${account.id}/custom_filters`;
    let res = await create({ name: 'one too many', query: QUERY }, agent.token, u);
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), {
      message: 'Account Limit reached. The maximum number of allowed custom filters for a user per account is 1000.',
      attributes: ['account_id'],
    });
    res = await create({ name: 'admin still can' }, admin.token, u);
    assert.equal(res.statusCode, 200);
  });
});
