import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp, type TestUser } from '../../helpers.js';
import type { Row } from '../../../src/db/types.js';
import { buildFilterExpression } from '../../../src/modules/filters/engine.js';
import { CONVERSATION_FILTER_CATALOGUE, expandStatusAll } from '../../../src/modules/conversations/filter-catalogue.js';
import { createApiInbox, createConversation, createDefinition } from '../contacts/fixtures.js';

type Condition = { attribute_key: string; filter_operator: string; values?: unknown; query_operator?: string | null };

const DAY = 86_400_000;

describe('filter engine', () => {
  let t: TestApp;
  let account: Row<'accounts'>;
  let agent: TestUser;
  const ids: Record<string, number> = {};
  const url = (path: string) => `/api/v1/accounts/${account.id}${path}`;

  const filter = (payload: unknown, query = '') => t.request({ method: 'POST', url: url(`/contacts/filter${query}`), token: agent.token, payload: { payload } });
  const one = (attribute_key: string, filter_operator: string, values?: unknown): Condition[] => [
    { attribute_key, filter_operator, values, query_operator: null },
  ];
  async function names(payload: unknown): Promise<string[]> {
    const res = await filter(payload);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.meta.count, body.payload.length);
    return body.payload.map((c: { name: string }) => c.name).sort();
  }

  before(async () => {
    t = await startTestApp();
    ({ account, agent } = await t.seedAccount());
    await createDefinition(t, account.id, 'plan', 0);
    await createDefinition(t, account.id, 'seats', 1);
    await createDefinition(t, account.id, 'renewal', 5);
    await createDefinition(t, account.id, 'active', 7);
    await createDefinition(t, account.id, 'conv_only', 0, 0);
    const contacts = [
      {
        name: 'John Smith',
        email: 'john@acme.com',
        phone_number: '+14155550101',
        identifier: 'ID-1',
        additional_attributes: { city: 'Berlin', country_code: 'DE', company: 'Acme' },
        custom_attributes: { plan: 'Gold', seats: 10, renewal: '2024-06-15', active: true },
        created_at: Date.UTC(2024, 0, 10, 12),
        last_activity_at: Date.UTC(2024, 2, 1, 8),
        labels: ['vip'],
      },
      {
        name: 'Jane Roe',
        email: 'jane@beta.io',
        phone_number: '+4930123456',
        blocked: true,
        additional_attributes: { city: 'Paris', country_code: 'FR', company: 'Beta' },
        custom_attributes: { plan: 'silver', seats: 3, renewal: '2023-12-01', active: false },
        created_at: Date.UTC(2024, 1, 20, 23, 59),
        last_activity_at: null,
        labels: [],
      },
      {
        name: 'Max Mustermann',
        email: 'max@acme.com',
        identifier: 'ID-3',
        created_at: Date.now() - 2 * DAY,
        last_activity_at: Date.now(),
        labels: ['support'],
      },
    ];
    for (const { created_at, last_activity_at, labels, ...fields } of contacts) {
      const res = await t.request({ method: 'POST', url: url('/contacts'), token: agent.token, payload: fields });
      assert.equal(res.statusCode, 200, res.body);
      const id = res.json().payload.contact.id as number;
      ids[fields.name] = id;
      await t.ctx.db.updateTable('contacts').set({ created_at, last_activity_at }).where('id', '=', id).execute();
      if (labels.length) await t.request({ method: 'POST', url: url(`/contacts/${id}/labels`), token: agent.token, payload: { labels } });
    }
  });
  after(() => t.close());

  describe('standard contact attributes', () => {
    const cases: [string, Condition[], string[]][] = [
      ['equal_to (case-insensitive)', one('name', 'equal_to', ['john SMITH']), ['John Smith']],
      ['not_equal_to', one('name', 'not_equal_to', ['John Smith']), ['Jane Roe', 'Max Mustermann']],
      ['contains', one('email', 'contains', ['ACME']), ['John Smith', 'Max Mustermann']],
      ['does_not_contain', one('email', 'does_not_contain', ['acme']), ['Jane Roe']],
      ['is_present (labels)', one('labels', 'is_present', []), ['John Smith', 'Max Mustermann']],
      ['is_not_present (labels)', one('labels', 'is_not_present'), ['Jane Roe']],
      ['labels equal_to', one('labels', 'equal_to', ['vip']), ['John Smith']],
      ['labels not_equal_to', one('labels', 'not_equal_to', ['vip']), ['Jane Roe', 'Max Mustermann']],
      ['is_greater_than (date, by day)', one('created_at', 'is_greater_than', ['2024-01-10']), ['Jane Roe', 'Max Mustermann']],
      ['is_less_than (date, by day)', one('created_at', 'is_less_than', ['2024-02-21']), ['Jane Roe', 'John Smith']],
      ['is_less_than excludes the day itself', one('created_at', 'is_less_than', ['2024-02-20']), ['John Smith']],
      ['days_before', one('created_at', 'days_before', ['30']), ['Jane Roe', 'John Smith']],
      ['days_before on last_activity_at (NULL never matches)', one('last_activity_at', 'days_before', [1]), ['John Smith']],
      ['boolean equal_to', one('blocked', 'equal_to', [true]), ['Jane Roe']],
      ['boolean not_equal_to', one('blocked', 'not_equal_to', ['true']), ['John Smith', 'Max Mustermann']],
      ['phone number without +', one('phone_number', 'equal_to', ['14155550101']), ['John Smith']],
      ['phone number contains', one('phone_number', 'contains', ['4930']), ['Jane Roe']],
      ['additional attribute (city)', one('city', 'equal_to', ['BERLIN']), ['John Smith']],
      ['additional attribute contains (company)', one('company', 'contains', ['et']), ['Jane Roe']],
      ['country_code', one('country_code', 'equal_to', ['fr']), ['Jane Roe']],
      ['identifier', one('identifier', 'equal_to', ['id-3']), ['Max Mustermann']],
      ['empty payload matches every listed contact', [], ['Jane Roe', 'John Smith', 'Max Mustermann']],
    ];
    for (const [label, payload, expected] of cases) {
      it(label, async () => assert.deepEqual(await names(payload), expected));
    }
  });

  describe('custom attributes', () => {
    const cases: [string, Condition[], string[]][] = [
      ['text equal_to (case-insensitive)', one('plan', 'equal_to', ['GOLD']), ['John Smith']],
      ['text not_equal_to includes unset (Chatwoot)', one('plan', 'not_equal_to', ['gold']), ['Jane Roe', 'Max Mustermann']],
      ['text contains', one('plan', 'contains', ['ILV']), ['Jane Roe']],
      ['text does_not_contain', one('plan', 'does_not_contain', ['gol']), ['Jane Roe']],
      ['is_present', one('plan', 'is_present'), ['Jane Roe', 'John Smith']],
      ['is_not_present', one('plan', 'is_not_present'), ['Max Mustermann']],
      ['number equal_to', one('seats', 'equal_to', ['3']), ['Jane Roe']],
      ['number is_greater_than', one('seats', 'is_greater_than', [5]), ['John Smith']],
      ['number is_less_than', one('seats', 'is_less_than', ['5']), ['Jane Roe']],
      ['date is_greater_than', one('renewal', 'is_greater_than', ['2024-01-01']), ['John Smith']],
      ['date is_less_than', one('renewal', 'is_less_than', ['2024-01-01']), ['Jane Roe']],
      ['date days_before', one('renewal', 'days_before', ['1']), ['Jane Roe', 'John Smith']],
      ['checkbox equal_to true', one('active', 'equal_to', [true]), ['John Smith']],
      ['checkbox equal_to false', one('active', 'equal_to', ['false']), ['Jane Roe']],
    ];
    for (const [label, payload, expected] of cases) {
      it(label, async () => assert.deepEqual(await names(payload), expected));
    }
  });

  describe('AND / OR chains', () => {
    it('AND', async () => {
      assert.deepEqual(
        await names([
          { attribute_key: 'email', filter_operator: 'contains', values: ['acme'], query_operator: 'and' },
          { attribute_key: 'name', filter_operator: 'contains', values: ['max'], query_operator: null },
        ]),
        ['Max Mustermann'],
      );
    });
    it('OR', async () => {
      assert.deepEqual(
        await names([
          { attribute_key: 'name', filter_operator: 'equal_to', values: ['jane roe'], query_operator: 'OR' },
          { attribute_key: 'plan', filter_operator: 'equal_to', values: ['gold'], query_operator: null },
        ]),
        ['Jane Roe', 'John Smith'],
      );
    });
    it('AND binds tighter than OR, as in Chatwoot’s SQL: a OR b AND c = a OR (b AND c)', async () => {
      assert.deepEqual(
        await names([
          { attribute_key: 'name', filter_operator: 'equal_to', values: ['jane roe'], query_operator: 'OR' },
          { attribute_key: 'email', filter_operator: 'contains', values: ['acme'], query_operator: 'AND' },
          { attribute_key: 'labels', filter_operator: 'equal_to', values: ['support'], query_operator: null },
        ]),
        ['Jane Roe', 'Max Mustermann'],
      );
      assert.deepEqual(
        await names([
          { attribute_key: 'email', filter_operator: 'contains', values: ['acme'], query_operator: 'AND' },
          { attribute_key: 'labels', filter_operator: 'equal_to', values: ['vip'], query_operator: 'OR' },
          { attribute_key: 'blocked', filter_operator: 'equal_to', values: [true], query_operator: null },
        ]),
        ['Jane Roe', 'John Smith'],
      );
    });
  });

  describe('errors', () => {
    const expect422 = async (payload: unknown, error: string) => {
      const res = await filter(payload);
      assert.equal(res.statusCode, 422, res.body);
      assert.deepEqual(res.json(), { error });
    };
    it('unknown attribute (a conversation attribute is not a contact attribute)', async () => {
      const allowed = 'name,phone_number,email,identifier,country_code,city,company,labels,created_at,last_activity_at,blocked';
      await expect422(
        one('shoe_size', 'equal_to', ['42']),
        `Invalid attribute key - [shoe_size]. The key should be one of [${allowed}] or a custom attribute defined in the account.`,
      );
      await expect422(
        one('conv_only', 'equal_to', ['x']),
        `Invalid attribute key - [conv_only]. The key should be one of [${allowed}] or a custom attribute defined in the account.`,
      );
    });
    it('operator the attribute does not allow, and unknown operators', async () => {
      await expect422(one('name', 'is_greater_than', ['a']), 'Invalid operator. The allowed operators for name are [equal_to,not_equal_to,contains,does_not_contain].');
      await expect422(one('created_at', 'equal_to', ['2024-01-01']), 'Invalid operator. The allowed operators for created_at are [is_greater_than,is_less_than,days_before].');
      const res = await filter(one('plan', 'sounds_like', ['x']));
      assert.equal(res.statusCode, 422);
      assert.match(res.json().error, /^Invalid operator\. The allowed operators for plan are \[/);
    });
    it('query operator other than AND/OR', async () => {
      await expect422(
        [
          { attribute_key: 'name', filter_operator: 'equal_to', values: ['x'], query_operator: 'XOR' },
          { attribute_key: 'name', filter_operator: 'equal_to', values: ['y'] },
        ],
        'Query operator must be either "AND" or "OR".',
      );
    });
    it('missing or ill-typed values', async () => {
      await expect422(one('name', 'equal_to', []), 'Invalid value. The values provided for name are invalid');
      await expect422(one('name', 'contains'), 'Invalid value. The values provided for name are invalid');
      await expect422(one('seats', 'is_greater_than', ['many']), 'Invalid value. The values provided for seats are invalid');
      await expect422(one('created_at', 'is_less_than', ['not a date']), 'Invalid value. The values provided for created_at are invalid');
      await expect422(one('blocked', 'equal_to', ['maybe']), 'Invalid value. The values provided for blocked are invalid');
    });
    it('a payload that is not a list of conditions', async () => {
      for (const bad of ['name', { attribute_key: 'name' }, [{ attribute_key: 1, filter_operator: 'equal_to' }], null]) {
        const res = await filter(bad);
        assert.equal(res.statusCode, 422, JSON.stringify(bad));
        assert.match(res.json().error, /Invalid filter payload/);
      }
    });
    it('treats hostile values as values', async () => {
      assert.deepEqual(await names(one('name', 'equal_to', ["x' OR '1'='1"])), []);
      assert.deepEqual(await names(one('name', 'contains', ['%'])), []);
      assert.deepEqual(await names(one('plan', 'contains', ["'); DROP TABLE contacts; --"])), []);
      const count = await t.ctx.db.selectFrom('contacts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(count.n), 3);
    });
  });

  it('paginates filter results with meta', async () => {
    const res = await filter(one('email', 'contains', ['@']), '?page=1');
    assert.deepEqual(res.json().meta, { count: 3, current_page: 1 });
    const page2 = await filter(one('email', 'contains', ['@']), '?page=2');
    assert.deepEqual(page2.json(), { meta: { count: 3, current_page: 2 }, payload: [] });
  });

  describe('conversation catalogue (reuse by the conversations module)', () => {
    const convIds: Record<string, number> = {};
    before(async () => {
      const inbox = await createApiInbox(t, account.id);
      await createDefinition(t, account.id, 'order_total', 1, 0);
      const contactId = ids['John Smith'];
      const specs = [
        { key: 'open-en', status: 0, assignee_id: agent.user.id, additional_attributes: { browser_language: 'en' }, custom_attributes: { order_total: 150 }, labels: ['billing'] },
        { key: 'pending-de', status: 2, assignee_id: null, additional_attributes: { browser_language: 'de', referer: 'https://shop.example.com/cart' }, custom_attributes: { order_total: 20 }, labels: [] },
        { key: 'resolved', status: 1, assignee_id: null, additional_attributes: {}, custom_attributes: {}, labels: ['billing', 'urgent'] },
      ];
      for (const spec of specs) {
        const c = await createConversation(t, { accountId: account.id, inboxId: inbox.id, contactId });
        await t.ctx.db
          .updateTable('conversations')
          .set({
            status: spec.status,
            assignee_id: spec.assignee_id,
            additional_attributes: JSON.stringify(spec.additional_attributes),
            custom_attributes: JSON.stringify(spec.custom_attributes),
          })
          .where('id', '=', c.id)
          .execute();
        for (const name of spec.labels) {
          await t.ctx.db.insertInto('taggings').values({ account_id: account.id, taggable_type: 'Conversation', taggable_id: c.id, name, created_at: Date.now() }).execute();
        }
        convIds[spec.key] = c.id;
      }
    });

    async function conversations(payload: Condition[]): Promise<string[]> {
      const expr = await buildFilterExpression({
        db: t.ctx.db,
        engine: t.ctx.engine,
        accountId: account.id,
        table: 'c',
        catalogue: CONVERSATION_FILTER_CATALOGUE,
        payload: expandStatusAll(payload) as Condition[],
      });
      const rows = await t.ctx.db.selectFrom('conversations as c').select('c.id').where('c.account_id', '=', account.id).where(expr).execute();
      return rows.map((r) => Object.keys(convIds).find((k) => convIds[k] === r.id)!).sort();
    }

    it('status names map to stored values, every value counts (IN), "all" means every status', async () => {
      assert.deepEqual(await conversations(one('status', 'equal_to', ['open', 'pending'])), ['open-en', 'pending-de']);
      assert.deepEqual(await conversations(one('status', 'not_equal_to', ['open'])), ['pending-de', 'resolved']);
      assert.deepEqual(await conversations(one('status', 'equal_to', ['all'])), ['open-en', 'pending-de', 'resolved']);
      await assert.rejects(conversations(one('status', 'equal_to', ['closed'])), /Invalid value/);
    });
    it('assignee presence, labels, additional attributes, custom attributes and display_id', async () => {
      assert.deepEqual(await conversations(one('assignee_id', 'is_not_present')), ['pending-de', 'resolved']);
      assert.deepEqual(await conversations(one('assignee_id', 'equal_to', [String(agent.user.id)])), ['open-en']);
      assert.deepEqual(await conversations(one('labels', 'equal_to', ['urgent', 'nothing'])), ['resolved']);
      assert.deepEqual(await conversations(one('browser_language', 'equal_to', ['de'])), ['pending-de']);
      assert.deepEqual(await conversations(one('referer', 'contains', ['shop.example'])), ['pending-de']);
      assert.deepEqual(await conversations(one('order_total', 'is_greater_than', ['100'])), ['open-en']);
      const display = await t.ctx.db.selectFrom('conversations').select('display_id').where('id', '=', convIds['resolved']).executeTakeFirstOrThrow();
      assert.deepEqual(await conversations(one('display_id', 'equal_to', [display.display_id])), ['resolved']);
      await assert.rejects(conversations(one('plan', 'equal_to', ['gold'])), /Invalid attribute key - \[plan\]/);
    });
  });
});
