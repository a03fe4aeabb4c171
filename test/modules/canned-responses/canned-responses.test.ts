import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../helpers.js';

const NOT_FOUND = { error: 'Resource could not be found' };
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('canned responses', () => {
  let t: TestApp;
  let seed: Awaited<ReturnType<TestApp['seedAccount']>>;
  let url: string;
  before(async () => {
    t = await startTestApp();
    seed = await t.seedAccount();
    url = `/api/v1/accounts/${seed.account.id}/canned_responses`;
  });
  after(() => t.close());

  const create = (payload: unknown, token = seed.agent.token, u = url) => t.request({ method: 'POST', url: u, token, payload: payload as object });

  it('lets an agent create one and answers the record as JSON', async () => {
    const res = await create({ canned_response: { short_code: 'greet', content: 'Hello {{contact.name}}' } });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.deepEqual(Object.keys(body), ['id', 'account_id', 'short_code', 'content', 'created_at', 'updated_at']);
    assert.equal(typeof body.id, 'number');
    assert.equal(body.account_id, seed.account.id);
    assert.equal(body.short_code, 'greet');
    assert.equal(body.content, 'Hello {{contact.name}}');
    assert.match(body.created_at, ISO);
    assert.match(body.updated_at, ISO);
  });

  it('rejects blank fields, a duplicate short code and a missing body', async () => {
    let res = await create({ short_code: 'only-code' });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { message: "Content can't be blank", attributes: ['content'] });
    res = await create({ short_code: '', content: '' });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { message: "Content can't be blank, Short code can't be blank", attributes: ['content', 'short_code'] });
    res = await create({ short_code: 'greet', content: 'again' });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { message: 'Short code has already been taken', attributes: ['short_code'] });
    res = await create({});
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { error: 'param is missing or the value is empty: canned_response' });
  });

  it('lists all of the account\'s responses, and searches short code and content ranked like Chatwoot', async () => {
    const { account, agent } = await t.seedAccount();
    const u = `/api/v1/accounts/${account.id}/canned_responses`;
    const cr1 = (await create({ short_code: 'name-short-code', content: 'Hey {{ contact.name }}, Thanks for reaching out' }, agent.token, u)).json();
    const other = (await create({ short_code: 'short-code', content: 'Great! Looking forward' }, agent.token, u)).json();
    const cr2 = (await create({ short_code: 'content-with-thanks', content: 'Thanks for reaching out' }, agent.token, u)).json();
    const cr3 = (await create({ short_code: 'Thanks', content: 'Thanks for reaching out' }, agent.token, u)).json();

    let res = await t.request({ method: 'GET', url: u, token: agent.token });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), [cr1, other, cr2, cr3]);

    res = await t.request({ method: 'GET', url: `${u}?search=thanks`, token: agent.token });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), [cr3, cr2, cr1]);

    res = await t.request({ method: 'GET', url: `${u}?search=LOOKING`, token: agent.token });
    assert.deepEqual(res.json(), [other]);
    res = await t.request({ method: 'GET', url: `${u}?search=${encodeURIComponent('100%')}`, token: agent.token });
    assert.deepEqual(res.json(), [], 'LIKE wildcards in the search are literal');
    res = await t.request({ method: 'GET', url: `${u}?search=nothing-matches`, token: agent.token });
    assert.deepEqual(res.json(), []);
  });

  it('updates (PATCH and PUT) and deletes, as an agent', async () => {
    const cr = (await create({ short_code: 'upd', content: 'before' })).json();
    let res = await t.request({ method: 'PATCH', url: `${url}/${cr.id}`, token: seed.agent.token, payload: { short_code: 'B' } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual({ ...(res.json() as Record<string, unknown>), updated_at: null }, { ...cr, short_code: 'B', updated_at: null });
    res = await t.request({ method: 'PUT', url: `${url}/${cr.id}`, token: seed.admin.token, payload: { canned_response: { content: 'after' } } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().content, 'after');
    assert.equal(res.json().short_code, 'B');

    res = await t.request({ method: 'PATCH', url: `${url}/${cr.id}`, token: seed.agent.token, payload: { short_code: 'greet' } });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { message: 'Short code has already been taken', attributes: ['short_code'] });
    res = await t.request({ method: 'PATCH', url: `${url}/${cr.id}`, token: seed.agent.token, payload: { content: '  ' } });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { message: "Content can't be blank", attributes: ['content'] });

    res = await t.request({ method: 'DELETE', url: `${url}/${cr.id}`, token: seed.agent.token });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, '');
    const left = await t.ctx.db.selectFrom('canned_responses').select('id').where('id', '=', cr.id).execute();
    assert.equal(left.length, 0);
  });

  it('answers 404 for another account\'s response and 401 without a token', async () => {
    const other = await t.seedAccount();
    const theirs = (await create({ short_code: 'theirs', content: 'x' }, other.agent.token, `/api/v1/accounts/${other.account.id}/canned_responses`)).json();
    for (const method of ['PATCH', 'PUT', 'DELETE'] as const) {
      const res = await t.request({ method, url: `${url}/${theirs.id}`, token: seed.admin.token, payload: method === 'DELETE' ? undefined : { content: 'stolen' } });
      assert.equal(res.statusCode, 404, method);
      assert.deepEqual(res.json(), NOT_FOUND);
    }
    const mine = (await t.request({ method: 'GET', url, token: seed.admin.token })).json();
    assert.ok(mine.every((c: { account_id: number }) => c.account_id === seed.account.id));
    assert.equal((await t.request({ method: 'GET', url })).statusCode, 401);
    assert.equal((await t.request({ method: 'POST', url, payload: { short_code: 'a', content: 'b' } })).statusCode, 401);
  });
});
