import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CompiledQuery, sql } from 'kysely';
import { ENGINE, startTestApp, type TestApp, type TestUser } from '../../helpers.js';
import type { Row } from '../../../src/db/types.js';
import { buildFilterExpression } from '../../../src/modules/filters/engine.js';
import { CONTACT_FILTER_CATALOGUE } from '../../../src/modules/contacts/filter-catalogue.js';
import { createDefinition } from '../contacts/fixtures.js';

/**
 * equal_to on a custom attribute is narrowed first by a cheap test (SQLite: the raw JSON text
 * contains the value; PostgreSQL: the lowered-pairs GIN index of migration 0700), beside the exact
 * condition. Whatever the keys and values hold, the contacts found must be those the exact
 * condition alone finds (on PostgreSQL both when the page is read through the index and when it is
 * read by a walk in id order, contacts/finder.ts).
 */
describe(`custom attribute equal_to: the prefilter leaves out no match (${ENGINE})`, () => {
  let t: TestApp;
  let account: Row<'accounts'>;
  let agent: TestUser;

  const CONTACTS: Record<string, Record<string, unknown>> = {
    Gold: { plan: 'Gold' },
    GoldSpace: { plan: 'GOLD ' },
    Elan: { plan: 'Élan' },
    Weird: { plan: 'x:Y"z\\n', '"plan"': 'gold' },
    Tiers: { Tier: 'one', tier: 'two' },
    Number: { plan: 42 },
    Boolean: { plan: true },
    Null: { plan: null },
    Nested: { plan: { nested: 'Gold' } },
    Empty: {},
    LowerGold: { plan: 'gold', other: 'Gold' },
    Colon: { plan: 'a', 'plan:a': 'b' },
  };

  before(async () => {
    t = await startTestApp();
    ({ account, agent } = await t.seedAccount());
    for (const key of ['plan', 'Tier', 'tier', 'other', 'plan:a']) await createDefinition(t, account.id, key, 0);
    for (const [name, custom_attributes] of Object.entries(CONTACTS)) {
      const res = await t.request({
        method: 'POST',
        url: `/api/v1/accounts/${account.id}/contacts`,
        token: agent.token,
        payload: { name, email: `${name.toLowerCase()}@example.com` },
      });
      assert.equal(res.statusCode, 200, res.body);
      // Stored as given: the API would refuse a number or an object under a text attribute, data written before the definition was not.
      await t.ctx.db
        .updateTable('contacts')
        .set({ custom_attributes: JSON.stringify(custom_attributes) })
        .where('id', '=', res.json().payload.contact.id)
        .execute();
    }
  });
  after(() => t.close());

  async function found(key: string, values: unknown[]): Promise<string[]> {
    const res = await t.request({
      method: 'POST',
      url: `/api/v1/accounts/${account.id}/contacts/filter`,
      token: agent.token,
      payload: { payload: [{ attribute_key: key, filter_operator: 'equal_to', values, query_operator: null }] },
    });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json<{ meta: { count: number }; payload: { name: string }[] }>();
    assert.equal(body.meta.count, body.payload.length);
    return body.payload.map((c) => c.name).sort();
  }

  const CASES: [key: string, values: unknown[], expected: string[]][] = [
    ['plan', ['gold'], ['Gold', 'LowerGold']],
    ['plan', ['GOLD'], ['Gold', 'LowerGold']],
    // A custom attribute compares with the first value only (Chatwoot's custom attribute query).
    ['plan', ['Gold', 'silver'], ['Gold', 'LowerGold']],
    ['plan', ['silver', 'Gold'], []],
    ['plan', ['gold '], ['GoldSpace']],
    // SQLite's LOWER folds ASCII only; PostgreSQL's follows the database's collation (C.UTF-8 here).
    ['plan', ['élan'], ENGINE === 'postgres' ? ['Elan'] : []],
    ['plan', ['ÉLAN'], ENGINE === 'postgres' ? ['Elan'] : []],
    ['plan', ['42'], ['Number']],
    ['plan', [42], ['Number']],
    ['plan', ['true'], ['Boolean']],
    ['plan', ['null'], []],
    ['plan', ['a'], ['Colon']],
    ['plan:a', ['B'], ['Colon']],
    ['plan', ['X:y"Z\\N'], ['Weird']],
    ['Tier', ['ONE'], ['Tiers']],
    ['Tier', ['two'], []],
    ['tier', ['Two'], ['Tiers']],
    ['other', ['gold'], ['LowerGold']],
  ];

  it('finds exactly what the exact condition finds', async () => {
    for (const [key, values, expected] of CASES) assert.deepEqual(await found(key, values), expected, `${key} = ${JSON.stringify(values)}`);
  });

  it('PostgreSQL: the page read by the walk in id order (many matches) finds the same', { skip: ENGINE !== 'postgres' && 'PostgreSQL chooses its page statement' }, async () => {
    // Analysed, the table's size is known: every page here counts as dense and is read without the index condition.
    await sql`ANALYZE contacts`.execute(t.ctx.db);
    for (const [key, values, expected] of CASES) assert.deepEqual(await found(key, values), expected, `${key} = ${JSON.stringify(values)}`);
  });

  it('PostgreSQL: the count can be answered from the index', { skip: ENGINE !== 'postgres' && 'the index is PostgreSQL only' }, async () => {
    const where = await buildFilterExpression({
      db: t.ctx.db,
      engine: t.ctx.engine,
      accountId: account.id,
      table: 'contacts',
      catalogue: CONTACT_FILTER_CATALOGUE,
      payload: [{ attribute_key: 'plan', filter_operator: 'equal_to', values: ['gold'], query_operator: null }],
    });
    const query = t.ctx.db
      .selectFrom('contacts')
      .select((eb) => eb.fn.countAll().as('n'))
      .where(where)
      .compile();
    const plan = await t.ctx.db.transaction().execute(async (trx) => {
      await sql`SET LOCAL enable_seqscan = off`.execute(trx);
      return (await trx.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`EXPLAIN ${query.sql}`, [...query.parameters]))).rows;
    });
    const text = plan.map((r) => r['QUERY PLAN']).join('\n');
    assert.match(text, /contacts_custom_attributes_lower/, text);
  });
});
