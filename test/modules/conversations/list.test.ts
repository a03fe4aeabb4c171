import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp, type TestUser } from '../../helpers.js';
import type { Row } from '../../../src/db/types.js';
import { createConversation, makeContact, makeInbox, makeTeam } from './fixtures.js';

/**
 * Six conversations with known columns:
 *   #  status    assignee  inbox  team  labels        priority  created  activity  waiting
 *   1  open      admin     A      T     billing       low       1000     6000      3000
 *   2  open      agent     A      -     -             high      2000     5000      null
 *   3  open      -         B      -     billing,vip   urgent    3000     4000      1000
 *   4  resolved  -         A      -     -             -         4000     3000      null
 *   5  pending   agent     B      T     vip           medium    5000     2000      2000
 *   6  snoozed   -         A      -     -             -         6000     1000      null
 */
describe('GET /conversations: filters, sorts, counts, pages', () => {
  let t: TestApp;
  let accountId: number;
  let admin: TestUser;
  let agent: TestUser;
  let inboxA: Row<'inboxes'>;
  let inboxB: Row<'inboxes'>;
  let team: Row<'teams'>;
  const list = async (query: string, user: TestUser = admin) => {
    const res = await t.request({ method: 'GET', url: `/api/v1/accounts/${accountId}/conversations${query}`, token: user.token });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    return { ids: body.data.payload.map((c: { id: number }) => c.id) as number[], meta: body.data.meta, body };
  };

  before(async () => {
    t = await startTestApp();
    const seed = await t.seedAccount();
    accountId = seed.account.id;
    admin = seed.admin;
    agent = seed.agent;
    inboxA = await makeInbox(t, accountId, { members: [agent.user.id, admin.user.id] });
    inboxB = await makeInbox(t, accountId, { members: [admin.user.id, agent.user.id] });
    team = await makeTeam(t, accountId, 'tier2', [admin.user.id, agent.user.id], false);
    const alice = await makeContact(t, accountId, { name: 'Alice Smith', email: 'alice@example.com' });
    const bob = await makeContact(t, accountId, { name: 'Bob Jones', phone_number: '+15550001111' });
    const spec = [
      { status: 0, assignee: admin.user.id, inbox: inboxA.id, team: team.id, labels: ['billing'], priority: 0, created: 1000, activity: 6000, waiting: 3000, contact: alice, text: 'refund please' },
      { status: 0, assignee: agent.user.id, inbox: inboxA.id, team: null, labels: [], priority: 2, created: 2000, activity: 5000, waiting: null, contact: bob, text: 'hello' },
      { status: 0, assignee: null, inbox: inboxB.id, team: null, labels: ['billing', 'vip'], priority: 3, created: 3000, activity: 4000, waiting: 1000, contact: alice, text: 'invoice REFUND' },
      { status: 1, assignee: null, inbox: inboxA.id, team: null, labels: [], priority: null, created: 4000, activity: 3000, waiting: null, contact: bob, text: 'thanks' },
      { status: 2, assignee: agent.user.id, inbox: inboxB.id, team: team.id, labels: ['vip'], priority: 1, created: 5000, activity: 2000, waiting: 2000, contact: bob, text: 'pending stuff' },
      { status: 3, assignee: null, inbox: inboxA.id, team: null, labels: [], priority: null, created: 6000, activity: 1000, waiting: null, contact: alice, text: 'later' },
    ];
    for (const s of spec) {
      const c = await createConversation(t, accountId, admin, { inbox_id: s.inbox, contact_id: s.contact.id, message: { content: s.text, message_type: 'incoming' } });
      if (s.labels.length) {
        const res = await t.request({ method: 'POST', url: `/api/v1/accounts/${accountId}/conversations/${c.id}/labels`, token: admin.token, payload: { labels: s.labels } });
        assert.equal(res.statusCode, 200);
      }
      await t.ctx.db
        .updateTable('conversations')
        .set({
          status: s.status,
          assignee_id: s.assignee,
          team_id: s.team,
          priority: s.priority,
          created_at: s.created,
          last_activity_at: s.activity,
          waiting_since: s.waiting,
          snoozed_until: s.status === 3 ? Date.now() + 86_400_000 : null,
        })
        .where('account_id', '=', accountId)
        .where('display_id', '=', c.id)
        .execute();
    }
  });
  after(async () => {
    await t.close();
  });

  test('default: open conversations by last activity, with counts', async () => {
    const { ids, meta } = await list('');
    assert.deepEqual(ids, [1, 2, 3]);
    assert.deepEqual(meta, { mine_count: 1, assigned_count: 2, unassigned_count: 1, all_count: 3 });
  });

  test('status filter', async () => {
    assert.deepEqual((await list('?status=resolved')).ids, [4]);
    assert.deepEqual((await list('?status=pending')).ids, [5]);
    assert.deepEqual((await list('?status=snoozed')).ids, [6]);
    assert.deepEqual((await list('?status=all')).ids, [1, 2, 3, 4, 5, 6]);
    assert.deepEqual((await list('?status=bogus')).ids, []);
  });

  test('assignee_type filters the page, not the counts', async () => {
    const me = await list('?assignee_type=me', agent);
    assert.deepEqual(me.ids, [2]);
    assert.deepEqual(me.meta, { mine_count: 1, assigned_count: 2, unassigned_count: 1, all_count: 3 });
    assert.deepEqual((await list('?assignee_type=unassigned')).ids, [3]);
    assert.deepEqual((await list('?assignee_type=assigned')).ids, [1, 2]);
    assert.deepEqual((await list('?assignee_type=all')).ids, [1, 2, 3]);
    assert.deepEqual((await list('?assignee_type=me&status=all')).ids, [1]);
  });

  test('inbox, team and labels filters', async () => {
    assert.deepEqual((await list(`?inbox_id=${inboxB.id}&status=all`)).ids, [3, 5]);
    assert.deepEqual((await list(`?team_id=${team.id}&status=all`)).ids, [1, 5]);
    assert.deepEqual((await list('?labels[]=vip&status=all')).ids, [3, 5]);
    assert.deepEqual((await list('?labels[]=billing&labels[]=vip&status=all')).ids, [1, 3, 5]);
    assert.deepEqual((await list('?labels=billing')).ids, [1, 3]);
    const missingTeam = await t.request({ method: 'GET', url: `/api/v1/accounts/${accountId}/conversations?team_id=99999`, token: admin.token });
    assert.equal(missingTeam.statusCode, 404);
  });

  test('q searches message content and the contact, across statuses', async () => {
    assert.deepEqual((await list('?q=refund')).ids, [1, 3]);
    assert.deepEqual((await list('?q=thanks')).ids, [4]);
    assert.deepEqual((await list('?q=bob')).ids, [2, 4, 5]);
    assert.deepEqual((await list('?q=alice@example')).ids, [1, 3, 6]);
    assert.deepEqual((await list('?q=zzz-nothing')).ids, []);
  });

  test('every sort order', async () => {
    const sorted = async (sortBy: string) => (await list(`?status=all&sort_by=${sortBy}`)).ids;
    assert.deepEqual(await sorted('latest'), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(await sorted('last_activity_at_desc'), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(await sorted('last_activity_at_asc'), [6, 5, 4, 3, 2, 1]);
    assert.deepEqual(await sorted('sort_on_created_at'), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(await sorted('created_at_asc'), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(await sorted('created_at_desc'), [6, 5, 4, 3, 2, 1]);
    // priority desc NULLS LAST, then last activity desc
    assert.deepEqual(await sorted('sort_on_priority'), [3, 2, 5, 1, 4, 6]);
    assert.deepEqual(await sorted('priority_desc'), [3, 2, 5, 1, 4, 6]);
    assert.deepEqual(await sorted('priority_asc'), [1, 5, 2, 3, 4, 6]);
    // waiting_since asc NULLS LAST, then created_at asc
    assert.deepEqual(await sorted('sort_on_waiting_since'), [3, 5, 1, 2, 4, 6]);
    assert.deepEqual(await sorted('waiting_since_asc'), [3, 5, 1, 2, 4, 6]);
    assert.deepEqual(await sorted('waiting_since_desc'), [1, 5, 3, 2, 4, 6]);
    assert.deepEqual(await sorted('no_such_sort'), [1, 2, 3, 4, 5, 6]);
    // Names every object inherits are no sort either (they answered 500, found by `npm run fuzz`).
    for (const inherited of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) assert.deepEqual(await sorted(inherited), [1, 2, 3, 4, 5, 6]);
  });

  test('meta endpoint gives the counts alone', async () => {
    const res = await t.request({ method: 'GET', url: `/api/v1/accounts/${accountId}/conversations/meta?status=all`, token: agent.token });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { meta: { mine_count: 2, assigned_count: 3, unassigned_count: 3, all_count: 6 } });
  });

  test('list entries carry labels, meta and the last message', async () => {
    const { body } = await list('');
    const first = body.data.payload[0];
    assert.deepEqual(first.labels, ['billing']);
    assert.equal(first.meta.assignee.id, admin.user.id);
    assert.equal(first.meta.team.name, 'tier2');
    assert.equal(first.meta.team.is_member, true);
    assert.equal(first.messages.length, 1);
    assert.ok(first.last_non_activity_message);
    assert.equal(first.last_non_activity_message.content, 'refund please');
    assert.equal(first.unread_count, 1);
    assert.equal(first.timestamp, 6);
    assert.equal(first.created_at, 1);
    assert.equal(first.waiting_since, 3);
    assert.equal(first.priority, 'low');
  });

  test('pages of 25', async () => {
    const other = await t.seedAccount();
    const inbox = await makeInbox(t, other.account.id);
    const contact = await makeContact(t, other.account.id);
    for (let i = 0; i < 26; i++) await createConversation(t, other.account.id, other.admin, { inbox_id: inbox.id, contact_id: contact.id });
    const page = async (p: string) => {
      const res = await t.request({ method: 'GET', url: `/api/v1/accounts/${other.account.id}/conversations?sort_by=created_at_asc${p}`, token: other.admin.token });
      return res.json().data;
    };
    const p1 = await page('');
    assert.equal(p1.payload.length, 25);
    assert.equal(p1.meta.all_count, 26);
    assert.equal(p1.payload[0].id, 1);
    const p2 = await page('&page=2');
    assert.deepEqual(p2.payload.map((c: { id: number }) => c.id), [26]);
    assert.equal((await page('&page=3')).payload.length, 0);
    assert.equal((await page('&page=0')).payload.length, 25);
    assert.equal((await page('&page=abc')).payload[0].id, 1);
    // In activity order within the inbox (PostgreSQL reads a deep page in one walk of its index, 0680).
    const byActivity = async (p: string) => {
      const res = await t.request({ method: 'GET', url: `/api/v1/accounts/${other.account.id}/conversations?status=all&inbox_id=${inbox.id}${p}`, token: other.admin.token });
      return res.json().data.payload.map((c: { id: number; last_activity_at: number }) => c.id);
    };
    const first = await byActivity('');
    const second = await byActivity('&page=2');
    assert.equal(first.length, 25);
    assert.equal(second.length, 1);
    assert.deepEqual([...first, ...second].sort((a: number, b: number) => a - b), Array.from({ length: 26 }, (_, i) => i + 1));
  });

  test('contact conversations list (up to 20, newest activity first, permission filtered)', async () => {
    const contactRow = await t.ctx.db.selectFrom('contacts').selectAll().where('account_id', '=', accountId).where('name', '=', 'Bob Jones').executeTakeFirstOrThrow();
    const res = await t.request({ method: 'GET', url: `/api/v1/accounts/${accountId}/contacts/${contactRow.id}/conversations`, token: admin.token });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json().payload.map((c: { id: number }) => c.id), [2, 4, 5]);
    const missing = await t.request({ method: 'GET', url: `/api/v1/accounts/${accountId}/contacts/999999/conversations`, token: admin.token });
    assert.equal(missing.statusCode, 404);
  });

  test('an agent outside an inbox does not see its conversations in the list or counts', async () => {
    const outsider = await t.createUser({ accountId, role: 'agent' });
    const { ids, meta } = await list('?status=all', outsider);
    assert.deepEqual(ids, []);
    assert.equal(meta.all_count, 0);
    const byInbox = await list(`?inbox_id=${inboxA.id}&status=all`, outsider);
    assert.deepEqual(byInbox.ids, []);
  });
});
