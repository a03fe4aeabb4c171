import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { startTestApp, type TestApp, type TestUser } from '../../helpers.js';
import { createConversation, makeContact, makeInbox } from './fixtures.js';
import { LABEL_BITS } from '../../../src/db/migrations/0660_conversation_label_bits.js';

/*
 * The labels filter checks conversations.label_bits (migration 0660) before taggings. With more
 * tag names than bits, names share a bit and taggings decide; with fewer, SQLite lets the bits
 * decide alone. Either way the list must answer exactly what taggings say, after labels are
 * added, replaced, removed and renamed.
 */

/** A suite's app, account and administrator, set in its `before`. */
interface Suite {
  t: TestApp;
  accountId: number;
  admin: TestUser;
}

/** The list as the API answers it, what taggings alone say, and the bits as the triggers keep them. */
function helpersFor(s: Suite) {
  const list = async (query: string) => {
    const res = await s.t.request({ method: 'GET', url: `/api/v1/accounts/${s.accountId}/conversations?status=all${query}`, token: s.admin.token });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    return { ids: (body.data.payload as { id: number }[]).map((c) => c.id).sort((a, b) => a - b), all: body.data.meta.all_count as number };
  };
  const setLabels = async (displayId: number, labels: string[]) => {
    const res = await s.t.request({ method: 'POST', url: `/api/v1/accounts/${s.accountId}/conversations/${displayId}/labels`, token: s.admin.token, payload: { labels } });
    assert.equal(res.statusCode, 200, res.body);
  };
  /** What taggings alone say: the display ids of conversations with any of `labels`. */
  const expected = async (labels: string[]) => {
    const rows = await sql<{ display_id: number }>`
      select distinct c.display_id from conversations c join taggings t on t.taggable_id = c.id and t.taggable_type = 'Conversation'
      where c.account_id = ${s.accountId} and t.name in (${sql.join(labels)})`.execute(s.t.ctx.db);
    return rows.rows.map((r) => Number(r.display_id)).sort((a, b) => a - b);
  };
  /** label_bits as the triggers keep them, against the bits recomputed from taggings. */
  const assertBitsExact = async () => {
    const rows = await s.t.ctx.db
      .selectFrom('conversations')
      .select(['id', 'label_bits'])
      .where('account_id', '=', s.accountId)
      .execute();
    const tags = await s.t.ctx.db.selectFrom('taggings').select(['taggable_id', 'name']).where('taggable_type', '=', 'Conversation').execute();
    const bitIds = await sql<{ name: string; id: number }>`select name, id from label_names`.execute(s.t.ctx.db);
    const bitOf = new Map(bitIds.rows.map((r) => [r.name, 2 ** ((Number(r.id) - 1) % LABEL_BITS)]));
    for (const row of rows) {
      const bits = new Set(tags.filter((g) => g.taggable_id === row.id).map((g) => bitOf.get(g.name)!));
      assert.equal(Number(row.label_bits), [...bits].reduce((a, b) => a + b, 0), `conversation ${row.id}`);
    }
  };

  return { list, setLabels, expected, assertBitsExact };
}

describe('GET /conversations?labels: label bits are a prefilter, taggings decide', () => {
  let t: TestApp;
  let accountId: number;
  let admin: TestUser;
  let inboxId: number;
  const ids: number[] = [];
  const suite = {} as Suite;
  const { list, setLabels, expected, assertBitsExact } = helpersFor(suite);
  // More names than bits: name i and name i + LABEL_BITS share a bit.
  const names = Array.from({ length: LABEL_BITS + 5 }, (_, i) => `tag-${String(i).padStart(2, '0')}`);

  before(async () => {
    t = await startTestApp();
    const seed = await t.seedAccount();
    accountId = seed.account.id;
    admin = seed.admin;
    Object.assign(suite, { t, accountId, admin });
    inboxId = (await makeInbox(t, accountId, { members: [admin.user.id] })).id;
    const contact = await makeContact(t, accountId, { name: 'Bits' });
    for (let i = 0; i < 6; i++) {
      const c = await createConversation(t, accountId, admin, { inbox_id: inboxId, contact_id: contact.id });
      ids.push(c.id);
    }
    // Every name once, so all of them get a bit (in this order: tag-00 gets bit 0, tag-53 bit 0 too).
    await setLabels(ids[5], names);
    await setLabels(ids[5], []);
  });
  after(() => t.close());

  test('names sharing a bit are told apart', async () => {
    await setLabels(ids[0], ['tag-00']);
    await setLabels(ids[1], [names[LABEL_BITS]]); // same bit as tag-00
    await setLabels(ids[2], ['tag-01', 'tag-02']);
    const bitIds = await sql<{ name: string; id: number }>`select name, id from label_names where name in (${'tag-00'}, ${names[LABEL_BITS]})`.execute(t.ctx.db);
    const bits = bitIds.rows.map((r) => (Number(r.id) - 1) % LABEL_BITS);
    assert.equal(bits.length, 2);
    assert.equal(bits[0], bits[1], 'the two names share a bit');
    assert.deepEqual((await list('&labels[]=tag-00')).ids, [ids[0]]);
    assert.deepEqual((await list(`&labels[]=${names[LABEL_BITS]}`)).ids, [ids[1]]);
    assert.deepEqual((await list('&labels[]=tag-00&labels[]=tag-02')).ids, [ids[0], ids[2]]);
    assert.deepEqual((await list(`&inbox_id=${inboxId}&labels[]=tag-02`)).ids, [ids[2]]);
    assert.deepEqual((await list('&labels[]=never-used')).ids, []);
    for (const labels of [['tag-00'], [names[LABEL_BITS]], ['tag-01'], ['tag-00', 'tag-02']]) {
      assert.deepEqual((await list(labels.map((l) => `&labels[]=${l}`).join(''))).ids, await expected(labels));
    }
    await assertBitsExact();
  });

  test('replacing and removing labels clears their bits', async () => {
    await setLabels(ids[2], ['tag-02']);
    assert.deepEqual((await list('&labels[]=tag-01')).ids, []);
    assert.deepEqual((await list('&labels[]=tag-02')).ids, [ids[2]]);
    await setLabels(ids[0], []);
    assert.deepEqual((await list('&labels[]=tag-00')).ids, []);
    assert.deepEqual((await list(`&labels[]=${names[LABEL_BITS]}`)).ids, [ids[1]]);
    await assertBitsExact();
  });

  test('a name first used after the lists were asked is found', async () => {
    assert.deepEqual((await list('&labels[]=brand-new')).ids, []);
    await setLabels(ids[3], ['brand-new']);
    assert.deepEqual((await list('&labels[]=brand-new')).ids, [ids[3]]);
    await assertBitsExact();
  });

  test('renaming a label moves its conversations to the new name', async () => {
    const created = await t.request({ method: 'POST', url: `/api/v1/accounts/${accountId}/labels`, token: admin.token, payload: { title: 'old-name' } });
    assert.equal(created.statusCode, 200, created.body);
    await setLabels(ids[4], ['old-name', 'tag-03']);
    assert.deepEqual((await list('&labels[]=old-name')).ids, [ids[4]]);
    const renamed = await t.request({ method: 'PATCH', url: `/api/v1/accounts/${accountId}/labels/${created.json().id}`, token: admin.token, payload: { title: 'new-name' } });
    assert.equal(renamed.statusCode, 200, renamed.body);
    assert.deepEqual((await list('&labels[]=old-name')).ids, []);
    assert.deepEqual((await list('&labels[]=new-name')).ids, [ids[4]]);
    assert.deepEqual((await list('&labels[]=tag-03')).ids, [ids[4]]);
    await assertBitsExact();
  });
});

describe('GET /conversations?labels: while no two names share a bit, the bits alone decide (SQLite skips taggings)', () => {
  const suite = {} as Suite;
  const { list, setLabels, expected, assertBitsExact } = helpersFor(suite);
  const ids: number[] = [];
  let inboxId: number;

  before(async () => {
    const t = await startTestApp();
    const seed = await t.seedAccount();
    Object.assign(suite, { t, accountId: seed.account.id, admin: seed.admin });
    inboxId = (await makeInbox(t, seed.account.id, { members: [seed.admin.user.id] })).id;
    const contact = await makeContact(t, seed.account.id, { name: 'Exact bits' });
    for (let i = 0; i < 4; i++) ids.push((await createConversation(t, seed.account.id, seed.admin, { inbox_id: inboxId, contact_id: contact.id })).id);
  });
  after(() => suite.t.close());

  test('added, replaced, removed and renamed labels: the list answers what taggings say', async () => {
    const check = async (labels: string[]) => {
      assert.deepEqual((await list(labels.map((l) => `&labels[]=${l}`).join(''))).ids, await expected(labels), labels.join(','));
      assert.deepEqual((await list(`&inbox_id=${inboxId}` + labels.map((l) => `&labels[]=${l}`).join(''))).ids, await expected(labels));
    };
    await setLabels(ids[0], ['red', 'green']);
    await setLabels(ids[1], ['green']);
    await setLabels(ids[2], ['blue']);
    for (const labels of [['red'], ['green'], ['blue'], ['red', 'blue'], ['never-used']]) await check(labels);
    await setLabels(ids[0], ['blue']);
    await setLabels(ids[1], []);
    for (const labels of [['red'], ['green'], ['blue'], ['green', 'red']]) await check(labels);
    const created = await suite.t.request({ method: 'POST', url: `/api/v1/accounts/${suite.accountId}/labels`, token: suite.admin.token, payload: { title: 'before' } });
    assert.equal(created.statusCode, 200, created.body);
    await setLabels(ids[3], ['before']);
    const renamed = await suite.t.request({
      method: 'PATCH',
      url: `/api/v1/accounts/${suite.accountId}/labels/${created.json().id}`,
      token: suite.admin.token,
      payload: { title: 'after' },
    });
    assert.equal(renamed.statusCode, 200, renamed.body);
    for (const labels of [['before'], ['after'], ['after', 'blue']]) await check(labels);
    await assertBitsExact();
    const names = await sql<{ m: number }>`select max(id) as m from label_names`.execute(suite.t.ctx.db);
    assert.ok(Number(names.rows[0].m) <= LABEL_BITS, 'every name has a bit of its own in this suite');
  });
});
