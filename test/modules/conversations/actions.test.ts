import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp, type TestUser } from '../../helpers.js';
import type { Row } from '../../../src/db/types.js';
import { loadConfig } from '../../../src/config.js';
import { typingEvents, type TypingEvent } from '../../../src/modules/conversations/service.js';
import { activityContents, createConversation, makeContact, makeInbox, makeTeam } from './fixtures.js';

describe('conversation actions and their activity messages', () => {
  let t: TestApp;
  let accountId: number;
  let admin: TestUser;
  let agent: TestUser;
  let inbox: Row<'inboxes'>;
  let contact: Row<'contacts'>;
  const url = (id: number, tail = '') => `/api/v1/accounts/${accountId}/conversations/${id}${tail}`;
  const fresh = async () => (await createConversation(t, accountId, admin, { inbox_id: inbox.id, contact_id: contact.id })).id as number;

  before(async () => {
    t = await startTestApp();
    const seed = await t.seedAccount();
    accountId = seed.account.id;
    admin = seed.admin;
    agent = seed.agent;
    inbox = await makeInbox(t, accountId, { members: [agent.user.id] });
    contact = await makeContact(t, accountId, { name: 'Carla' });
  });
  after(async () => {
    await t.close();
  });

  test('toggle_status without status toggles open ↔ resolved', async () => {
    const id = await fresh();
    const r1 = await t.request({ method: 'POST', url: url(id, '/toggle_status'), token: admin.token, payload: {} });
    assert.equal(r1.statusCode, 200);
    assert.deepEqual(r1.json(), { meta: {}, payload: { success: true, conversation_id: id, current_status: 'resolved', snoozed_until: null } });
    const r2 = await t.request({ method: 'POST', url: url(id, '/toggle_status'), token: admin.token, payload: {} });
    assert.equal(r2.json().payload.current_status, 'open');
    assert.deepEqual(await activityContents(t, accountId, id), [
      `Conversation was marked resolved by ${admin.user.name}`,
      `Conversation was reopened by ${admin.user.name}`,
    ]);
  });

  test('toggle_status to pending, snoozed (with snoozed_until) and back', async () => {
    const id = await fresh();
    const pending = await t.request({ method: 'POST', url: url(id, '/toggle_status'), token: admin.token, payload: { status: 'pending' } });
    assert.equal(pending.json().payload.current_status, 'pending');
    const until = Math.floor(Date.now() / 1000) + 3600;
    const snoozed = await t.request({ method: 'POST', url: url(id, '/toggle_status'), token: admin.token, payload: { status: 'snoozed', snoozed_until: until } });
    assert.equal(snoozed.json().payload.current_status, 'snoozed');
    assert.equal(snoozed.json().payload.snoozed_until, new Date(until * 1000).toISOString());
    const show = await t.request({ method: 'GET', url: url(id), token: admin.token });
    assert.equal(show.json().snoozed_until, new Date(until * 1000).toISOString());
    // toggling a snoozed conversation opens it and clears snoozed_until
    const reopened = await t.request({ method: 'POST', url: url(id, '/toggle_status'), token: admin.token, payload: {} });
    assert.deepEqual(reopened.json().payload, { success: true, conversation_id: id, current_status: 'open', snoozed_until: null });
    assert.deepEqual(await activityContents(t, accountId, id), [
      `Conversation was marked as pending by ${admin.user.name}`,
      `Conversation was snoozed by ${admin.user.name}`,
      `Conversation was reopened by ${admin.user.name}`,
    ]);
    const bad = await t.request({ method: 'POST', url: url(id, '/toggle_status'), token: admin.token, payload: { status: 'closed' } });
    assert.equal(bad.statusCode, 422);
  });

  test('an agent who reopens a conversation takes it', async () => {
    const id = await fresh();
    await t.request({ method: 'POST', url: url(id, '/toggle_status'), token: agent.token, payload: { status: 'resolved' } });
    const res = await t.request({ method: 'POST', url: url(id, '/toggle_status'), token: agent.token, payload: { status: 'open' } });
    assert.equal(res.json().payload.current_status, 'open');
    const show = await t.request({ method: 'GET', url: url(id), token: agent.token });
    assert.equal(show.json().meta.assignee.id, agent.user.id);
    assert.deepEqual(await activityContents(t, accountId, id), [
      `Conversation was marked resolved by ${agent.user.name}`,
      `Conversation was reopened by ${agent.user.name}`,
      `${agent.user.name} self-assigned this conversation`,
    ]);
  });

  test('snoozed conversations reopen once snoozed_until passes (the sweep)', async () => {
    const { reopenDueSnoozedConversations } = await import('../../../src/modules/conversations/service.js');
    const id = await fresh();
    const past = Math.floor(Date.now() / 1000) + 2;
    await t.request({ method: 'POST', url: url(id, '/toggle_status'), token: admin.token, payload: { status: 'snoozed', snoozed_until: past } });
    assert.equal(await reopenDueSnoozedConversations(t.ctx, Date.now()), 0);
    assert.equal(await reopenDueSnoozedConversations(t.ctx, Date.now() + 5000), 1);
    const show = await t.request({ method: 'GET', url: url(id), token: admin.token });
    assert.equal(show.json().status, 'open');
    assert.equal(show.json().snoozed_until, null);
  });

  test('the sweep runs on its own every SNOOZE_SWEEP_MS', async () => {
    const own = await startTestApp({ SNOOZE_SWEEP_MS: '100' });
    try {
      const seed = await own.seedAccount();
      const box = await makeInbox(own, seed.account.id, {});
      const who = await makeContact(own, seed.account.id, { name: 'Dora' });
      const id = (await createConversation(own, seed.account.id, seed.admin, { inbox_id: box.id, contact_id: who.id })).id as number;
      const path = `/api/v1/accounts/${seed.account.id}/conversations/${id}`;
      const until = Math.floor(Date.now() / 1000) + 1;
      const snoozed = await own.request({ method: 'POST', url: `${path}/toggle_status`, token: seed.admin.token, payload: { status: 'snoozed', snoozed_until: until } });
      assert.equal(snoozed.json().payload.current_status, 'snoozed');
      let status = 'snoozed';
      for (let i = 0; i < 50 && status !== 'open'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        status = (await own.request({ method: 'GET', url: path, token: seed.admin.token })).json().status;
      }
      assert.equal(status, 'open', 'opened again by the sweep, with no call to it');
    } finally {
      await own.close();
    }
    assert.throws(() => loadConfig({ SNOOZE_SWEEP_MS: 'often' }), /SNOOZE_SWEEP_MS/);
    assert.equal(loadConfig({ SNOOZE_SWEEP_MS: '0' }).snoozeSweepMs, 0);
  });

  test('toggle_priority: set, change, remove with Chatwoot\'s wording', async () => {
    const id = await fresh();
    const r = await t.request({ method: 'POST', url: url(id, '/toggle_priority'), token: admin.token, payload: { priority: 'high' } });
    assert.equal(r.statusCode, 200);
    assert.equal(r.body, '');
    await t.request({ method: 'POST', url: url(id, '/toggle_priority'), token: admin.token, payload: { priority: 'urgent' } });
    await t.request({ method: 'POST', url: url(id, '/toggle_priority'), token: admin.token, payload: {} });
    const n = admin.user.name;
    assert.deepEqual(await activityContents(t, accountId, id), [
      `${n} set the priority to high`,
      `${n} changed the priority from high to urgent`,
      `${n} removed the priority`,
    ]);
    assert.equal((await t.request({ method: 'POST', url: url(id, '/toggle_priority'), token: admin.token, payload: { priority: 'x' } })).statusCode, 422);
  });

  test('assignments: agent, self, unassign, team, bot', async () => {
    const id = await fresh();
    const a = await t.request({ method: 'POST', url: url(id, '/assignments'), token: admin.token, payload: { assignee_id: agent.user.id } });
    assert.equal(a.statusCode, 200);
    assert.equal(a.json().id, agent.user.id);
    assert.equal(a.json().role, 'agent');
    assert.equal(a.json().account_id, accountId);
    const self = await t.request({ method: 'POST', url: url(id, '/assignments'), token: admin.token, payload: { assignee_id: admin.user.id } });
    assert.equal(self.json().id, admin.user.id);
    const none = await t.request({ method: 'POST', url: url(id, '/assignments'), token: admin.token, payload: { assignee_id: null } });
    assert.equal(none.statusCode, 200);
    assert.equal(none.body, 'null');
    const team = await makeTeam(t, accountId, 'Sales', [], false);
    const tr = await t.request({ method: 'POST', url: url(id, '/assignments'), token: admin.token, payload: { team_id: team.id } });
    assert.equal(tr.json().id, team.id);
    assert.equal(tr.json().name, 'Sales');
    const tn = await t.request({ method: 'POST', url: url(id, '/assignments'), token: admin.token, payload: { team_id: 0 } });
    assert.equal(tn.body, 'null');
    const empty = await t.request({ method: 'POST', url: url(id, '/assignments'), token: admin.token, payload: {} });
    assert.equal(empty.body, 'null');
    const n = admin.user.name;
    assert.deepEqual(await activityContents(t, accountId, id), [
      `Assigned to ${agent.user.name} by ${n}`,
      `${n} self-assigned this conversation`,
      `Conversation unassigned by ${n}`,
      `Assigned to Sales by ${n}`,
      `Unassigned from Sales by ${n}`,
    ]);
    const show = await t.request({ method: 'GET', url: url(id), token: admin.token });
    assert.equal(show.json().meta.team, undefined);
    assert.equal(show.json().meta.assignee, undefined);
  });

  test('assigning a team keeps a member assignee and drops a non-member', async () => {
    const id = await fresh();
    await t.request({ method: 'POST', url: url(id, '/assignments'), token: admin.token, payload: { assignee_id: agent.user.id } });
    const outsiders = await makeTeam(t, accountId, 'Outsiders', [admin.user.id], false);
    await t.request({ method: 'POST', url: url(id, '/assignments'), token: admin.token, payload: { team_id: outsiders.id } });
    const show = await t.request({ method: 'GET', url: url(id), token: admin.token });
    assert.equal(show.json().meta.assignee, undefined);
    assert.equal(show.json().meta.team.id, outsiders.id);
  });

  test('labels: replace the set, log additions and removals, keep the cache in sync', async () => {
    const id = await fresh();
    const r1 = await t.request({ method: 'POST', url: url(id, '/labels'), token: admin.token, payload: { labels: ['bug', 'urgent'] } });
    assert.deepEqual(r1.json(), { payload: ['bug', 'urgent'] });
    const r2 = await t.request({ method: 'POST', url: url(id, '/labels'), token: admin.token, payload: { labels: ['urgent', 'feature'] } });
    assert.deepEqual(r2.json(), { payload: ['urgent', 'feature'] });
    const list = await t.request({ method: 'GET', url: url(id, '/labels'), token: admin.token });
    assert.deepEqual(list.json(), { payload: ['urgent', 'feature'] });
    const show = await t.request({ method: 'GET', url: url(id), token: admin.token });
    assert.deepEqual(show.json().labels, ['urgent', 'feature']);
    const taggings = await t.ctx.db.selectFrom('taggings').select('name').where('taggable_type', '=', 'Conversation').execute();
    assert.ok(taggings.some((x) => x.name === 'feature'));
    assert.ok(!taggings.some((x) => x.name === 'bug'));
    const n = admin.user.name;
    assert.deepEqual(await activityContents(t, accountId, id), [`${n} added bug, urgent`, `${n} added feature`, `${n} removed bug`]);
    const cleared = await t.request({ method: 'POST', url: url(id, '/labels'), token: admin.token, payload: { labels: [] } });
    assert.deepEqual(cleared.json(), { payload: [] });
  });

  test('labels: read as Rails permit(labels: []) reads them, as contacts do', async () => {
    const id = await fresh();
    const post = async (payload: object) => (await t.request({ method: 'POST', url: url(id, '/labels'), token: admin.token, payload })).json();
    // Scalars of an array, comma lists split, blanks and repeats dropped (acts_as_taggable's parser).
    assert.deepEqual(await post({ labels: [' a , b', 7, true, null, 'a'] }), { payload: ['a', 'b', '7', 'true'] });
    // Anything permit drops (a string, an array holding an object or an array) is update_labels(nil): the set is cleared.
    for (const labels of ['vip', 7, false, ['x', { y: 1 }], ['x', ['y']]]) {
      assert.deepEqual(await post({ labels: ['keep'] }), { payload: ['keep'] });
      assert.deepEqual(await post({ labels }), { payload: [] }, JSON.stringify(labels));
      const show = await t.request({ method: 'GET', url: url(id), token: admin.token });
      assert.deepEqual(show.json().labels, []);
    }
  });

  test('custom_attributes replaces the set', async () => {
    const id = await fresh();
    const r = await t.request({ method: 'POST', url: url(id, '/custom_attributes'), token: admin.token, payload: { custom_attributes: { order: 42, vip: true } } });
    assert.deepEqual(r.json(), { custom_attributes: { order: 42, vip: true } });
    const r2 = await t.request({ method: 'POST', url: url(id, '/custom_attributes'), token: admin.token, payload: { custom_attributes: { vip: false } } });
    assert.deepEqual(r2.json(), { custom_attributes: { vip: false } });
  });

  test('update_last_seen and unread', async () => {
    const c = await createConversation(t, accountId, admin, { inbox_id: inbox.id, contact_id: contact.id, message: { content: 'hi', message_type: 'incoming' } });
    const id = c.id as number;
    assert.equal(c.unread_count, 1);
    await t.request({ method: 'POST', url: url(id, '/assignments'), token: admin.token, payload: { assignee_id: agent.user.id } });
    const seen = await t.request({ method: 'POST', url: url(id, '/update_last_seen'), token: agent.token });
    assert.equal(seen.statusCode, 200);
    assert.ok(seen.json().agent_last_seen_at > 0);
    assert.ok(seen.json().assignee_last_seen_at > 0);
    assert.equal(seen.json().unread_count, 0);
    const unread = await t.request({ method: 'POST', url: url(id, '/unread'), token: agent.token });
    assert.equal(unread.statusCode, 200);
    assert.equal(unread.json().unread_count, 1);
    assert.equal(unread.json().agent_last_seen_at, c.messages[0].created_at - 1);
  });

  test('mute resolves and blocks; unmute unblocks', async () => {
    const other = await makeContact(t, accountId, { name: 'Muted Mike' });
    const c = await createConversation(t, accountId, admin, { inbox_id: inbox.id, contact_id: other.id });
    const r = await t.request({ method: 'POST', url: url(c.id, '/mute'), token: admin.token });
    assert.equal(r.statusCode, 200);
    let show = (await t.request({ method: 'GET', url: url(c.id), token: admin.token })).json();
    assert.equal(show.muted, true);
    assert.equal(show.status, 'resolved');
    await t.request({ method: 'POST', url: url(c.id, '/unmute'), token: admin.token });
    show = (await t.request({ method: 'GET', url: url(c.id), token: admin.token })).json();
    assert.equal(show.muted, false);
    const n = admin.user.name;
    assert.deepEqual(await activityContents(t, accountId, c.id), [
      `Conversation was marked resolved by ${n}`,
      `${n} has muted the conversation`,
      `${n} has unmuted the conversation`,
    ]);
  });

  test('toggle_typing_status emits an event and stores nothing', async () => {
    const id = await fresh();
    const seen: TypingEvent[] = [];
    const on = (e: TypingEvent) => seen.push(e);
    typingEvents.on('conversation.typing_on', on);
    typingEvents.on('conversation.typing_off', on);
    try {
      const r = await t.request({ method: 'POST', url: url(id, '/toggle_typing_status'), token: agent.token, payload: { typing_status: 'on', is_private: true } });
      assert.equal(r.statusCode, 200);
      await t.request({ method: 'POST', url: url(id, '/toggle_typing_status'), token: agent.token, payload: { typing_status: 'off' } });
    } finally {
      typingEvents.off('conversation.typing_on', on);
      typingEvents.off('conversation.typing_off', on);
    }
    assert.deepEqual(seen.map((e) => [e.status, e.isPrivate, e.displayId, e.user?.id]), [
      ['on', true, id, agent.user.id],
      ['off', false, id, agent.user.id],
    ]);
  });

  test('participants: list, add, replace, remove', async () => {
    const id = await fresh();
    const second = await t.createUser({ accountId, role: 'agent' });
    await t.ctx.db.insertInto('inbox_members').values({ inbox_id: inbox.id, user_id: second.user.id, created_at: 1, updated_at: 1 }).execute();
    const empty = await t.request({ method: 'GET', url: url(id, '/participants'), token: admin.token });
    assert.deepEqual(empty.json(), []);
    const add = await t.request({ method: 'POST', url: url(id, '/participants'), token: admin.token, payload: { user_ids: [agent.user.id] } });
    assert.deepEqual(add.json().map((u: { id: number }) => u.id), [agent.user.id]);
    const again = await t.request({ method: 'POST', url: url(id, '/participants'), token: admin.token, payload: { user_ids: [agent.user.id, second.user.id] } });
    assert.deepEqual(again.json().map((u: { id: number }) => u.id), [second.user.id]);
    const replaced = await t.request({ method: 'PATCH', url: url(id, '/participants'), token: admin.token, payload: { user_ids: [second.user.id] } });
    assert.deepEqual(replaced.json().map((u: { id: number }) => u.id), [second.user.id]);
    assert.equal(replaced.json()[0].role, 'agent');
    const noAccess = await t.request({ method: 'POST', url: url(id, '/participants'), token: admin.token, payload: { user_ids: [admin.user.id] } });
    assert.equal(noAccess.statusCode, 422);
    const del = await t.request({ method: 'DELETE', url: url(id, '/participants'), token: admin.token, payload: { user_ids: [second.user.id] } });
    assert.equal(del.statusCode, 200);
    assert.deepEqual((await t.request({ method: 'GET', url: url(id, '/participants'), token: admin.token })).json(), []);
  });

  test('draft messages', async () => {
    const id = await fresh();
    assert.deepEqual((await t.request({ method: 'GET', url: url(id, '/draft_messages'), token: admin.token })).json(), { has_draft: false });
    const put = await t.request({ method: 'PATCH', url: url(id, '/draft_messages'), token: admin.token, payload: { draft_message: { message: 'half a thought' } } });
    assert.equal(put.statusCode, 200);
    assert.deepEqual((await t.request({ method: 'GET', url: url(id, '/draft_messages'), token: agent.token })).json(), { has_draft: true, message: 'half a thought' });
    await t.request({ method: 'PATCH', url: url(id, '/draft_messages'), token: admin.token, payload: { draft_message: { message: 'whole thought' } } });
    assert.equal((await t.request({ method: 'GET', url: url(id, '/draft_messages'), token: admin.token })).json().message, 'whole thought');
    assert.equal((await t.request({ method: 'DELETE', url: url(id, '/draft_messages'), token: admin.token })).statusCode, 200);
    assert.deepEqual((await t.request({ method: 'GET', url: url(id, '/draft_messages'), token: admin.token })).json(), { has_draft: false });
  });
});
