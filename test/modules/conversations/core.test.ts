import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../helpers.js';
import { createConversation, makeBot, makeContact, makeInbox, makeTeam } from './fixtures.js';

describe('conversations: create, show, visibility', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(async () => {
    await t.close();
  });

  test('display ids are per account: two accounts both start at 1', async () => {
    const a = await t.seedAccount();
    const b = await t.seedAccount();
    const inboxA = await makeInbox(t, a.account.id);
    const inboxB = await makeInbox(t, b.account.id);
    const contactA = await makeContact(t, a.account.id);
    const contactB = await makeContact(t, b.account.id);
    const a1 = await createConversation(t, a.account.id, a.admin, { inbox_id: inboxA.id, contact_id: contactA.id });
    const a2 = await createConversation(t, a.account.id, a.admin, { inbox_id: inboxA.id, contact_id: contactA.id });
    const b1 = await createConversation(t, b.account.id, b.admin, { inbox_id: inboxB.id, contact_id: contactB.id });
    assert.equal(a1.id, 1);
    assert.equal(a2.id, 2);
    assert.equal(b1.id, 1);
    assert.notEqual(a1.uuid, a2.uuid);
    assert.match(a1.uuid, /^[0-9a-f-]{36}$/);
    // each account sees its own #1
    const showA = await t.request({ method: 'GET', url: `/api/v1/accounts/${a.account.id}/conversations/1`, token: a.admin.token });
    const showB = await t.request({ method: 'GET', url: `/api/v1/accounts/${b.account.id}/conversations/1`, token: b.admin.token });
    assert.equal(showA.json().uuid, a1.uuid);
    assert.equal(showB.json().uuid, b1.uuid);
  });

  test('create renders Chatwoot\'s conversation partial and the first message', async () => {
    const { account, admin, agent } = await t.seedAccount();
    const inbox = await makeInbox(t, account.id, { members: [agent.user.id] });
    const contact = await makeContact(t, account.id, { name: 'Ada', email: 'ada@example.com' });
    const team = await makeTeam(t, account.id, 'support', [agent.user.id], false);
    const body = await createConversation(t, account.id, admin, {
      inbox_id: inbox.id,
      contact_id: contact.id,
      assignee_id: agent.user.id,
      team_id: team.id,
      status: 'pending',
      additional_attributes: { browser_language: 'en', nested: { a: 1 } },
      custom_attributes: { plan: 'pro' },
      message: { content: 'Hello there' },
    });
    assert.equal(body.status, 'pending');
    assert.equal(body.inbox_id, inbox.id);
    assert.equal(body.account_id, account.id);
    assert.deepEqual(body.additional_attributes, { browser_language: 'en', nested: { a: 1 } });
    assert.deepEqual(body.custom_attributes, { plan: 'pro' });
    assert.equal(body.meta.sender.id, contact.id);
    assert.equal(body.meta.sender.email, 'ada@example.com');
    assert.equal(body.meta.channel, 'Channel::Api');
    assert.equal(body.meta.assignee.id, agent.user.id);
    assert.equal(body.meta.assignee_type, 'User');
    assert.equal(body.meta.assignee.role, 'agent');
    assert.deepEqual(body.meta.team, { id: team.id, name: 'support', description: null, allow_auto_assign: false, account_id: account.id, is_member: false });
    assert.equal(body.meta.hmac_verified, false);
    // messages holds the latest message (here the assignment activity written after it)
    assert.equal(body.messages.length, 1);
    assert.equal(body.messages[0].message_type, 2);
    assert.equal(body.last_non_activity_message.content, 'Hello there');
    assert.equal(body.last_non_activity_message.message_type, 1);
    for (const key of ['created_at', 'timestamp', 'last_activity_at', 'agent_last_seen_at', 'contact_last_seen_at', 'waiting_since', 'first_reply_created_at']) {
      assert.equal(typeof body[key], 'number', key);
      assert.ok(Number.isInteger(body[key]), key);
    }
    assert.equal(typeof body.updated_at, 'number');
    assert.equal(body.labels.length, 0);
    assert.equal(body.muted, false);
    assert.equal(body.can_reply, true);
    assert.equal(body.priority, null);
    assert.equal(body.snoozed_until, null);
    assert.equal(body.unread_count, 0);
    // the team assignment was logged with the assignee, by the creator
    const contents = await t.ctx.db.selectFrom('messages').select('content').where('message_type', '=', 2).execute();
    assert.ok(contents.some((m) => m.content === `Assigned to ${agent.user.name} via support by ${admin.user.name}`));
  });

  test('create by source_id, contact inbox reuse, and missing references', async () => {
    const { account, admin } = await t.seedAccount();
    const inbox = await makeInbox(t, account.id);
    const contact = await makeContact(t, account.id);
    const first = await createConversation(t, account.id, admin, { inbox_id: inbox.id, contact_id: contact.id, source_id: 'src-1' });
    const second = await createConversation(t, account.id, admin, { source_id: 'src-1' });
    assert.equal(second.meta.sender.id, contact.id);
    assert.equal(second.id, first.id + 1);
    const inboxes = await t.ctx.db.selectFrom('contact_inboxes').selectAll().where('contact_id', '=', contact.id).execute();
    assert.equal(inboxes.length, 1);

    const url = `/api/v1/accounts/${account.id}/conversations`;
    const noSource = await t.request({ method: 'POST', url, token: admin.token, payload: { source_id: 'nope' } });
    assert.equal(noSource.statusCode, 404);
    assert.deepEqual(noSource.json(), { error: 'Resource could not be found' });
    const badContact = await t.request({ method: 'POST', url, token: admin.token, payload: { inbox_id: inbox.id, contact_id: 999999 } });
    assert.equal(badContact.statusCode, 404);
    const badStatus = await t.request({ method: 'POST', url, token: admin.token, payload: { inbox_id: inbox.id, contact_id: contact.id, status: 'weird' } });
    assert.equal(badStatus.statusCode, 422);
  });

  test('another account\'s inbox or contact is a 404; an inbox the agent is not in is a 401', async () => {
    const a = await t.seedAccount();
    const b = await t.seedAccount();
    const inboxA = await makeInbox(t, a.account.id);
    const inboxB = await makeInbox(t, b.account.id);
    const contactA = await makeContact(t, a.account.id);
    const contactB = await makeContact(t, b.account.id);
    const url = `/api/v1/accounts/${a.account.id}/conversations`;
    const r1 = await t.request({ method: 'POST', url, token: a.admin.token, payload: { inbox_id: inboxB.id, contact_id: contactA.id } });
    assert.equal(r1.statusCode, 404);
    const r2 = await t.request({ method: 'POST', url, token: a.admin.token, payload: { inbox_id: inboxA.id, contact_id: contactB.id } });
    assert.equal(r2.statusCode, 404);
    const r3 = await t.request({ method: 'POST', url, token: a.agent.token, payload: { inbox_id: inboxA.id, contact_id: contactA.id } });
    assert.equal(r3.statusCode, 401);
    assert.deepEqual(r3.json(), { error: 'You are not authorized to do this action' });
    const count = await t.ctx.db.selectFrom('conversations').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', a.account.id).executeTakeFirstOrThrow();
    assert.equal(Number(count.n), 0);
  });

  test('agents see only conversations of their inboxes (or teams); cross-account ids are 404', async () => {
    const { account, admin, agent } = await t.seedAccount();
    const mine = await makeInbox(t, account.id, { members: [agent.user.id] });
    const other = await makeInbox(t, account.id);
    const contact = await makeContact(t, account.id);
    const visible = await createConversation(t, account.id, admin, { inbox_id: mine.id, contact_id: contact.id });
    const hidden = await createConversation(t, account.id, admin, { inbox_id: other.id, contact_id: contact.id });
    const base = `/api/v1/accounts/${account.id}/conversations`;
    assert.equal((await t.request({ method: 'GET', url: `${base}/${visible.id}`, token: agent.token })).statusCode, 200);
    const denied = await t.request({ method: 'GET', url: `${base}/${hidden.id}`, token: agent.token });
    assert.equal(denied.statusCode, 401);
    assert.deepEqual(denied.json(), { error: 'You are not authorized to do this action' });
    const denyToggle = await t.request({ method: 'POST', url: `${base}/${hidden.id}/toggle_status`, token: agent.token, payload: {} });
    assert.equal(denyToggle.statusCode, 401);
    const list = await t.request({ method: 'GET', url: base, token: agent.token });
    assert.deepEqual(list.json().data.payload.map((c: { id: number }) => c.id), [visible.id]);
    assert.equal(list.json().data.meta.all_count, 1);
    // administrators see both
    const adminList = await t.request({ method: 'GET', url: base, token: admin.token });
    assert.equal(adminList.json().data.meta.all_count, 2);
    // a team the agent belongs to opens the conversation to them (ConversationPolicy#team_access?)
    const team = await makeTeam(t, account.id, 'escalations', [agent.user.id], false);
    await t.request({ method: 'POST', url: `${base}/${hidden.id}/assignments`, token: admin.token, payload: { team_id: team.id } });
    assert.equal((await t.request({ method: 'GET', url: `${base}/${hidden.id}`, token: agent.token })).statusCode, 200);

    const otherAccount = await t.seedAccount();
    const cross = await t.request({ method: 'GET', url: `/api/v1/accounts/${otherAccount.account.id}/conversations/${visible.id}`, token: otherAccount.admin.token });
    assert.equal(cross.statusCode, 404);
    const notMember = await t.request({ method: 'GET', url: `/api/v1/accounts/${otherAccount.account.id}/conversations`, token: admin.token });
    assert.equal(notMember.statusCode, 401);
    assert.equal((await t.request({ method: 'GET', url: `${base}/abc`, token: admin.token })).statusCode, 404);
    assert.equal((await t.request({ method: 'GET', url: `${base}/424242`, token: admin.token })).statusCode, 404);
  });

  test('bot tokens reach the bot endpoints and nothing else', async () => {
    const { account, admin } = await t.seedAccount();
    const inbox = await makeInbox(t, account.id);
    const contact = await makeContact(t, account.id);
    const { bot, token } = await makeBot(t, account.id, 'Triage bot');
    const base = `/api/v1/accounts/${account.id}/conversations`;
    const created = await createConversation(t, account.id, { token }, { inbox_id: inbox.id, contact_id: contact.id });
    assert.equal(created.status, 'open');
    const id = created.id;
    const toggled = await t.request({ method: 'POST', url: `${base}/${id}/toggle_status`, token, payload: { status: 'resolved' } });
    assert.equal(toggled.statusCode, 200);
    assert.equal(toggled.json().payload.current_status, 'resolved');
    assert.equal((await t.request({ method: 'POST', url: `${base}/${id}/toggle_priority`, token, payload: { priority: 'high' } })).statusCode, 200);
    assert.equal((await t.request({ method: 'PATCH', url: `${base}/${id}`, token, payload: { priority: 'low' } })).statusCode, 200);
    const attrs = await t.request({ method: 'POST', url: `${base}/${id}/custom_attributes`, token, payload: { custom_attributes: { a: 1 } } });
    assert.deepEqual(attrs.json(), { custom_attributes: { a: 1 } });
    const assign = await t.request({ method: 'POST', url: `${base}/${id}/assignments`, token, payload: { assignee_id: admin.user.id } });
    assert.equal(assign.statusCode, 200);
    assert.equal(assign.json().id, admin.user.id);

    for (const [method, url] of [
      ['GET', base],
      ['GET', `${base}/${id}`],
      ['GET', `${base}/meta`],
      ['POST', `${base}/${id}/labels`],
      ['POST', `${base}/${id}/mute`],
      ['DELETE', `${base}/${id}`],
    ] as const) {
      const res = await t.request({ method, url, token, payload: method === 'GET' ? undefined : {} });
      assert.equal(res.statusCode, 401, `${method} ${url}`);
      assert.deepEqual(res.json(), { error: 'Access to this endpoint is not authorized for bots' });
    }
    const activities = await t.ctx.db.selectFrom('messages').select('content').where('message_type', '=', 2).orderBy('id').execute();
    assert.ok(activities.some((m) => m.content === `Conversation was marked resolved by ${bot.name}`));
  });

  test('a bot hands a pending conversation off to agents', async () => {
    const { account, admin } = await t.seedAccount();
    const inbox = await makeInbox(t, account.id);
    const contact = await makeContact(t, account.id);
    const { token } = await makeBot(t, account.id);
    const c = await createConversation(t, account.id, admin, { inbox_id: inbox.id, contact_id: contact.id, status: 'pending' });
    const res = await t.request({ method: 'POST', url: `/api/v1/accounts/${account.id}/conversations/${c.id}/toggle_status`, token, payload: { status: 'open' } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { meta: {}, payload: { success: null, conversation_id: c.id, current_status: 'open', snoozed_until: null } });
  });

  test('an inbox with an active agent bot starts conversations pending; a blocked contact starts resolved', async () => {
    const { account, admin } = await t.seedAccount();
    const inbox = await makeInbox(t, account.id);
    const { bot } = await makeBot(t, account.id);
    await t.ctx.db.insertInto('agent_bot_inboxes').values({ inbox_id: inbox.id, agent_bot_id: bot.id, account_id: account.id, created_at: 1, updated_at: 1 }).execute();
    const contact = await makeContact(t, account.id);
    const c = await createConversation(t, account.id, admin, { inbox_id: inbox.id, contact_id: contact.id });
    assert.equal(c.status, 'pending');
    const plain = await makeInbox(t, account.id);
    const blocked = await makeContact(t, account.id, { blocked: 1 });
    const r = await createConversation(t, account.id, admin, { inbox_id: plain.id, contact_id: blocked.id });
    assert.equal(r.status, 'resolved');
    assert.equal(r.muted, true);
  });

  test('lock_to_single_conversation reuses the contact\'s last conversation', async () => {
    const { account, admin } = await t.seedAccount();
    const inbox = await makeInbox(t, account.id, { lockToSingle: true });
    const contact = await makeContact(t, account.id);
    const a = await createConversation(t, account.id, admin, { inbox_id: inbox.id, contact_id: contact.id, source_id: 'x1' });
    const b = await createConversation(t, account.id, admin, { inbox_id: inbox.id, contact_id: contact.id, source_id: 'x1' });
    assert.equal(a.id, b.id);
  });

  test('delete is for administrators', async () => {
    const { account, admin, agent } = await t.seedAccount();
    const inbox = await makeInbox(t, account.id, { members: [agent.user.id] });
    const contact = await makeContact(t, account.id);
    const c = await createConversation(t, account.id, admin, { inbox_id: inbox.id, contact_id: contact.id, message: { content: 'x' } });
    const url = `/api/v1/accounts/${account.id}/conversations/${c.id}`;
    const denied = await t.request({ method: 'DELETE', url, token: agent.token });
    assert.equal(denied.statusCode, 401);
    const done = await t.request({ method: 'DELETE', url, token: admin.token });
    assert.equal(done.statusCode, 200);
    assert.equal(done.body, '');
    assert.equal((await t.request({ method: 'GET', url, token: admin.token })).statusCode, 404);
  });

  test('PATCH updates priority, sla and attributes with Chatwoot\'s wording', async () => {
    const { account, admin } = await t.seedAccount();
    const inbox = await makeInbox(t, account.id);
    const contact = await makeContact(t, account.id);
    const c = await createConversation(t, account.id, admin, { inbox_id: inbox.id, contact_id: contact.id });
    const url = `/api/v1/accounts/${account.id}/conversations/${c.id}`;
    const res = await t.request({ method: 'PATCH', url, token: admin.token, payload: { priority: 'urgent', sla_policy_id: 3, custom_attributes: { tier: 'gold' } } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().priority, 'urgent');
    assert.equal(res.json().sla_policy_id, 3);
    assert.deepEqual(res.json().custom_attributes, { tier: 'gold' });
    const bad = await t.request({ method: 'PATCH', url, token: admin.token, payload: { priority: 'whenever' } });
    assert.equal(bad.statusCode, 422);
    const wrapped = await t.request({ method: 'PATCH', url, token: admin.token, payload: { conversation: { priority: 'low' } } });
    assert.equal(wrapped.json().priority, 'low');
  });
});
