import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkSchema, matchesRoute, type SwaggerDoc } from './swagger.js';

/** The structural checker must catch what it claims to catch, or the conformance run proves nothing. */
const doc: SwaggerDoc = {
  paths: {},
  components: {
    schemas: {
      thing: {
        type: 'object',
        properties: {
          id: { type: 'integer' },
          name: { type: 'string' },
          tags: { type: 'array', items: { type: 'string' } },
          attrs: { type: 'object' },
          status: { type: 'string', enum: ['open', 'resolved'] },
          owner: { $ref: '#/components/schemas/owner' },
        },
      },
      owner: { type: 'object', properties: { id: { type: 'number' } } },
      wrapped: { allOf: [{ $ref: '#/components/schemas/thing' }, { type: 'object', properties: { extra: { type: 'boolean' } } }] },
    },
  },
};
const ref = { $ref: '#/components/schemas/thing' };
const good = { id: 1, name: 'a', tags: ['x'], attrs: {}, status: 'open', owner: { id: 2 }, unexpected: true };

describe('structural checker', () => {
  it('accepts a conforming body with extra fields and null scalars/associations', () => {
    assert.deepEqual(checkSchema(doc, good, ref, 'op', {}).errors, []);
    assert.deepEqual(checkSchema(doc, { ...good, name: null, owner: null }, ref, 'op', {}).errors, []);
  });

  it('reports missing fields, wrong types, null objects, enum violations and bad array items', () => {
    const { id: _id, ...withoutId } = good;
    assert.match(checkSchema(doc, withoutId, ref, 'op', {}).errors.join(), /\$\.id: missing \(thing\.id\)/);
    assert.match(checkSchema(doc, { ...good, id: 1.5 }, ref, 'op', {}).errors.join(), /expected integer/);
    assert.match(checkSchema(doc, { ...good, attrs: null }, ref, 'op', {}).errors.join(), /\$\.attrs: null, expected object/);
    assert.match(checkSchema(doc, { ...good, status: 'snoozed' }, ref, 'op', {}).errors.join(), /not in enum/);
    assert.match(checkSchema(doc, { ...good, tags: [1] }, ref, 'op', {}).errors.join(), /\$\.tags\[0\]: expected string/);
    assert.match(checkSchema(doc, { ...good, owner: { id: '2' } }, ref, 'op', {}).errors.join(), /\$\.owner\.id: expected number/);
  });

  it('follows allOf, anyOf and operation-scoped exceptions', () => {
    const wrapped = { $ref: '#/components/schemas/wrapped' };
    assert.match(checkSchema(doc, good, wrapped, 'op', {}).errors.join(), /extra: missing \(wrapped\.extra\)/);
    assert.deepEqual(checkSchema(doc, { ...good, extra: false }, wrapped, 'op', {}).errors, []);
    const anyOf = { anyOf: [{ type: 'string' }, { type: 'integer' }] };
    assert.deepEqual(checkSchema(doc, 3, anyOf, 'op', {}).errors, []);
    assert.equal(checkSchema(doc, true, anyOf, 'op', {}).errors.length, 1);
    const exceptions = { 'thing.status': { reason: 'test', ops: ['other'] }, 'thing.id': { reason: 'test', schema: { type: 'string' } } };
    const { status: _s, ...withoutStatus } = good;
    const result = checkSchema(doc, { ...withoutStatus, id: 'x' }, ref, 'op', exceptions);
    assert.deepEqual(result.errors, ['$.status: missing (thing.status)']);
    assert.deepEqual([...result.used], ['thing.id']);
  });

  it('matches swagger paths to Fastify routes by literal segments and parameter positions', () => {
    const op = { method: 'GET', path: '/api/v1/accounts/{account_id}/inboxes/{id}/' };
    assert.ok(matchesRoute(op, { method: 'GET', url: '/api/v1/accounts/:account_id/inboxes/:inbox_id' }));
    assert.ok(!matchesRoute(op, { method: 'PATCH', url: '/api/v1/accounts/:account_id/inboxes/:id' }));
    assert.ok(!matchesRoute({ method: 'GET', path: '/api/v1/accounts/{account_id}/contacts/search' }, { method: 'GET', url: '/api/v1/accounts/:account_id/contacts/:id' }));
  });
});
