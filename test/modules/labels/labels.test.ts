import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../helpers.js';

const UNAUTHORIZED = { error: 'You are not authorized to do this action' };
const NOT_FOUND = { error: 'Resource could not be found' };

describe('labels', () => {
  let t: TestApp;
  let seed: Awaited<ReturnType<TestApp['seedAccount']>>;
  let url: string;
  before(async () => {
    t = await startTestApp();
    seed = await t.seedAccount();
    url = `/api/v1/accounts/${seed.account.id}/labels`;
  });
  after(() => t.close());

  const create = (payload: unknown, token = seed.admin.token) => t.request({ method: 'POST', url, token, payload: payload as object });

  it('creates a label with a lower-cased title and answers the label shape', async () => {
    const res = await create({ label: { title: 'Billing_Issue', description: 'Money', color: '#ff0000', show_on_sidebar: true } });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.deepEqual(Object.keys(body), ['id', 'title', 'description', 'color', 'show_on_sidebar']);
    assert.equal(typeof body.id, 'number');
    assert.deepEqual({ ...body, id: 0 }, { id: 0, title: 'billing_issue', description: 'Money', color: '#ff0000', show_on_sidebar: true });
  });

  it('accepts unwrapped params and applies defaults (colour #1f93ff, show_on_sidebar null)', async () => {
    const res = await create({ title: 'unwrapped' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual({ ...(res.json() as Record<string, unknown>), id: 0 }, { id: 0, title: 'unwrapped', description: null, color: '#1f93ff', show_on_sidebar: null });
  });

  it('allows letters of any script and digits', async () => {
    const res = await create({ title: '学中文_12' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().title, '学中文_12');
  });

  it('rejects an invalid, blank, duplicate or missing title', async () => {
    for (const title of ['_12', 'jell;;2_12', 'heeloo _12', 'a']) {
      const res = await create({ title });
      assert.equal(res.statusCode, 422, title);
      assert.deepEqual(res.json(), { message: 'Title is invalid', attributes: ['title'] });
    }
    let res = await create({ title: '' });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { message: 'Title must not be blank', attributes: ['title'] });
    res = await create({ title: 'BILLING_ISSUE' });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { message: 'Title has already been taken', attributes: ['title'] });
    res = await create({ color: '#000000' });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { message: 'Title must not be blank', attributes: ['title'] });
    res = await create({});
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { error: 'param is missing or the value is empty: label' });
    res = await create({ title: { nested: true } });
    assert.equal(res.statusCode, 400);
  });

  it('lists labels ordered by title inside "payload", for agents too', async () => {
    const { account, admin, agent } = await t.seedAccount();
    const u = `/api/v1/accounts/${account.id}/labels`;
    for (const title of ['zeta', 'alpha', 'mid']) {
      assert.equal((await t.request({ method: 'POST', url: u, token: admin.token, payload: { title } })).statusCode, 200);
    }
    for (const token of [admin.token, agent.token]) {
      const res = await t.request({ method: 'GET', url: u, token });
      assert.equal(res.statusCode, 200);
      const body = res.json();
      assert.deepEqual(Object.keys(body), ['payload']);
      assert.deepEqual(body.payload.map((l: { title: string }) => l.title), ['alpha', 'mid', 'zeta']);
      assert.deepEqual(Object.keys(body.payload[0]), ['id', 'title', 'description', 'color', 'show_on_sidebar']);
    }
  });

  it('shows, updates and deletes a label (administrator)', async () => {
    const id = (await create({ title: 'to_change', show_on_sidebar: false })).json().id;
    let res = await t.request({ method: 'GET', url: `${url}/${id}`, token: seed.admin.token });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { id, title: 'to_change', description: null, color: '#1f93ff', show_on_sidebar: false });

    res = await t.request({ method: 'PATCH', url: `${url}/${id}`, token: seed.admin.token, payload: { title: 'Test_2', description: 'd', color: '#00ff00' } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { id, title: 'test_2', description: 'd', color: '#00ff00', show_on_sidebar: false });

    res = await t.request({ method: 'PUT', url: `${url}/${id}`, token: seed.admin.token, payload: { label: { show_on_sidebar: true } } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { id, title: 'test_2', description: 'd', color: '#00ff00', show_on_sidebar: true });

    res = await t.request({ method: 'PATCH', url: `${url}/${id}`, token: seed.admin.token, payload: { title: 'billing_issue' } });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { message: 'Title has already been taken', attributes: ['title'] });
    res = await t.request({ method: 'PATCH', url: `${url}/${id}`, token: seed.admin.token, payload: { title: 'bad title' } });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { message: 'Title is invalid', attributes: ['title'] });
    res = await t.request({ method: 'PATCH', url: `${url}/${id}`, token: seed.admin.token, payload: {} });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { error: 'param is missing or the value is empty: label' });

    res = await t.request({ method: 'DELETE', url: `${url}/${id}`, token: seed.admin.token });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, '');
    res = await t.request({ method: 'GET', url: `${url}/${id}`, token: seed.admin.token });
    assert.equal(res.statusCode, 404);
    assert.deepEqual(res.json(), NOT_FOUND);
  });

  it('renames the tag on tagged conversations and contacts when the title changes', async () => {
    const id = (await create({ title: 'old_name' })).json().id;
    const ts = Date.now();
    const db = t.ctx.db;
    await db.insertInto('taggings').values([
      { account_id: seed.account.id, taggable_type: 'Contact', taggable_id: 1, name: 'old_name', created_at: ts },
      { account_id: seed.account.id, taggable_type: 'Contact', taggable_id: 2, name: 'old_name', created_at: ts },
      { account_id: seed.account.id, taggable_type: 'Contact', taggable_id: 2, name: 'new_name', created_at: ts },
    ]).execute();
    const res = await t.request({ method: 'PATCH', url: `${url}/${id}`, token: seed.admin.token, payload: { title: 'New_Name' } });
    assert.equal(res.statusCode, 200);
    const tags = await db.selectFrom('taggings').select(['taggable_id', 'name']).where('account_id', '=', seed.account.id).orderBy('taggable_id').orderBy('name').execute();
    assert.deepEqual(tags, [
      { taggable_id: 1, name: 'new_name' },
      { taggable_id: 2, name: 'new_name' },
    ]);
  });

  it('denies agents everything but the list with 401', async () => {
    const id = (await create({ title: 'agent_denied' })).json().id;
    const token = seed.agent.token;
    const attempts = [
      { method: 'GET', url: `${url}/${id}` },
      { method: 'POST', url, payload: { title: 'nope' } },
      { method: 'PATCH', url: `${url}/${id}`, payload: { title: 'nope' } },
      { method: 'DELETE', url: `${url}/${id}` },
    ] as const;
    for (const a of attempts) {
      const res = await t.request({ ...a, token });
      assert.equal(res.statusCode, 401, `${a.method} ${a.url}`);
      assert.deepEqual(res.json(), UNAUTHORIZED);
    }
    const labels = await t.ctx.db.selectFrom('labels').select('title').where('title', '=', 'nope').execute();
    assert.equal(labels.length, 0);
  });

  it('answers 404 for another account\'s label, and without a token 401', async () => {
    const other = await t.seedAccount();
    const otherId = (await t.request({ method: 'POST', url: `/api/v1/accounts/${other.account.id}/labels`, token: other.admin.token, payload: { title: 'theirs' } })).json().id;
    for (const method of ['GET', 'PATCH', 'PUT', 'DELETE'] as const) {
      const res = await t.request({ method, url: `${url}/${otherId}`, token: seed.admin.token, payload: method === 'PATCH' || method === 'PUT' ? { title: 'x1' } : undefined });
      assert.equal(res.statusCode, 404, method);
      assert.deepEqual(res.json(), NOT_FOUND);
    }
    const res = await t.request({ method: 'GET', url: `${url}/not-a-number`, token: seed.admin.token });
    assert.equal(res.statusCode, 404);
    assert.equal((await t.request({ method: 'GET', url })).statusCode, 401);
    const theirs = await t.request({ method: 'GET', url: `/api/v1/accounts/${other.account.id}/labels`, token: other.admin.token });
    assert.deepEqual(theirs.json().payload.map((l: { title: string }) => l.title), ['theirs']);
  });
});
