import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import pg from 'pg';
import { ENGINE, startTestApp, type TestApp, type TestUser } from '../../helpers.js';
import { createConversation, makeContact, makeInbox } from './fixtures.js';
import { findConversations, PER_PAGE, type ListParams, type Viewer } from '../../../src/modules/conversations/finder.js';
import { anchorCounts, MIN_ANCHORED_OFFSET } from '../../../src/modules/conversations/page-anchors.js';

/*
 * Deep pages of the list seek from anchors left by earlier reads (page-anchors.ts) while the
 * database is unchanged. Every page must be the one the offset gives (findConversations reads
 * with the offset, never from anchors), with ties in the sort key, in each seekable order, with
 * filters, for an agent, and after writes made through the API or by another connection.
 */
describe('GET /conversations: deep pages from anchors', () => {
  let t: TestApp;
  let accountId: number;
  let admin: TestUser;
  let agent: TestUser;
  let inboxA: number;
  let inboxB: number;
  const TOTAL = 130;

  before(async () => {
    t = await startTestApp();
    const seed = await t.seedAccount();
    accountId = seed.account.id;
    admin = seed.admin;
    agent = seed.agent;
    inboxA = (await makeInbox(t, accountId, { members: [agent.user.id] })).id;
    inboxB = (await makeInbox(t, accountId)).id;
    const contact = await makeContact(t, accountId);
    for (let i = 0; i < TOTAL; i++) {
      const c = await createConversation(t, accountId, admin, { inbox_id: i % 3 === 0 ? inboxB : inboxA, contact_id: contact.id });
      if (i % 2 === 0) {
        const res = await t.request({ method: 'POST', url: `/api/v1/accounts/${accountId}/conversations/${c.id}/labels`, token: admin.token, payload: { labels: ['vip'] } });
        assert.equal(res.statusCode, 200, res.body);
      }
    }
    // Ties: four conversations share each activity time, three each creation time.
    const rows = await t.ctx.db.selectFrom('conversations').select('id').where('account_id', '=', accountId).orderBy('id').execute();
    for (const [i, row] of rows.entries()) {
      await t.ctx.db
        .updateTable('conversations')
        .set({ last_activity_at: 1_700_000_000_000 + Math.floor(((i * 37) % TOTAL) / 4) * 1000, created_at: 1_600_000_000_000 + Math.floor(i / 3) * 1000 })
        .where('id', '=', row.id)
        .execute();
    }
  });
  after(() => t.close());

  const viewerOf = (user: TestUser): Viewer => ({ accountId, userId: user.user.id, inboxIds: user === admin ? null : [inboxA] });

  /** The page's display ids as the API lists them. */
  const listed = async (query: string, user: TestUser = admin): Promise<number[]> => {
    const res = await t.request({ method: 'GET', url: `/api/v1/accounts/${accountId}/conversations?${query}`, token: user.token });
    assert.equal(res.statusCode, 200, res.body);
    return (res.json().data.payload as { id: number }[]).map((c) => c.id);
  };
  /** The same page read with its offset. */
  const withOffset = async (params: ListParams, user: TestUser = admin): Promise<number[]> => {
    const { rows } = await findConversations(t.ctx, viewerOf(user), params);
    return rows.map((r) => r.display_id);
  };
  const assertPage = async (params: Record<string, string>, user: TestUser = admin) => {
    const query = new URLSearchParams(params).toString();
    const { labels, ...rest } = params;
    const expected = await withOffset(labels ? { ...rest, labels: [labels] } : rest, user);
    assert.deepEqual(await listed(query.replace('labels=', 'labels%5B%5D='), user), expected, query);
    return expected;
  };
  const counts = () => ({ ...anchorCounts(t.ctx.db) });
  /**
   * Reads the page until it is read from an anchor. SQLite: at the second read (nothing else
   * writes to the test's file). PostgreSQL: an anchor holds at one snapshot of the whole cluster,
   * which the other test files running beside this one move with their writes: read again until a
   * read falls between two of them.
   */
  const readUntilSeek = async (params: Record<string, string>, user: TestUser = admin) => {
    const start = counts().seeks;
    const deadline = Date.now() + 20_000;
    for (let i = 0; ENGINE === 'sqlite' ? i < 2 : Date.now() < deadline; i++) {
      await assertPage(params, user);
      if (counts().seeks > start) return;
      // PostgreSQL: a pause now and then, so the reads do not keep step with another file's writes.
      if (ENGINE === 'postgres' && i % 2 === 1) await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
    }
    assert.fail(`no read of ${JSON.stringify(params)} came from an anchor`);
  };
  /** SQLite: exactly `n` more reads came from anchors since `start`; PostgreSQL (see readUntilSeek): at most. */
  const assertSeeks = (start: { seeks: number }, n: number, message: string) => {
    if (ENGINE === 'sqlite') assert.equal(counts().seeks, start.seeks + n, message);
    else assert.ok(counts().seeks <= start.seeks + n, message);
  };

  test('a repeated deep page, the next one and one further down are read from anchors', async () => {
    assert.equal(MIN_ANCHORED_OFFSET, 2 * PER_PAGE, 'page 3 is the first anchored page');
    const start = counts();
    const page3 = await assertPage({ status: 'all', page: '3' });
    assert.equal(page3.length, PER_PAGE);
    assertSeeks(start, 0, 'the first read has no anchor');
    await readUntilSeek({ status: 'all', page: '3' });
    let seeks = counts();
    await assertPage({ status: 'all', page: '4' });
    assertSeeks(seeks, 1, 'the next page seeks from the last row of the one before');
    await readUntilSeek({ status: 'all', page: '4' });
    seeks = counts();
    const page6 = await assertPage({ status: 'all', page: '6' });
    assert.equal(page6.length, TOTAL - 5 * PER_PAGE);
    assertSeeks(seeks, 1, 'a page further down seeks from the nearest anchor and skips the rest');
    await readUntilSeek({ status: 'all', page: '6' });
    assert.deepEqual(await listed('status=all&page=7'), [], 'past the end');
  });

  test('every seekable order, with filters, and for an agent, equals the offset', async () => {
    const start = counts();
    const queries: Record<string, string>[] = [
      { status: 'all', sort_by: 'last_activity_at_asc' },
      { status: 'all', sort_by: 'created_at_asc' },
      { status: 'all', sort_by: 'created_at_desc' },
      { status: 'all', sort_by: 'latest' },
      { status: 'open' },
      { status: 'all', inbox_id: String(inboxA) },
      { status: 'all', labels: 'vip' },
    ];
    for (const query of queries) {
      for (const page of ['3', '4', '3', '4']) await assertPage({ ...query, page });
      await readUntilSeek({ ...query, page: '3' });
    }
    for (const page of ['3', '4', '3']) await assertPage({ status: 'all', page }, agent);
    await readUntilSeek({ status: 'all', page: '3' }, agent);
    if (ENGINE === 'sqlite') assert.equal(counts().seeks, start.seeks + queries.length * 4 + 3, 'every read but the first of each list seeks');
    // An order with nulls and mixed directions reads its offset, and still answers alike.
    for (const page of ['3', '3']) await assertPage({ status: 'all', sort_by: 'priority_desc', page });
  });

  test('a message moving a conversation up changes the next read of an anchored page', async () => {
    const before = await assertPage({ status: 'all', page: '3' });
    await readUntilSeek({ status: 'all', page: '3' });
    // The last conversation of the list moves to the top: every deep page shifts by one.
    const last = (await withOffset({ status: 'all', page: '6' })).at(-1)!;
    const res = await t.request({ method: 'POST', url: `/api/v1/accounts/${accountId}/conversations/${last}/messages`, token: admin.token, payload: { content: 'moving up' } });
    assert.equal(res.statusCode, 200, res.body);
    const start = counts();
    const after1 = await assertPage({ status: 'all', page: '3' });
    assert.notDeepEqual(after1, before, 'the page shifted');
    assert.deepEqual(after1.slice(1), before.slice(0, -1));
    if (ENGINE === 'sqlite') assert.equal(counts().seeks, start.seeks, 'SQLite: the commit dropped the anchors');
    else assert.equal(counts().missedSeeks, start.missedSeeks + 1, 'PostgreSQL: the seek saw another snapshot and was thrown away');
    for (let i = 0; i < 3; i++) await assertPage({ status: 'all', page: '3' });
  });

  test('a write by another connection is seen by the next read of an anchored page', async () => {
    const target = (await withOffset({ status: 'all', page: '5' }))[0];
    await assertPage({ status: 'all', page: '4' });
    await readUntilSeek({ status: 'all', page: '4' });
    const start = counts();
    const sqlText = `update conversations set last_activity_at = 1800000000000 where account_id = ${accountId} and display_id = ${target}`;
    if (ENGINE === 'sqlite') {
      const other = new Database(t.config.databaseUrl);
      try {
        other.prepare(sqlText).run();
      } finally {
        other.close();
      }
    } else {
      const client = new pg.Client({ connectionString: process.env.DATABASE_URL, options: `-c search_path=${t.config.pgSchema}` });
      await client.connect();
      try {
        await client.query(sqlText);
      } finally {
        await client.end();
      }
    }
    const page4 = await assertPage({ status: 'all', page: '4' });
    assert.ok(page4.length === PER_PAGE);
    if (ENGINE === 'sqlite') assert.equal(counts().seeks, start.seeks, 'SQLite: the probe saw the commit and dropped the anchors');
    else assert.equal(counts().missedSeeks, start.missedSeeks + 1, 'PostgreSQL: the seek saw another snapshot and was thrown away');
    const top = await listed('status=all&page=1');
    assert.equal(top[0], target, 'the conversation moved to the top');
    for (let i = 0; i < 3; i++) await assertPage({ status: 'all', page: '4' });
  });
});
