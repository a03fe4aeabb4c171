import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp, type TestUser } from '../../helpers.js';
import type { Row } from '../../../src/db/types.js';
import { activityContents, createConversation, makeContact, makeInbox, makeTeam } from './fixtures.js';

describe('automatic assignment (round robin over online inbox members)', () => {
  let t: TestApp;
  after(async () => {
    await t.close();
  });

  test('new conversations go round robin to online members, skipping busy and absent ones', async () => {
    t = await startTestApp();
    const { account, admin } = await t.seedAccount();
    const a = await t.createUser({ accountId: account.id, name: 'Agent A' });
    const b = await t.createUser({ accountId: account.id, name: 'Agent B' });
    const busy = await t.createUser({ accountId: account.id, name: 'Agent Busy' });
    const absent = await t.createUser({ accountId: account.id, name: 'Agent Absent' });
    await t.ctx.db.updateTable('account_users').set({ availability: 2 }).where('user_id', '=', busy.user.id).execute();
    const inbox = await makeInbox(t, account.id, { autoAssign: true, members: [a.user.id, busy.user.id, b.user.id, absent.user.id] });
    // a request marks an agent present (OnlineStatusTracker)
    for (const u of [a, b, busy]) await t.request({ method: 'GET', url: `/api/v1/accounts/${account.id}/conversations`, token: u.token });
    const contact = await makeContact(t, account.id);
    const assignees: (number | undefined)[] = [];
    for (let i = 0; i < 4; i++) {
      const c = await createConversation(t, account.id, admin, { inbox_id: inbox.id, contact_id: contact.id });
      assignees.push(c.meta.assignee?.id);
    }
    assert.deepEqual(assignees, [a.user.id, b.user.id, a.user.id, b.user.id]);
    assert.deepEqual(await activityContents(t, account.id, 1), [`Assigned to Agent A by ${admin.user.name}`]);

    // an explicit assignee who is an inbox member is kept
    const explicit = await createConversation(t, account.id, admin, { inbox_id: inbox.id, contact_id: contact.id, assignee_id: b.user.id });
    assert.equal(explicit.meta.assignee.id, b.user.id);
    // the queue lives in the database
    const queue = await t.ctx.db.selectFrom('inbox_round_robin').selectAll().where('inbox_id', '=', inbox.id).execute();
    assert.equal(queue.length, 4);

    // pending conversations are not auto-assigned; reopening one is
    const pending = await createConversation(t, account.id, admin, { inbox_id: inbox.id, contact_id: contact.id, status: 'pending' });
    assert.equal(pending.meta.assignee, undefined);
    await t.request({ method: 'POST', url: `/api/v1/accounts/${account.id}/conversations/${pending.id}/toggle_status`, token: admin.token, payload: { status: 'open' } });
    const reopened = await t.request({ method: 'GET', url: `/api/v1/accounts/${account.id}/conversations/${pending.id}`, token: admin.token });
    assert.equal(reopened.json().meta.assignee.id, a.user.id);

    // inboxes without auto-assignment leave conversations unassigned
    const manual = await makeInbox(t, account.id, { members: [a.user.id] });
    const m = await createConversation(t, account.id, admin, { inbox_id: manual.id, contact_id: contact.id });
    assert.equal(m.meta.assignee, undefined);

    // a team with auto-assign picks an online member of both the inbox and the team
    const team = await makeTeam(t, account.id, 'Round', [b.user.id, busy.user.id], true);
    const viaTeam = await t.request({ method: 'POST', url: `/api/v1/accounts/${account.id}/conversations/${m.id}/assignments`, token: admin.token, payload: { team_id: team.id } });
    assert.equal(viaTeam.statusCode, 200);
    const manualInboxShow = await t.request({ method: 'GET', url: `/api/v1/accounts/${account.id}/conversations/${m.id}`, token: admin.token });
    // b is not a member of the manual inbox: nobody to pick
    assert.equal(manualInboxShow.json().meta.assignee, undefined);
    const inTeamInbox = await createConversation(t, account.id, admin, { inbox_id: inbox.id, contact_id: contact.id, status: 'pending' });
    await t.request({ method: 'POST', url: `/api/v1/accounts/${account.id}/conversations/${inTeamInbox.id}/assignments`, token: admin.token, payload: { team_id: team.id } });
    const teamShow = await t.request({ method: 'GET', url: `/api/v1/accounts/${account.id}/conversations/${inTeamInbox.id}`, token: admin.token });
    assert.equal(teamShow.json().meta.assignee.id, b.user.id);
    assert.deepEqual(await activityContents(t, account.id, inTeamInbox.id), [`Assigned to Agent B via Round by ${admin.user.name}`]);
  });
});

describe('filter and search', () => {
  let t: TestApp;
  let accountId: number;
  let admin: TestUser;
  let agent: TestUser;
  let inbox: Row<'inboxes'>;
  let hiddenInbox: Row<'inboxes'>;

  before(async () => {
    t = await startTestApp();
    const seed = await t.seedAccount();
    accountId = seed.account.id;
    admin = seed.admin;
    agent = seed.agent;
    inbox = await makeInbox(t, accountId, { members: [agent.user.id] });
    hiddenInbox = await makeInbox(t, accountId);
    const zoe = await makeContact(t, accountId, { name: 'Zoe Quinn', email: 'zoe@example.com' });
    const max = await makeContact(t, accountId, { name: 'Max Power', phone_number: '+14155550000' });
    await createConversation(t, accountId, admin, {
      inbox_id: inbox.id,
      contact_id: zoe.id,
      additional_attributes: { browser_language: 'de' },
      custom_attributes: { plan: 'Gold' },
      message: { content: 'My parcel is lost', message_type: 'incoming' },
    });
    const c2 = await createConversation(t, accountId, admin, { inbox_id: inbox.id, contact_id: max.id, assignee_id: agent.user.id, message: { content: 'Where is my parcel?' } });
    await createConversation(t, accountId, admin, { inbox_id: hiddenInbox.id, contact_id: max.id, message: { content: 'secret parcel' } });
    await t.request({ method: 'POST', url: `/api/v1/accounts/${accountId}/conversations/${c2.id}/labels`, token: admin.token, payload: { labels: ['shipping'] } });
    await t.request({ method: 'POST', url: `/api/v1/accounts/${accountId}/conversations/${c2.id}/toggle_status`, token: admin.token, payload: { status: 'resolved' } });
    const ts = Date.now();
    await t.ctx.db
      .insertInto('custom_attribute_definitions')
      .values({ account_id: accountId, attribute_display_name: 'Plan', attribute_key: 'plan', attribute_display_type: 0, attribute_model: 0, created_at: ts, updated_at: ts })
      .execute();
  });
  after(async () => {
    await t.close();
  });

  const filter = async (payload: unknown, user: TestUser = admin) =>
    t.request({ method: 'POST', url: `/api/v1/accounts/${accountId}/conversations/filter`, token: user.token, payload: { payload } });
  const ids = (body: { payload: { id: number }[] }) => body.payload.map((c) => c.id).sort();

  test('POST /conversations/filter with conversation attributes', async () => {
    const open = await filter([{ attribute_key: 'status', filter_operator: 'equal_to', values: ['open'], query_operator: null }]);
    assert.equal(open.statusCode, 200);
    assert.deepEqual(ids(open.json()), [1, 3]);
    assert.deepEqual(open.json().meta, { mine_count: 0, unassigned_count: 2, all_count: 2 });
    const all = await filter([{ attribute_key: 'status', filter_operator: 'equal_to', values: ['all'] }]);
    assert.deepEqual(ids(all.json()), [1, 2, 3]);
    const assigned = await filter([{ attribute_key: 'assignee_id', filter_operator: 'equal_to', values: [agent.user.id] }]);
    assert.deepEqual(ids(assigned.json()), [2]);
    const labelled = await filter([{ attribute_key: 'labels', filter_operator: 'equal_to', values: ['shipping'] }]);
    assert.deepEqual(ids(labelled.json()), [2]);
    const lang = await filter([{ attribute_key: 'browser_language', filter_operator: 'equal_to', values: ['de'] }]);
    assert.deepEqual(ids(lang.json()), [1]);
    const byDisplay = await filter([
      { attribute_key: 'display_id', filter_operator: 'equal_to', values: [1], query_operator: 'OR' },
      { attribute_key: 'inbox_id', filter_operator: 'equal_to', values: [hiddenInbox.id] },
    ]);
    assert.deepEqual(ids(byDisplay.json()), [1, 3]);
    const custom = await filter([{ attribute_key: 'plan', filter_operator: 'equal_to', values: ['gold'] }]);
    assert.deepEqual(ids(custom.json()), [1]);
    const created = await filter([{ attribute_key: 'created_at', filter_operator: 'is_greater_than', values: ['2000-01-01'] }]);
    assert.deepEqual(ids(created.json()), [1, 2, 3]);
    // agents only see their inboxes
    const asAgent = await filter([{ attribute_key: 'status', filter_operator: 'equal_to', values: ['all'] }], agent);
    assert.deepEqual(ids(asAgent.json()), [1, 2]);
  });

  test('filter errors are Chatwoot\'s 422s', async () => {
    const badKey = await filter([{ attribute_key: 'nope', filter_operator: 'equal_to', values: ['x'] }]);
    assert.equal(badKey.statusCode, 422);
    assert.match(badKey.json().error, /^Invalid attribute key - \[nope\]/);
    const badOp = await filter([{ attribute_key: 'status', filter_operator: 'contains', values: ['open'] }]);
    assert.equal(badOp.statusCode, 422);
    assert.match(badOp.json().error, /^Invalid operator/);
  });

  test('GET /conversations/search matches message content in any status', async () => {
    const res = await t.request({ method: 'GET', url: `/api/v1/accounts/${accountId}/conversations/search?q=parcel`, token: agent.token });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.deepEqual(ids(body), [1, 2]);
    assert.deepEqual(Object.keys(body.meta).sort(), ['all_count', 'mine_count', 'unassigned_count']);
    const one = body.payload.find((c: { id: number }) => c.id === 2);
    assert.equal(one.contact.name, 'Max Power');
    assert.equal(one.inbox.channel_type, 'Channel::Api');
    assert.equal(one.messages.length, 1);
    assert.equal(one.messages[0].content, 'Where is my parcel?');
    assert.equal(one.messages[0].sender_name, admin.user.name);
    assert.equal(one.messages[0].message_type, 1);
    assert.equal(typeof one.uuid, 'string');
  });

  test('GET /search returns conversations, contacts and messages', async () => {
    const res = await t.request({ method: 'GET', url: `/api/v1/accounts/${accountId}/search?q=max`, token: admin.token });
    assert.equal(res.statusCode, 200);
    const { payload } = res.json();
    assert.deepEqual(Object.keys(payload).sort(), ['articles', 'contacts', 'conversations', 'messages']);
    assert.deepEqual(payload.contacts.map((c: { name: string }) => c.name), ['Max Power']);
    assert.deepEqual(payload.conversations.map((c: { id: number }) => c.id), [3, 2]);
    assert.equal(payload.conversations[1].agent.id, agent.user.id);
    assert.equal(payload.conversations[1].message.content, 'Where is my parcel?');
    assert.equal(payload.conversations[1].inbox.id, inbox.id);

    const messages = await t.request({ method: 'GET', url: `/api/v1/accounts/${accountId}/search/messages?q=parcel`, token: agent.token });
    assert.deepEqual(messages.json().payload.messages.map((m: { content: string }) => m.content).sort(), ['My parcel is lost', 'Where is my parcel?']);
    const convs = await t.request({ method: 'GET', url: `/api/v1/accounts/${accountId}/search/conversations?q=max`, token: agent.token });
    assert.deepEqual(convs.json().payload.conversations.map((c: { id: number }) => c.id), [2]);
    const contacts = await t.request({ method: 'GET', url: `/api/v1/accounts/${accountId}/search/contacts?q=zoe`, token: agent.token });
    assert.equal(contacts.json().payload.contacts[0].email, 'zoe@example.com');
  });
});
