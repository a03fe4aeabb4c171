import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp, type TestUser } from '../../helpers.js';
import { clearPresence, markPresent } from '../../../src/realtime/presence.js';
import { fillFragment, toFragment } from '../../../src/modules/conversations/fragments.js';
import { createConversation, makeContact, makeInbox, makeTeam } from './fixtures.js';

/**
 * The list serves items from its render cache (conversations/fragments.ts). Every change an item
 * shows must reach the next list, written through the API or straight into the database (another
 * process), and a cached item must be what a fresh render gives (the filter endpoint renders
 * afresh, with the same partial).
 */
describe('GET /conversations: cached items stay exact', () => {
  let t: TestApp;
  let accountId: number;
  let admin: TestUser;
  let agent: TestUser;
  let displayId: number;
  let contactId: number;
  let teamId: number;
  const url = () => `/api/v1/accounts/${accountId}`;

  const listItem = async (user: TestUser = admin) => {
    const res = await t.request({ method: 'GET', url: `${url()}/conversations`, token: user.token });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const item = res.json().data.payload.find((c: { id: number }) => c.id === displayId);
    assert.ok(item, 'the conversation is listed');
    return item;
  };
  /** The same conversation rendered without the cache. */
  const freshItem = async (user: TestUser = admin) => {
    const res = await t.request({
      method: 'POST',
      url: `${url()}/conversations/filter`,
      token: user.token,
      payload: { payload: [{ attribute_key: 'status', filter_operator: 'equal_to', values: ['open'], query_operator: null }] },
    });
    assert.equal(res.statusCode, 200, res.body);
    return res.json().payload.find((c: { id: number }) => c.id === displayId);
  };
  const shownItem = async (user: TestUser = admin) => {
    const res = await t.request({ method: 'GET', url: `${url()}/conversations/${displayId}`, token: user.token });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    return res.json();
  };
  /** The list and the show page (both served from the cache) against a fresh render. */
  const assertFresh = async (user: TestUser = admin) => {
    const cached = await listItem(user);
    const fresh = await freshItem(user);
    assert.deepEqual(cached, fresh);
    assert.deepEqual(await shownItem(user), fresh);
    return cached;
  };

  before(async () => {
    clearPresence();
    t = await startTestApp();
    const seed = await t.seedAccount();
    accountId = seed.account.id;
    admin = seed.admin;
    agent = seed.agent;
    const inbox = await makeInbox(t, accountId, { members: [agent.user.id, admin.user.id] });
    const team = await makeTeam(t, accountId, 'tier2', [admin.user.id], false);
    teamId = team.id;
    const contact = await makeContact(t, accountId, { name: 'Alice Smith', email: 'alice@example.com' });
    contactId = contact.id;
    const c = await createConversation(t, accountId, admin, { inbox_id: inbox.id, contact_id: contact.id, message: { content: 'first', message_type: 'incoming' } });
    displayId = c.id;
    const toTeam = await t.request({ method: 'POST', url: `${url()}/conversations/${displayId}/assignments`, token: admin.token, payload: { team_id: team.id } });
    assert.equal(toTeam.statusCode, 200, toTeam.body);
    const assign = await t.request({ method: 'POST', url: `${url()}/conversations/${displayId}/assignments`, token: admin.token, payload: { assignee_id: agent.user.id } });
    assert.equal(assign.statusCode, 200, assign.body);
  });
  after(() => t.close());

  test('a repeated list is the fresh rendering', async () => {
    const first = await assertFresh();
    assert.deepEqual(await listItem(), first);
    assert.equal(first.meta.sender.name, 'Alice Smith');
    assert.equal(first.meta.team.is_member, true);
    assert.equal(first.meta.assignee.id, agent.user.id);
  });

  test('the viewer decides meta.team.is_member (keyed, not shared)', async () => {
    assert.equal((await listItem(admin)).meta.team.is_member, true);
    assert.equal((await listItem(agent)).meta.team.is_member, false);
    assert.equal((await listItem(admin)).meta.team.is_member, true);
  });

  test('a new message moves the last message and the timestamps', async () => {
    const res = await t.request({ method: 'POST', url: `${url()}/conversations/${displayId}/messages`, token: admin.token, payload: { content: 'second reply' } });
    assert.equal(res.statusCode, 200, res.body);
    const item = await assertFresh();
    assert.equal(item.last_non_activity_message.content, 'second reply');
  });

  test('contact, agent, team, conversation and message changes reach the item, whoever writes them', async () => {
    const put = await t.request({ method: 'PUT', url: `${url()}/contacts/${contactId}`, token: admin.token, payload: { name: 'Alice Renamed' } });
    assert.equal(put.statusCode, 200, put.body);
    assert.equal((await assertFresh()).meta.sender.name, 'Alice Renamed');

    // Straight into the database, as another process would.
    await t.ctx.db.updateTable('users').set({ name: 'Agent Renamed' }).where('id', '=', agent.user.id).execute();
    assert.equal((await assertFresh()).meta.assignee.name, 'Agent Renamed');
    await t.ctx.db.updateTable('teams').set({ name: 'tier3' }).where('id', '=', teamId).execute();
    assert.equal((await assertFresh()).meta.team.name, 'tier3');
    await t.ctx.db.updateTable('contacts').set({ blocked: 1 }).where('id', '=', contactId).execute();
    assert.equal((await assertFresh()).muted, true);
    await t.ctx.db.updateTable('conversations').set({ custom_attributes: '{"tier":"gold"}' }).where('account_id', '=', accountId).where('display_id', '=', displayId).execute();
    assert.deepEqual((await assertFresh()).custom_attributes, { tier: 'gold' });
    await t.ctx.db.deleteFrom('messages').where('content', '=', 'second reply').execute();
    assert.equal((await assertFresh()).last_non_activity_message.content, 'first');
    // A message written without the reply's bookkeeping (which moves the version itself, 0670).
    const conv = await t.ctx.db.selectFrom('conversations').selectAll().where('account_id', '=', accountId).where('display_id', '=', displayId).executeTakeFirstOrThrow();
    await t.ctx.db
      .insertInto('messages')
      .values({ account_id: accountId, inbox_id: conv.inbox_id, conversation_id: conv.id, content: 'written by hand', message_type: 0, created_at: Date.now(), updated_at: Date.now() })
      .execute();
    assert.equal((await assertFresh()).last_non_activity_message.content, 'written by hand');
    await t.ctx.db.deleteFrom('messages').where('content', '=', 'written by hand').execute();
    assert.equal((await assertFresh()).last_non_activity_message.content, 'first');
  });

  test('availability is decided when served, not when cached', async () => {
    await t.ctx.db.updateTable('account_users').set({ auto_offline: 1, availability: 0 }).where('user_id', '=', agent.user.id).execute();
    clearPresence();
    assert.equal((await listItem()).meta.assignee.availability_status, 'offline');
    markPresent(accountId, 'User', agent.user.id);
    assert.equal((await listItem()).meta.assignee.availability_status, 'online');
    markPresent(accountId, 'Contact', contactId);
    assert.equal((await listItem()).meta.sender.availability_status, 'online');
    await assertFresh();
    clearPresence();
  });

  test('the messages page shows a sending agent as they are now (cached senders)', async () => {
    const page = async () => {
      const res = await t.request({ method: 'GET', url: `${url()}/conversations/${displayId}/messages`, token: admin.token });
      assert.equal(res.statusCode, 200, res.body);
      return res.json().payload.find((m: { sender?: { type?: string } }) => m.sender?.type === 'user');
    };
    const posted = await t.request({ method: 'POST', url: `${url()}/conversations/${displayId}/messages`, token: admin.token, payload: { content: 'from the admin' } });
    assert.equal(posted.statusCode, 200, posted.body);
    assert.equal((await page()).sender.name, admin.user.name);
    await t.ctx.db.updateTable('users').set({ name: 'Admin Renamed', display_name: null }).where('id', '=', admin.user.id).execute();
    const after = await page();
    assert.equal(after.sender.name, 'Admin Renamed');
    assert.equal(after.sender.available_name, 'Admin Renamed');
  });

  test('stored text cannot pose as a presence hole', () => {
    const item = { a: '"\\u0001deadbeef:0"', availability_status: 'online', nested: { text: '\u0001x:1' } };
    assert.equal(Buffer.concat(fillFragment(toFragment(item))).toString(), JSON.stringify(item));
  });
});
