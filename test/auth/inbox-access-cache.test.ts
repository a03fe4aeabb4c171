import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp, type TestUser } from '../helpers.js';
import { createConversation, makeContact, makeInbox } from '../modules/conversations/fixtures.js';

/**
 * Which inboxes an agent may act in is cached under the auth epoch (migration 0011 makes
 * inbox_members and inboxes move it). Granting or revoking membership — through the API or
 * straight into the database, as another process would — must decide the very next request.
 */
describe('inbox access: cached, and exact after membership changes', () => {
  let t: TestApp;
  let accountId: number;
  let admin: TestUser;
  let agent: TestUser;
  let inboxId: number;
  let displayId: number;
  const url = () => `/api/v1/accounts/${accountId}`;

  const agentSees = async (): Promise<{ messages: number; list: number[]; inboxes: number[] }> => {
    const messages = await t.request({ method: 'GET', url: `${url()}/conversations/${displayId}/messages`, token: agent.token });
    const list = await t.request({ method: 'GET', url: `${url()}/conversations?status=all`, token: agent.token });
    const inboxes = await t.request({ method: 'GET', url: `${url()}/inboxes`, token: agent.token });
    assert.equal(list.statusCode, 200, list.body);
    assert.equal(inboxes.statusCode, 200, inboxes.body);
    return {
      messages: messages.statusCode,
      list: list.json().data.payload.map((c: { id: number }) => c.id),
      inboxes: inboxes.json().payload.map((i: { id: number }) => i.id),
    };
  };
  const granted = { messages: 200, list: [] as number[], inboxes: [] as number[] };
  const revoked = { messages: 401, list: [] as number[], inboxes: [] as number[] };

  before(async () => {
    t = await startTestApp();
    const seed = await t.seedAccount();
    accountId = seed.account.id;
    admin = seed.admin;
    agent = seed.agent;
    const inbox = await makeInbox(t, accountId, { members: [agent.user.id] });
    inboxId = inbox.id;
    const contact = await makeContact(t, accountId, { name: 'Alice' });
    displayId = (await createConversation(t, accountId, admin, { inbox_id: inboxId, contact_id: contact.id })).id;
    granted.list = [displayId];
    granted.inboxes = [inboxId];
  });
  after(() => t.close());

  test('a member sees the inbox, repeatedly', async () => {
    assert.deepEqual(await agentSees(), granted);
    assert.deepEqual(await agentSees(), granted);
  });

  test('removed through the API: no access on the next request; added back: access again', async () => {
    const removed = await t.request({ method: 'DELETE', url: `${url()}/inbox_members`, token: admin.token, payload: { inbox_id: inboxId, user_ids: [agent.user.id] } });
    assert.equal(removed.statusCode, 200, removed.body);
    assert.deepEqual(await agentSees(), revoked);
    const added = await t.request({ method: 'POST', url: `${url()}/inbox_members`, token: admin.token, payload: { inbox_id: inboxId, user_ids: [agent.user.id] } });
    assert.equal(added.statusCode, 200, added.body);
    assert.deepEqual(await agentSees(), granted);
  });

  test('changed straight in the database (another process): the next request sees it', async () => {
    assert.deepEqual(await agentSees(), granted);
    await t.ctx.db.deleteFrom('inbox_members').where('inbox_id', '=', inboxId).where('user_id', '=', agent.user.id).execute();
    assert.deepEqual(await agentSees(), revoked);
    const now = Date.now();
    await t.ctx.db.insertInto('inbox_members').values({ inbox_id: inboxId, user_id: agent.user.id, created_at: now, updated_at: now }).execute();
    assert.deepEqual(await agentSees(), granted);
  });
});
