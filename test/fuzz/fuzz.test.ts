import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { sql } from 'kysely';
import { startTestApp, type TestApp } from '../helpers.js';
import { buildWorld, fillPath, type World } from '../security/world.js';
import type { RouteEntry } from '../../src/app.js';
import { accessTokenOf } from '../../src/auth/tokens.js';

/**
 * Schema-driven fuzzing of every route: malformed, oversized, wrong-typed and hostile inputs
 * must never produce a 5xx, and a rejected request must never leave a row behind.
 * CI runs a fixed seed and a few cases per route; `npm run fuzz` runs many more.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 6);
const SEED = Number(process.env.FUZZ_SEED ?? 20261122);
/** `FUZZ_ROUTES="POST /api/v1/accounts/:account_id/conversations/:conversation_id/messages,…"`: only routes whose "METHOD url" contains one of these. */
const ONLY = (process.env.FUZZ_ROUTES ?? '').split(',').filter((part) => part !== '');

const HOSTILE = [
  "' OR 1=1 --",
  '"; DROP TABLE contacts; --',
  "1); DELETE FROM messages; --",
  'name; SELECT pg_sleep(1)',
  "json_extract(custom_attributes, '$')",
  '../../../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '%00',
  '\u0000',
  '<script>alert(1)</script>',
  '${7*7}',
  '\uD800',
  '1e309',
  '-1',
  '0',
  '99999999999999999999999',
  'NaN',
  'null',
  'true',
  '[]',
  '{}',
  '💥'.repeat(64),
  'a'.repeat(70_000),
];

const hostileString = fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }));
const scalar = fc.oneof(hostileString, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.bigInt().map(String));
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom(...HOSTILE.slice(0, 8))), tie('value'), { maxKeys: 4 }),
})).value;

function deepNesting(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

/** The property names a route's body/query schema declares (so wrong types actually hit them). */
function schemaKeys(schema: unknown): string[] {
  const props = (schema as { properties?: Record<string, unknown> } | undefined)?.properties;
  return props ? Object.keys(props) : [];
}

type Payload = { kind: 'json'; value: unknown } | { kind: 'raw'; body: string | Buffer; contentType: string };

function payloadFor(route: RouteEntry) {
  const keys = [...schemaKeys(route.schema?.body), 'name', 'email', 'content', 'payload', 'custom_attributes', 'filter_operator'];
  const shaped = fc.dictionary(fc.constantFrom(...keys), jsonValue, { maxKeys: 6 }).map((value): Payload => ({ kind: 'json', value }));
  const raw = fc.constantFrom<Payload>(
    { kind: 'raw', body: deepNesting(5_000), contentType: 'application/json' },
    { kind: 'raw', body: '[' .repeat(50_000) + ']'.repeat(50_000), contentType: 'application/json' },
    { kind: 'raw', body: Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]), contentType: 'application/json' },
    { kind: 'raw', body: '{"name": ', contentType: 'application/json' },
    { kind: 'raw', body: JSON.stringify({ name: 'x'.repeat(2_000_000) }), contentType: 'application/json' },
    { kind: 'raw', body: 'name=x&email=y', contentType: 'application/x-www-form-urlencoded' },
    { kind: 'raw', body: '--x\r\nContent-Disposition: form-data; name="attachments[]"; filename="../../../etc/passwd"\r\n\r\nroot\r\n--x--\r\n', contentType: 'multipart/form-data; boundary=x' },
  );
  return fc.oneof(shaped, jsonValue.map((value): Payload => ({ kind: 'json', value })), raw);
}

function queryFor(route: RouteEntry) {
  const keys = [...schemaKeys(route.schema?.querystring), 'q', 'sort', 'page', 'status', 'labels[]', 'inbox_id', 'before', 'after'];
  return fc.dictionary(fc.constantFrom(...keys), hostileString, { maxKeys: 4 });
}

function pathFor(route: RouteEntry, w: World) {
  const params = route.url.match(/:[a-z_]+/g) ?? [];
  const filled = fillPath(route.url, w.a.accountId, w.a.ids);
  if (params.length === 0) return fc.constant(filled);
  // Either A's real ids (so validation code past the lookup is reached) or hostile values.
  return fc.oneof(
    fc.constant(filled),
    fc.array(fc.oneof(hostileString, fc.integer().map(String)), { minLength: params.length, maxLength: params.length }).map((vals) => {
      let i = 0;
      return route.url.replace(/:[a-z_]+/g, (p) => (p === ':account_id' ? String(w.a.accountId) : encodeSegment(vals[i++] || 'x')));
    }),
  );
}

/**
 * encodeURIComponent, except that a lone surrogate (which it refuses with a URIError) goes out as
 * its WTF-8 bytes: invalid UTF-8 in the path, one of the inputs the server must answer with a 4xx.
 */
function encodeSegment(value: string): string {
  let out = '';
  for (const ch of value) {
    const unit = ch.charCodeAt(0);
    if (ch.length === 1 && unit >= 0xd800 && unit <= 0xdfff) {
      for (const byte of [0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)]) out += `%${byte.toString(16).toUpperCase()}`;
    } else out += encodeURIComponent(ch);
  }
  return out;
}

async function totalRows(t: TestApp): Promise<number> {
  const tables = ['accounts', 'users', 'account_users', 'access_tokens', 'inboxes', 'contacts', 'contact_inboxes', 'conversations', 'messages', 'attachments', 'labels', 'taggings', 'teams', 'team_members', 'notes', 'canned_responses', 'custom_attribute_definitions', 'custom_filters', 'agent_bots', 'inbox_members', 'platform_apps', 'platform_app_permissibles'];
  const expr = tables.map((tb) => `(SELECT COUNT(*) FROM ${tb})`).join(' + ');
  const res = await sql<{ n: number | string }>`SELECT ${sql.raw(expr)} AS n`.execute(t.ctx.db);
  return Number(res.rows[0].n);
}

describe('fuzzer', () => {
  let t: TestApp;
  let w: World;
  before(async () => {
    t = await startTestApp();
    w = await buildWorld(t);
  });
  after(() => t.close());

  it('no route answers 5xx or writes a row when it rejects a request', async () => {
    // Deletions last, so the records other routes are fuzzed against still exist.
    const routes = t.app.routeTable
      .filter((r) => r.url !== '/health' && !r.url.startsWith('/api-docs'))
      .filter((r) => ONLY.length === 0 || ONLY.some((part) => `${r.method} ${r.url}`.includes(part)))
      .sort((x, y) => Number(x.method === 'DELETE') - Number(y.method === 'DELETE'));
    assert.ok(ONLY.length > 0 ? routes.length > 0 : routes.length > 20, 'routes to fuzz');
    const statuses = new Map<number, number>();
    for (const route of routes) {
      // reset_access_token may have rotated the administrator's token: read the current one.
      const token = route.url.startsWith('/platform/') ? w.platformToken : (await accessTokenOf(t.ctx.db, 'User', w.a.admin.user.id))!;
      await fc.assert(
        fc.asyncProperty(pathFor(route, w), queryFor(route), payloadFor(route), async (path, query, payload) => {
          const before = await totalRows(t);
          const hasBody = !['GET', 'DELETE'].includes(route.method) || payload.kind === 'raw';
          const res = await t.app.inject({
            method: route.method as 'GET',
            url: path,
            query,
            headers: { api_access_token: token, ...(hasBody && payload.kind === 'raw' ? { 'content-type': payload.contentType } : {}) },
            ...(hasBody ? { payload: payload.kind === 'raw' ? payload.body : (payload.value as object) } : {}),
          });
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
          const label = `${route.method} ${route.url} → ${res.statusCode}: ${res.body.slice(0, 200)}`;
          assert.ok(res.statusCode < 500, label);
          if (res.statusCode >= 400) assert.equal(await totalRows(t), before, `rows written by a rejected request: ${label}`);
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
    }
    // The summary shows the fuzzer reached past validation, not only 400s.
    console.log(`fuzzed ${routes.length} routes × ${RUNS}: ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
  });
});
