import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { toJson } from '../../../src/db/json.js';
import { startTestApp, type TestApp, type TestUser } from '../../helpers.js';
import type { Row } from '../../../src/db/types.js';
import { createConversation, makeContact, makeInbox, makeTeam } from './fixtures.js';

/**
 * The list's counts come from conversation_counts (kept by triggers) when the filters allow:
 * after every kind of write they must equal a count of the conversations themselves.
 */
describe('conversation counts stay exact', () => {
  let t: TestApp;
  let accountId: number;
  let admin: TestUser;
  let agent: TestUser;
  let inboxA: Row<'inboxes'>;
  let inboxB: Row<'inboxes'>;
  let team: Row<'teams'>;
  const base = () => `/api/v1/accounts/${accountId}`;

  const counterRows = async () =>
    (
      await sql<{ k: string; n: number }>`
        select account_id || ':' || status || ':' || inbox_id || ':' || team_id || ':' || assignee_id as k, n
        from conversation_counts where n <> 0 order by k`.execute(t.ctx.db)
    ).rows.map((r) => `${r.k}=${Number(r.n)}`);
  const scanRows = async () =>
    (
      await sql<{ k: string; n: number }>`
        select account_id || ':' || status || ':' || inbox_id || ':' || coalesce(team_id, 0) || ':' || coalesce(assignee_id, 0) as k, count(*) as n
        from conversations group by account_id, status, inbox_id, coalesce(team_id, 0), coalesce(assignee_id, 0) order by k`.execute(t.ctx.db)
    ).rows.map((r) => `${r.k}=${Number(r.n)}`);

  const labelCounterRows = async () =>
    (
      await sql<{ k: string; n: number }>`
        select label || ':' || status || ':' || inbox_id || ':' || team_id || ':' || assignee_id as k, n
        from conversation_label_counts where n <> 0 order by k`.execute(t.ctx.db)
    ).rows.map((r) => `${r.k}=${Number(r.n)}`);
  const labelScanRows = async () =>
    (
      await sql<{ k: string; n: number }>`
        select t.name || ':' || c.status || ':' || c.inbox_id || ':' || coalesce(c.team_id, 0) || ':' || coalesce(c.assignee_id, 0) as k, count(*) as n
        from taggings t join conversations c on c.id = t.taggable_id where t.taggable_type = 'Conversation'
        group by t.name, c.status, c.inbox_id, coalesce(c.team_id, 0), coalesce(c.assignee_id, 0) order by k`.execute(t.ctx.db)
    ).rows.map((r) => `${r.k}=${Number(r.n)}`);

  /** The four counts, computed the slow way from the conversations. */
  const expected = async (user: TestUser, f: { status?: number; inbox?: number; team?: number; inboxes?: number[]; label?: string }) => {
    let q = t.ctx.db.selectFrom('conversations').select(['assignee_id']).where('account_id', '=', accountId);
    const label = f.label;
    if (label !== undefined) {
      q = q.where((eb) =>
        eb.exists(
          eb.selectFrom('taggings').select('taggings.name').where('taggings.taggable_type', '=', 'Conversation').whereRef('taggings.taggable_id', '=', 'conversations.id').where('taggings.name', '=', label),
        ),
      );
    }
    if (f.status !== undefined) q = q.where('status', '=', f.status);
    if (f.inbox !== undefined) q = q.where('inbox_id', '=', f.inbox);
    if (f.team !== undefined) q = q.where('team_id', '=', f.team);
    if (f.inboxes !== undefined) q = q.where('inbox_id', 'in', f.inboxes.length ? f.inboxes : [-1]);
    const rows = await q.execute();
    const unassigned = rows.filter((r) => r.assignee_id === null).length;
    return {
      mine_count: rows.filter((r) => r.assignee_id === user.user.id).length,
      assigned_count: rows.length - unassigned,
      unassigned_count: unassigned,
      all_count: rows.length,
    };
  };
  const meta = async (user: TestUser, query: string) => {
    const res = await t.request({ method: 'GET', url: `${base()}/conversations/meta${query}`, token: user.token });
    assert.equal(res.statusCode, 200, res.body);
    return res.json().meta;
  };
  const checkAll = async () => {
    assert.deepEqual(await counterRows(), await scanRows());
    assert.deepEqual(await labelCounterRows(), await labelScanRows());
    for (const label of ['billing', 'vip', 'nobody-has-this']) {
      assert.deepEqual(await meta(admin, `?status=all&labels[]=${label}`), await expected(admin, { label }));
      assert.deepEqual(await meta(admin, `?labels[]=${label}&labels[]=${label}&inbox_id=${inboxA.id}`), await expected(admin, { label, status: 0, inbox: inboxA.id }));
      assert.deepEqual(await meta(agent, `?status=all&labels[]=${label}`), await expected(agent, { label, inboxes: [inboxA.id] }));
    }
    assert.deepEqual(await meta(admin, ''), await expected(admin, { status: 0 }));
    assert.deepEqual(await meta(admin, '?status=all'), await expected(admin, {}));
    assert.deepEqual(await meta(admin, '?status=resolved'), await expected(admin, { status: 1 }));
    assert.deepEqual(await meta(admin, `?status=all&inbox_id=${inboxB.id}`), await expected(admin, { inbox: inboxB.id }));
    assert.deepEqual(await meta(admin, `?status=open&team_id=${team.id}`), await expected(admin, { status: 0, team: team.id }));
    // The agent is a member of inbox A only.
    assert.deepEqual(await meta(agent, '?status=all'), await expected(agent, { inboxes: [inboxA.id] }));
    assert.deepEqual(await meta(agent, `?status=all&inbox_id=${inboxB.id}`), { mine_count: 0, assigned_count: 0, unassigned_count: 0, all_count: 0 });
    assert.deepEqual(await meta(agent, `?inbox_id=${inboxA.id}`), await expected(agent, { status: 0, inbox: inboxA.id }));
    // The list carries the same counts.
    const list = await t.request({ method: 'GET', url: `${base()}/conversations?status=all`, token: admin.token });
    assert.deepEqual(list.json().data.meta, await expected(admin, {}));
  };

  before(async () => {
    t = await startTestApp();
    const seed = await t.seedAccount();
    accountId = seed.account.id;
    admin = seed.admin;
    agent = seed.agent;
    inboxA = await makeInbox(t, accountId, { members: [agent.user.id, admin.user.id] });
    inboxB = await makeInbox(t, accountId, { members: [admin.user.id] });
    team = await makeTeam(t, accountId, 'tier2', [admin.user.id, agent.user.id], false);
  });
  after(async () => {
    await t.close();
  });

  test('after creates, status changes, assignments, team changes, deletes and raw updates', async () => {
    await checkAll();
    const contact = await makeContact(t, accountId, { name: 'Alice', email: 'alice@example.com' });
    const ids: number[] = [];
    for (let i = 0; i < 6; i++) {
      const c = await createConversation(t, accountId, admin, { inbox_id: i % 2 ? inboxB.id : inboxA.id, contact_id: contact.id });
      ids.push(c.id as number);
    }
    await checkAll();

    const post = async (path: string, payload: Record<string, unknown>) => {
      const res = await t.request({ method: 'POST', url: `${base()}/conversations/${path}`, token: admin.token, payload });
      assert.ok(res.statusCode < 300, res.body);
    };
    await post(`${ids[0]}/labels`, { labels: ['billing', 'vip'] });
    await post(`${ids[1]}/labels`, { labels: ['billing'] });
    await post(`${ids[2]}/labels`, { labels: ['vip'] });
    await post(`${ids[3]}/labels`, { labels: ['billing', 'vip'] });
    await post(`${ids[5]}/labels`, { labels: ['billing'] });
    await checkAll();
    await post(`${ids[0]}/toggle_status`, { status: 'resolved' });
    await post(`${ids[1]}/toggle_status`, { status: 'pending' });
    await post(`${ids[2]}/assignments`, { assignee_id: agent.user.id });
    await post(`${ids[3]}/assignments`, { assignee_id: admin.user.id });
    await post(`${ids[4]}/assignments`, { team_id: team.id });
    await checkAll();

    await post(`${ids[2]}/assignments`, { assignee_id: admin.user.id });
    await post(`${ids[3]}/assignments`, { assignee_id: null });
    await post(`${ids[0]}/toggle_status`, { status: 'open' });
    await post(`${ids[4]}/toggle_status`, { status: 'snoozed' });
    await post(`${ids[4]}/assignments`, { team_id: 0 });
    await post(`${ids[3]}/labels`, { labels: ['vip'] });
    await post(`${ids[4]}/labels`, { labels: ['billing'] });
    await checkAll();
    await t.ctx.db.updateTable('taggings').set({ name: 'gold' }).where('name', '=', 'vip').execute();
    await checkAll();
    assert.deepEqual(await meta(admin, '?status=all&labels[]=gold'), await expected(admin, { label: 'gold' }));

    // Writes that do not go through this module's services are counted too.
    await t.ctx.db.updateTable('conversations').set({ inbox_id: inboxB.id }).where('account_id', '=', accountId).where('display_id', '=', ids[0]).execute();
    await t.ctx.db.updateTable('conversations').set({ status: 1, assignee_id: agent.user.id }).where('account_id', '=', accountId).execute();
    await checkAll();
    await t.ctx.db.updateTable('conversations').set({ last_activity_at: 5 }).where('account_id', '=', accountId).execute();
    await checkAll();

    const del = await t.request({ method: 'DELETE', url: `${base()}/conversations/${ids[5]}`, token: admin.token });
    assert.equal(del.statusCode, 200, del.body);
    await checkAll();
    // A conversation deleted before its taggings: its labels stop counting at once.
    await t.ctx.db.deleteFrom('conversations').where('account_id', '=', accountId).where('display_id', '=', ids[4]).execute();
    await checkAll();
  });

  test('filters the counters do not answer still count and page right', async () => {
    const get = async (query: string) => {
      const res = await t.request({ method: 'GET', url: `${base()}/conversations${query}`, token: admin.token });
      assert.equal(res.statusCode, 200, res.body);
      return res.json().data as { meta: Record<string, number>; payload: { id: number }[] };
    };
    const all = await t.ctx.db.selectFrom('conversations').select(['display_id', 'updated_at', 'first_reply_created_at', 'waiting_since']).where('account_id', '=', accountId).execute();
    assert.ok(all.length > 0);
    const mention = await get('?conversation_type=mention&status=all');
    assert.deepEqual(mention.meta, { mine_count: 0, assigned_count: 0, unassigned_count: 0, all_count: 0 });
    assert.deepEqual(mention.payload, []);
    const unattended = await get('?conversation_type=unattended&status=all');
    assert.equal(unattended.meta.all_count, all.filter((c) => c.first_reply_created_at === null || c.waiting_since !== null).length);
    const recent = await get('?status=all&updated_within=86400');
    assert.deepEqual(
      recent.payload.map((c) => c.id).sort((a, b) => a - b),
      all.filter((c) => c.updated_at > Date.now() - 86_400_000).map((c) => c.display_id).sort((a, b) => a - b),
    );
  });
});

describe('list presenter: API inbox reply window', () => {
  test('can_reply follows the channel agent_reply_time_window and the last incoming message', async () => {
    const t = await startTestApp();
    try {
      const { account, admin } = await t.seedAccount();
      const inbox = await makeInbox(t, account.id, { members: [admin.user.id] });
      await t.ctx.db.updateTable('channel_api').set({ additional_attributes: toJson({ agent_reply_time_window: 1 }) }).where('id', '=', inbox.channel_id).execute();
      const contact = await makeContact(t, account.id, { name: 'Bob', email: 'bob@example.com' });
      const c = await createConversation(t, account.id, admin, { inbox_id: inbox.id, contact_id: contact.id, message: { content: 'hi', message_type: 'incoming' } });
      const canReply = async () => {
        const res = await t.request({ method: 'GET', url: `/api/v1/accounts/${account.id}/conversations`, token: admin.token });
        assert.equal(res.statusCode, 200, res.body);
        return res.json().data.payload.find((x: { id: number }) => x.id === c.id).can_reply;
      };
      assert.equal(await canReply(), true);
      await t.ctx.db.updateTable('messages').set({ created_at: Date.now() - 2 * 3_600_000 }).where('inbox_id', '=', inbox.id).execute();
      assert.equal(await canReply(), false);
    } finally {
      await t.close();
    }
  });
});
