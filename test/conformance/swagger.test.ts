import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, ENGINE, type TestApp } from '../helpers.js';
import { buildWorld, type World } from '../security/world.js';
import { checkSchema, loadSwagger, matchesRoute, operationsOf, SWAGGER_PATH, type Operation } from './swagger.js';
import { SCENARIOS, uniqueName, type Env } from './scenarios.js';
import { EXCEPTIONS, PATH_FIXES, SCHEMA_ADDITIONS, STATUS_EXCEPTIONS } from './exceptions.js';

/**
 * Conformance against Chatwoot's published contract: every swagger operation Parley serves is
 * called once with a representative request on a populated account, and its 2xx body is checked
 * structurally against the documented response schema. Where the swagger disagrees with
 * Chatwoot's jbuilder views, exceptions.ts records the view's truth with a reason.
 */
const doc = loadSwagger();
if (doc) {
  for (const [name, props] of Object.entries(SCHEMA_ADDITIONS)) {
    const schema = doc.components.schemas[name];
    schema.properties = { ...schema.properties, ...props };
  }
}
const skip = doc ? false : `swagger reference not found at ${SWAGGER_PATH}`;

describe(`swagger conformance (${ENGINE})`, { skip }, () => {
  let t: TestApp;
  let w: World;
  let env: Env;
  let implemented: Operation[] = [];
  let missing: Operation[] = [];
  const operations = (doc ? operationsOf(doc) : []).map((op) => (PATH_FIXES[op.operationId] ? { ...op, path: PATH_FIXES[op.operationId].path } : op));

  before(async () => {
    t = await startTestApp();
    w = await buildWorld(t);
    implemented = operations.filter((op) => t.app.routeTable.some((r) => matchesRoute(op, r)));
    missing = operations.filter((op) => !implemented.includes(op));
    const base = `/api/v1/accounts/${w.a.accountId}`;
    env = {
      t,
      w,
      base,
      ids: { ...w.a.ids },
      unique: uniqueName,
      async api(method, url, payload) {
        const token = url.startsWith('/platform/') ? w.platformToken : w.a.admin.token;
        const res = await t.request({ method: method as 'GET', url, token, payload });
        if (res.statusCode >= 300) throw new Error(`setup ${method} ${url} → ${res.statusCode} ${res.body}`);
        return res.body ? res.json() : {};
      },
    };
  });
  after(() => t?.close());

  it('reports API coverage', () => {
    assert.equal(operations.length, 129, 'the 4.9.1 swagger documents 129 operations');
    const lines = [
      `API coverage: implemented ${implemented.length} of ${operations.length} swagger operations; missing: ${missing.map((o) => o.operationId).join(', ')}`,
      '',
      '| Area | Implemented | Missing operations |',
      '|---|---|---|',
      ...coverageRows(operations, implemented),
    ];
    console.log(lines.join('\n'));
    assert.ok(implemented.length > 0);
  });

  it('every implemented operation has a conformance scenario', () => {
    const without = implemented.filter((op) => !SCENARIOS[op.operationId]).map((op) => op.operationId);
    assert.deepEqual(without, [], 'add a request to scenarios.ts for these operations');
  });

  it('implemented operations answer with a documented status and a body matching the documented schema', async () => {
    const failures: string[] = [];
    const usedExceptions = new Set<string>();
    for (const op of implemented) {
      const scenario = SCENARIOS[op.operationId];
      if (!scenario) continue;
      let req;
      try {
        req = await scenario(env);
      } catch (err) {
        failures.push(`${op.operationId}: scenario setup failed: ${(err as Error).message}`);
        continue;
      }
      const token = req.as === 'platform' ? w.platformToken : req.as === 'agent' ? w.a.agent.token : w.a.admin.token;
      const res = await t.request({ method: op.method as 'GET', url: req.url, token, payload: req.payload });
      const statusException = STATUS_EXCEPTIONS[op.operationId];
      const allowed = statusException ? statusException.status : op.successCodes;
      if (!allowed.includes(res.statusCode)) {
        failures.push(`${op.operationId}: ${op.method} ${req.url} → ${res.statusCode} (documented ${allowed.join('/')}) ${res.body.slice(0, 200)}`);
        continue;
      }
      const schema = statusException?.schema ?? (statusException ? undefined : op.responseSchema);
      if (!schema || res.statusCode === 204) continue;
      let body: unknown;
      try {
        body = JSON.parse(res.body);
      } catch {
        failures.push(`${op.operationId}: body is not JSON: ${res.body.slice(0, 100)}`);
        continue;
      }
      const result = checkSchema(doc!, body, schema, op.operationId, EXCEPTIONS);
      for (const k of result.used) usedExceptions.add(k);
      // One line per field, not per array element.
      for (const e of new Set(result.errors.map((x) => x.replace(/\[\d+\]/g, '[]')))) failures.push(`${op.operationId}: ${e}`);
    }
    const declared = Object.entries(EXCEPTIONS).flatMap(([key, entries]) =>
      (Array.isArray(entries) ? entries : [entries]).map((e) => `${key}${e.ops ? ` [${e.ops.join(',')}]` : ''}`),
    );
    const stale = declared.filter((k) => !usedExceptions.has(k));
    assert.deepEqual(failures, [], `${failures.length} conformance mismatches:\n${failures.join('\n')}`);
    assert.deepEqual(stale, [], 'exceptions that no response needed any more: remove them from exceptions.ts');
  });

  describe("Chatwoot's error bodies", () => {
    const samples = [
      'GET /api/v1/accounts/:a/contacts',
      'GET /api/v1/accounts/:a/conversations',
      'GET /api/v1/accounts/:a/inboxes',
      'GET /api/v1/accounts/:a/teams',
      'GET /api/v1/profile',
    ];
    it('401 {"error":"Invalid Access Token"} without a token', async () => {
      for (const sample of samples) {
        const [method, url] = sample.replace(':a', String(w.a.accountId)).split(' ');
        const res = await t.request({ method: method as 'GET', url });
        assert.equal(res.statusCode, 401, sample);
        assert.deepEqual(res.json(), { error: 'Invalid Access Token' }, sample);
      }
      const bad = await t.request({ method: 'GET', url: '/api/v1/profile', token: 'not-a-token' });
      assert.equal(bad.statusCode, 401);
      assert.deepEqual(bad.json(), { error: 'Invalid Access Token' });
    });

    it('404 {"error":"Resource could not be found"} for a missing id', async () => {
      const base = `/api/v1/accounts/${w.a.accountId}`;
      const missingIds = [
        `GET ${base}/contacts/999999`,
        `GET ${base}/conversations/999999`,
        `GET ${base}/inboxes/999999`,
        `GET ${base}/teams/999999`,
        `GET ${base}/custom_filters/999999`,
        `GET ${base}/custom_attribute_definitions/999999`,
        `GET ${base}/agent_bots/999999`,
        `PATCH ${base}/canned_responses/999999`,
        `DELETE ${base}/labels/999999`,
        `GET ${base}/conversations/999999/messages`,
      ];
      for (const sample of missingIds) {
        const [method, url] = sample.split(' ');
        const res = await t.request({ method: method as 'GET', url, token: w.a.admin.token, payload: method === 'PATCH' ? { content: 'x' } : undefined });
        assert.equal(res.statusCode, 404, sample);
        assert.deepEqual(res.json(), { error: 'Resource could not be found' }, sample);
      }
    });

    it('422 {"message":…,"attributes":[…]} for a failing validation', async () => {
      const base = `/api/v1/accounts/${w.a.accountId}`;
      const contact = await t.request({
        method: 'POST',
        url: `${base}/contacts`,
        token: w.a.admin.token,
        payload: { inbox_id: w.a.ids.inbox, name: 'Dup', email: `${w.marker}@example.com` },
      });
      assertRecordInvalid(contact, 'email');
      const label = await t.request({ method: 'POST', url: `${base}/labels`, token: w.a.admin.token, payload: { title: `label${w.marker}` } });
      assertRecordInvalid(label, 'title');
      const canned = await t.request({ method: 'POST', url: `${base}/canned_responses`, token: w.a.admin.token, payload: { short_code: `sc${w.marker}`, content: 'x' } });
      assertRecordInvalid(canned, 'short_code');
    });
  });
});

function assertRecordInvalid(res: { statusCode: number; body: string }, attribute: string) {
  assert.equal(res.statusCode, 422, res.body);
  const body = JSON.parse(res.body) as { message?: unknown; attributes?: unknown };
  assert.equal(typeof body.message, 'string', res.body);
  assert.ok(Array.isArray(body.attributes), res.body);
  assert.ok((body.attributes as unknown[]).includes(attribute), `${attribute} not in ${res.body}`);
}

/** One row per API area (first meaningful path segment): implemented count and missing operationIds. */
function coverageRows(all: Operation[], implemented: Operation[]): string[] {
  const area = (op: Operation) => {
    const m = /^\/(?:(platform|public)\/api\/v1\/)?(?:api\/v[12]\/)?(?:accounts\/\{[^}]+\}\/)?([^/{]+)/.exec(op.path);
    const prefix = op.path.startsWith('/platform') ? 'platform ' : op.path.startsWith('/public') ? 'public ' : op.path.startsWith('/api/v2') ? 'v2 ' : '';
    return `${prefix}${m?.[2] ?? op.path}`;
  };
  const groups = new Map<string, Operation[]>();
  for (const op of all) groups.set(area(op), [...(groups.get(area(op)) ?? []), op]);
  return [...groups.entries()].map(([name, ops]) => {
    const done = ops.filter((o) => implemented.includes(o)).length;
    const gaps = ops.filter((o) => !implemented.includes(o)).map((o) => o.operationId);
    return `| ${name} | ${done}/${ops.length} | ${gaps.join(', ') || '—'} |`;
  });
}
