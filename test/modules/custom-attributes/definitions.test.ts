import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../helpers.js';

const UNAUTHORIZED = { error: 'You are not authorized to do this action' };
const NOT_FOUND = { error: 'Resource could not be found' };
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const KEYS = [
  'id', 'attribute_display_name', 'attribute_display_type', 'attribute_description', 'attribute_key', 'regex_pattern',
  'regex_cue', 'attribute_values', 'attribute_model', 'default_value', 'created_at', 'updated_at',
];

describe('custom attribute definitions', () => {
  let t: TestApp;
  let seed: Awaited<ReturnType<TestApp['seedAccount']>>;
  let url: string;
  before(async () => {
    t = await startTestApp();
    seed = await t.seedAccount();
    url = `/api/v1/accounts/${seed.account.id}/custom_attribute_definitions`;
  });
  after(() => t.close());

  const create = (payload: unknown, token = seed.admin.token, u = url) => t.request({ method: 'POST', url: u, token, payload: payload as object });

  it('creates a definition and answers Chatwoot\'s shape with enum names', async () => {
    const res = await create({
      custom_attribute_definition: {
        attribute_display_name: 'Developer ID',
        attribute_key: 'developer_id',
        attribute_model: 'contact_attribute',
        attribute_display_type: 'text',
        attribute_description: 'Their id',
        regex_pattern: '/^[a-z]+$/i',
        regex_cue: 'Letters only',
        default_value: '',
      },
    });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.deepEqual(Object.keys(body), KEYS);
    assert.match(body.created_at, ISO);
    assert.match(body.updated_at, ISO);
    assert.deepEqual({ ...body, id: 0, created_at: '', updated_at: '' }, {
      id: 0,
      attribute_display_name: 'Developer ID',
      attribute_display_type: 'text',
      attribute_description: 'Their id',
      attribute_key: 'developer_id',
      regex_pattern: '/^[a-z]+$/i',
      regex_cue: 'Letters only',
      attribute_values: [],
      attribute_model: 'contact_attribute',
      default_value: null,
      created_at: '',
      updated_at: '',
    });
  });

  it('accepts the enums as integers, list values, and defaults to a text conversation attribute', async () => {
    let res = await create({ attribute_display_name: 'Plan', attribute_key: 'plan', attribute_model: 1, attribute_display_type: 6, attribute_values: ['free', 'pro'] });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().attribute_model, 'contact_attribute');
    assert.equal(res.json().attribute_display_type, 'list');
    assert.deepEqual(res.json().attribute_values, ['free', 'pro']);
    res = await create({ attribute_display_name: 'Order', attribute_key: 'order_ref' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().attribute_model, 'conversation_attribute');
    assert.equal(res.json().attribute_display_type, 'text');
    for (const [i, type] of ['text', 'number', 'currency', 'percent', 'link', 'date', 'list', 'checkbox'].entries()) {
      res = await create({ attribute_display_name: `T${i}`, attribute_key: `type_${type}`, attribute_display_type: type, attribute_model: 'conversation_attribute' });
      assert.equal(res.statusCode, 200, type);
      assert.equal(res.json().attribute_display_type, type);
    }
  });

  it('allows the same key on the other model but not twice on one model', async () => {
    let res = await create({ attribute_display_name: 'Developer ID', attribute_key: 'developer_id', attribute_model: 'conversation_attribute' });
    assert.equal(res.statusCode, 200);
    res = await create({ attribute_display_name: 'Again', attribute_key: 'developer_id', attribute_model: 'contact_attribute' });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { message: 'Attribute key has already been taken', attributes: ['attribute_key'] });
  });

  it('rejects keys of standard attributes for their model only', async () => {
    let res = await create({ attribute_display_name: 'Status', attribute_key: 'status', attribute_model: 'conversation_attribute', attribute_display_type: 'text' });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), {
      message: 'Attribute key The provided key is not allowed as it might conflict with default attributes.',
      attributes: ['attribute_key'],
    });
    res = await create({ attribute_display_name: 'Email', attribute_key: 'email', attribute_model: 'contact_attribute' });
    assert.equal(res.statusCode, 422);
    assert.match(res.json().message, /might conflict with default attributes/);
    res = await create({ attribute_display_name: 'Email', attribute_key: 'email', attribute_model: 'conversation_attribute' });
    assert.equal(res.statusCode, 200, 'email is only standard on contacts');
  });

  it('rejects blank names and keys, unknown enums, a bad regex and a missing body', async () => {
    let res = await create({ attribute_description: 'nothing else' });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), {
      message: "Attribute display name can't be blank, Attribute key can't be blank",
      attributes: ['attribute_display_name', 'attribute_key'],
    });
    res = await create({ attribute_display_name: 'X', attribute_key: 'x_type', attribute_display_type: 'color' });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { message: 'Attribute display type is not included in the list', attributes: ['attribute_display_type'] });
    res = await create({ attribute_display_name: 'X', attribute_key: 'x_model', attribute_model: 7 });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { message: 'Attribute model is not included in the list', attributes: ['attribute_model'] });
    res = await create({ attribute_display_name: 'X', attribute_key: 'x_regex', regex_pattern: '/([a-z/' });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { message: 'Regex pattern is invalid', attributes: ['regex_pattern'] });
    res = await create({});
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { error: 'param is missing or the value is empty: custom_attribute_definition' });
    res = await create({ attribute_display_name: 'X', attribute_key: 'x_values', attribute_values: { a: 1 } });
    assert.equal(res.statusCode, 400);
  });

  it('lists by attribute_model (0, 1, names) and everything without it', async () => {
    const { account, admin, agent } = await t.seedAccount();
    const u = `/api/v1/accounts/${account.id}/custom_attribute_definitions`;
    const conv = (await create({ attribute_display_name: 'A', attribute_key: 'conv_key', attribute_model: 0 }, admin.token, u)).json();
    const contact = (await create({ attribute_display_name: 'B', attribute_key: 'contact_key', attribute_model: 1 }, admin.token, u)).json();
    const list = async (q: string) => {
      const res = await t.request({ method: 'GET', url: `${u}${q}`, token: agent.token });
      assert.equal(res.statusCode, 200);
      return res.json();
    };
    assert.deepEqual(await list(''), [conv, contact]);
    assert.deepEqual(await list('?attribute_model=0'), [conv]);
    assert.deepEqual(await list('?attribute_model=1'), [contact]);
    assert.deepEqual(await list('?attribute_model=contact_attribute'), [contact]);
    assert.deepEqual(await list('?attribute_model=conversation_attribute'), [conv]);
    assert.deepEqual(await list('?attribute_model='), [conv, contact]);
    assert.deepEqual(await list('?attribute_model=bogus'), []);
    const one = await t.request({ method: 'GET', url: `${u}/${contact.id}`, token: agent.token });
    assert.equal(one.statusCode, 200);
    assert.deepEqual(one.json(), contact);
  });

  it('updates a definition (the standard-key check applies on create only) and deletes it with 204', async () => {
    const def = (await create({ attribute_display_name: 'Old', attribute_key: 'old_key', attribute_display_type: 'list', attribute_values: ['a'] })).json();
    let res = await t.request({
      method: 'PATCH', url: `${url}/${def.id}`, token: seed.admin.token,
      payload: { custom_attribute_definition: { attribute_display_name: 'Developer ID', attribute_key: 'developer_key', attribute_values: ['a', 'b'] } },
    });
    assert.equal(res.statusCode, 200);
    const updated = res.json();
    assert.equal(updated.attribute_display_name, 'Developer ID');
    assert.equal(updated.attribute_key, 'developer_key');
    assert.equal(updated.attribute_model, 'conversation_attribute');
    assert.deepEqual(updated.attribute_values, ['a', 'b']);
    assert.equal(updated.created_at, def.created_at);

    res = await t.request({ method: 'PUT', url: `${url}/${def.id}`, token: seed.admin.token, payload: { attribute_key: 'order_ref' } });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { message: 'Attribute key has already been taken', attributes: ['attribute_key'] });
    res = await t.request({ method: 'PATCH', url: `${url}/${def.id}`, token: seed.admin.token, payload: { attribute_display_name: '' } });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { message: "Attribute display name can't be blank", attributes: ['attribute_display_name'] });

    res = await t.request({ method: 'DELETE', url: `${url}/${def.id}`, token: seed.admin.token });
    assert.equal(res.statusCode, 204);
    assert.equal(res.body, '');
    assert.equal((await t.request({ method: 'GET', url: `${url}/${def.id}`, token: seed.admin.token })).statusCode, 404);
  });

  it('lets agents read but not create, update or delete (401)', async () => {
    const def = (await create({ attribute_display_name: 'Agent', attribute_key: 'agent_visible' })).json();
    assert.equal((await t.request({ method: 'GET', url, token: seed.agent.token })).statusCode, 200);
    assert.equal((await t.request({ method: 'GET', url: `${url}/${def.id}`, token: seed.agent.token })).statusCode, 200);
    const attempts = [
      { method: 'POST', url, payload: { attribute_display_name: 'N', attribute_key: 'agent_made' } },
      { method: 'PATCH', url: `${url}/${def.id}`, payload: { attribute_display_name: 'N' } },
      { method: 'DELETE', url: `${url}/${def.id}` },
    ] as const;
    for (const a of attempts) {
      const res = await t.request({ ...a, token: seed.agent.token });
      assert.equal(res.statusCode, 401, a.method);
      assert.deepEqual(res.json(), UNAUTHORIZED);
    }
    const still = await t.request({ method: 'GET', url: `${url}/${def.id}`, token: seed.agent.token });
    assert.equal(still.json().attribute_display_name, 'Agent');
  });

  it('answers 404 for another account\'s definition and 401 without a token', async () => {
    const other = await t.seedAccount();
    const theirs = (await create({ attribute_display_name: 'T', attribute_key: 'theirs' }, other.admin.token, `/api/v1/accounts/${other.account.id}/custom_attribute_definitions`)).json();
    for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
      const res = await t.request({ method, url: `${url}/${theirs.id}`, token: seed.admin.token, payload: method === 'PATCH' ? { attribute_display_name: 'x' } : undefined });
      assert.equal(res.statusCode, 404, method);
      assert.deepEqual(res.json(), NOT_FOUND);
    }
    const mine = (await t.request({ method: 'GET', url, token: seed.admin.token })).json();
    assert.ok(!mine.some((d: { attribute_key: string }) => d.attribute_key === 'theirs'));
    assert.equal((await t.request({ method: 'GET', url })).statusCode, 401);
  });
});
