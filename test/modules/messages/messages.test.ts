import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp, type TestUser } from '../../helpers.js';
import type { Row } from '../../../src/db/types.js';
import { createAgentBot, createContact, createConversation, createInbox, insertMessages, reloadConversation } from './fixtures.js';

let t: TestApp;
let account: Row<'accounts'>;
let admin: TestUser;
let agent: TestUser;
let inbox: Row<'inboxes'>;

before(async () => {
  t = await startTestApp();
  ({ account, admin, agent } = await t.seedAccount());
  inbox = await createInbox(t, account.id, { memberIds: [agent.user.id] });
});
after(async () => {
  await t.close();
});

const messagesUrl = (c: Row<'conversations'>, accountId = account.id) => `/api/v1/accounts/${accountId}/conversations/${c.display_id}/messages`;

async function post(c: Row<'conversations'>, payload: Record<string, unknown>, token = admin.token) {
  return t.request({ method: 'POST', url: messagesUrl(c), token, payload });
}

type OutgoingFixture = { sender_type: string | null; private?: number; additional_attributes?: Record<string, unknown> };

/** Outgoing messages written straight into the conversation, oldest first. */
async function insertOutgoing(conversation: Row<'conversations'>, messages: OutgoingFixture[]): Promise<void> {
  if (messages.length === 0) return;
  const at = Date.now() - 120_000;
  await t.ctx.db
    .insertInto('messages')
    .values(
      messages.map((m, i) => ({
        account_id: conversation.account_id,
        inbox_id: conversation.inbox_id,
        conversation_id: conversation.id,
        content: `earlier ${i}`,
        message_type: 1,
        private: m.private ?? 0,
        sender_type: m.sender_type,
        sender_id: m.sender_type === null ? null : 1,
        additional_attributes: JSON.stringify(m.additional_attributes ?? {}),
        created_at: at + i,
        updated_at: at + i,
      })),
    )
    .execute();
}

describe('GET messages', () => {
  test('latest 20, oldest first, with the conversation meta', async () => {
    const { conversation, contact } = await createConversation(t, account.id, inbox, { assigneeId: agent.user.id });
    const ids = await insertMessages(t, conversation, 25);
    const res = await t.request({ method: 'GET', url: messagesUrl(conversation), token: agent.token });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.deepEqual(
      body.payload.map((m: { id: number }) => m.id),
      ids.slice(5),
    );
    assert.deepEqual(body.meta.labels, []);
    assert.deepEqual(body.meta.additional_attributes, {});
    assert.equal(body.meta.contact.id, contact.id);
    assert.equal(body.meta.contact.type, 'contact');
    assert.equal(body.meta.contact.name, contact.name);
    assert.equal(body.meta.assignee.id, agent.user.id);
    assert.equal(body.meta.assignee.type, 'user');
    assert.equal(body.meta.agent_last_seen_at, null);
    assert.equal(body.meta.assignee_last_seen_at, null);
    const m = body.payload[0];
    assert.deepEqual(Object.keys(m).sort(), [
      'content', 'content_attributes', 'content_type', 'conversation_id', 'created_at', 'id', 'inbox_id', 'message_type',
      'private', 'sender', 'source_id', 'status',
    ]);
    assert.equal(m.conversation_id, conversation.display_id);
    assert.equal(m.message_type, 0);
    assert.equal(m.content_type, 'text');
    assert.equal(m.status, 'sent');
    assert.equal(m.private, false);
    assert.equal(typeof m.created_at, 'number');
    assert.ok(m.created_at < 1e11, 'created_at is in seconds');
    assert.equal(m.sender.type, 'contact');
  });

  test('no assignee key when unassigned; empty payload for an empty conversation', async () => {
    const { conversation } = await createConversation(t, account.id, inbox);
    const res = await t.request({ method: 'GET', url: messagesUrl(conversation), token: admin.token });
    assert.equal(res.statusCode, 200);
    assert.equal('assignee' in res.json().meta, false);
    assert.deepEqual(res.json().payload, []);
  });

  test('before: the 20 older than an id; after: up to 100 newer; both: the range', async () => {
    const { conversation } = await createConversation(t, account.id, inbox);
    const ids = await insertMessages(t, conversation, 130);
    const beforeRes = await t.request({ method: 'GET', url: `${messagesUrl(conversation)}?before=${ids[50]}`, token: admin.token });
    assert.deepEqual(
      beforeRes.json().payload.map((m: { id: number }) => m.id),
      ids.slice(30, 50),
    );
    const fewOlder = await t.request({ method: 'GET', url: `${messagesUrl(conversation)}?before=${ids[3]}`, token: admin.token });
    assert.deepEqual(
      fewOlder.json().payload.map((m: { id: number }) => m.id),
      ids.slice(0, 3),
    );
    const afterRes = await t.request({ method: 'GET', url: `${messagesUrl(conversation)}?after=${ids[0]}`, token: admin.token });
    assert.equal(afterRes.json().payload.length, 100);
    assert.deepEqual(
      afterRes.json().payload.map((m: { id: number }) => m.id),
      ids.slice(1, 101),
    );
    const tail = await t.request({ method: 'GET', url: `${messagesUrl(conversation)}?after=${ids[120]}`, token: admin.token });
    assert.deepEqual(
      tail.json().payload.map((m: { id: number }) => m.id),
      ids.slice(121),
    );
    const between = await t.request({ method: 'GET', url: `${messagesUrl(conversation)}?after=${ids[10]}&before=${ids[15]}`, token: admin.token });
    assert.deepEqual(
      between.json().payload.map((m: { id: number }) => m.id),
      ids.slice(10, 15),
    );
    const junk = await t.request({ method: 'GET', url: `${messagesUrl(conversation)}?before=abc`, token: admin.token });
    assert.equal(junk.statusCode, 200);
    assert.deepEqual(junk.json().payload, []);
  });

  test('filter_internal_messages leaves out private notes and activities', async () => {
    const { conversation } = await createConversation(t, account.id, inbox);
    await post(conversation, { content: 'note', private: true });
    await post(conversation, { content: 'activity', message_type: 'activity' });
    await post(conversation, { content: 'public' });
    const all = await t.request({ method: 'GET', url: messagesUrl(conversation), token: admin.token });
    assert.equal(all.json().payload.length, 3);
    const res = await t.request({ method: 'GET', url: `${messagesUrl(conversation)}?filter_internal_messages=true`, token: admin.token });
    assert.deepEqual(
      res.json().payload.map((m: { content: string }) => m.content),
      ['public'],
    );
  });
});

describe('POST messages', () => {
  test('outgoing by default, sent by the current user, echo_id echoed', async () => {
    const { conversation } = await createConversation(t, account.id, inbox);
    const res = await post(conversation, { content: 'Hello <script>alert(1)</script>', echo_id: 'tmp-1' }, agent.token);
    assert.equal(res.statusCode, 200);
    const m = res.json();
    assert.equal(m.content, 'Hello <script>alert(1)</script>', 'stored and returned as sent');
    assert.equal(m.message_type, 1);
    assert.equal(m.echo_id, 'tmp-1');
    assert.equal(m.content_type, 'text');
    assert.equal(m.status, 'sent');
    assert.equal(m.private, false);
    assert.equal(m.sender.id, agent.user.id);
    assert.equal(m.sender.type, 'user');
    assert.equal(m.sender.available_name, agent.user.name);
    assert.equal(m.conversation_id, conversation.display_id);
    assert.ok(res.headers['content-type']?.toString().startsWith('application/json'));
  });

  test('every message type renders as Chatwoot renders it', async () => {
    const { conversation, contact } = await createConversation(t, account.id, inbox);
    const expected: Record<string, [number, string]> = {
      incoming: [0, 'contact'],
      outgoing: [1, 'user'],
      activity: [2, 'contact'],
      template: [3, 'contact'],
    };
    for (const [name, [code, senderType]] of Object.entries(expected)) {
      const res = await post(conversation, { content: name, message_type: name });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().message_type, code);
      assert.equal(res.json().sender.type, senderType, name);
      if (senderType === 'contact') assert.equal(res.json().sender.id, contact.id);
    }
    const bad = await post(conversation, { content: 'x', message_type: 'bogus' });
    assert.equal(bad.statusCode, 422);
    assert.deepEqual(bad.json(), { error: "'bogus' is not a valid message_type" });
  });

  test('incoming messages only in API inboxes', async () => {
    const widget = await createInbox(t, account.id, { channel: 'web_widget' });
    const { conversation } = await createConversation(t, account.id, widget);
    const res = await post(conversation, { content: 'hi', message_type: 'incoming' });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { error: 'Incoming messages are only allowed in Api inboxes' });
    const count = await t.ctx.db.selectFrom('messages').select('id').where('conversation_id', '=', conversation.id).execute();
    assert.equal(count.length, 0);
  });

  test('every content type with its content attributes', async () => {
    const { conversation } = await createConversation(t, account.id, inbox);
    const cases: [string, Record<string, unknown>][] = [
      ['text', {}],
      ['input_email', {}],
      ['input_csat', {}],
      ['input_select', { items: [{ title: 'Yes', value: 'yes' }, { title: 'No', value: 'no' }] }],
      ['cards', { items: [{ title: 'Card', description: 'd', media_url: 'https://x/y.png', actions: [{ type: 'link', text: 'Open', uri: 'https://x' }] }] }],
      ['form', { items: [{ name: 'email', type: 'email', label: 'Email', placeholder: 'you@x', required: true }] }],
      ['article', { items: [{ title: 'How to', description: 'Steps', link: 'https://help/1' }] }],
    ];
    for (const [contentType, attrs] of cases) {
      const res = await post(conversation, { content: contentType, content_type: contentType, content_attributes: attrs });
      assert.equal(res.statusCode, 200, `${contentType}: ${res.body}`);
      assert.equal(res.json().content_type, contentType);
      assert.deepEqual(res.json().content_attributes, attrs);
    }
    const asString = await post(conversation, { content_type: 'input_select', content_attributes: JSON.stringify({ items: [{ title: 'a', value: 'a' }] }) });
    assert.equal(asString.statusCode, 200);
    assert.deepEqual(asString.json().content_attributes, { items: [{ title: 'a', value: 'a' }] });
  });

  test('structured content types are validated like ContentAttributeValidator', async () => {
    const { conversation } = await createConversation(t, account.id, inbox);
    const missing = await post(conversation, { content_type: 'input_select', content_attributes: {} });
    assert.equal(missing.statusCode, 422);
    assert.deepEqual(missing.json(), { error: 'Validation failed: Content attributes At least one item is required.' });
    const badKeys = await post(conversation, { content_type: 'article', content_attributes: { items: [{ title: 'x', evil: 1 }] } });
    assert.equal(badKeys.statusCode, 422);
    assert.match(badKeys.json().error, /contains invalid keys for items : \[:evil\]/);
    const noActions = await post(conversation, { content_type: 'cards', content_attributes: { items: [{ title: 'x' }] } });
    assert.equal(noActions.statusCode, 422);
    assert.match(noActions.json().error, /contains items missing actions/);
    const badType = await post(conversation, { content: 'x', content_type: 'html' });
    assert.equal(badType.statusCode, 422);
    assert.deepEqual(badType.json(), { error: "'html' is not a valid content_type" });
    const tooLong = await post(conversation, { content: 'x'.repeat(150_001) });
    assert.equal(tooLong.statusCode, 422);
    assert.deepEqual(tooLong.json(), { error: 'Validation failed: Content is too long (maximum is 150000 characters)' });
    const wrongShape = await post(conversation, { content: { nested: true } });
    assert.equal(wrongShape.statusCode, 400);
  });

  test('form-encoded posts work like Rails params', async () => {
    const { conversation } = await createConversation(t, account.id, inbox);
    const res = await t.request({
      method: 'POST',
      url: messagesUrl(conversation),
      token: admin.token,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'content=hello+form&private=true&content_type=input_select&content_attributes[items][][title]=A&content_attributes[items][][value]=a',
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().content, 'hello form');
    assert.equal(res.json().private, true);
    assert.deepEqual(res.json().content_attributes, { items: [{ title: 'A', value: 'a' }] });
  });

  test('message flooding is refused like Chatwoot (200 a minute per conversation)', async () => {
    const { conversation } = await createConversation(t, account.id, inbox);
    await insertMessages(t, conversation, 200);
    const res = await post(conversation, { content: 'one too many' });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { error: 'Validation failed: Too many messages' });
  });

  test('template_params and campaign_id land in additional_attributes', async () => {
    const { conversation } = await createConversation(t, account.id, inbox);
    const params = { name: 'order_update', category: 'UTILITY', language: 'en', processed_params: { 1: 'ABC' } };
    const res = await post(conversation, { content: 'Your order', template_params: params, campaign_id: 7 });
    assert.equal(res.statusCode, 200);
    const row = await t.ctx.db.selectFrom('messages').selectAll().where('id', '=', res.json().id).executeTakeFirstOrThrow();
    const additional = typeof row.additional_attributes === 'string' ? JSON.parse(row.additional_attributes) : row.additional_attributes;
    assert.deepEqual(additional, { campaign_id: 7, template_params: params });
    const bad = await post(conversation, { content: 'x', template_params: { language: 'en' } });
    assert.equal(bad.statusCode, 422);
    assert.deepEqual(bad.json(), { error: 'Validation failed: Name is required' });
  });

  test('private notes are stored private and never clear waiting_since', async () => {
    const waiting = Date.now() - 60_000;
    const { conversation } = await createConversation(t, account.id, inbox, { waitingSince: waiting });
    const res = await post(conversation, { content: 'internal', private: true }, agent.token);
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().private, true);
    const after = await reloadConversation(t, conversation.id);
    assert.equal(after.waiting_since, waiting);
    assert.equal(after.first_reply_created_at, null);
  });
});

describe('conversation bookkeeping', () => {
  test('incoming sets waiting_since; the first human reply sets first_reply_created_at once and clears it', async () => {
    const { conversation, contact } = await createConversation(t, account.id, inbox);
    const incoming = await post(conversation, { content: 'help', message_type: 'incoming' });
    let conv = await reloadConversation(t, conversation.id);
    assert.ok(conv.waiting_since !== null);
    assert.ok(conv.last_activity_at >= conversation.last_activity_at);
    const c = await t.ctx.db.selectFrom('contacts').select('last_activity_at').where('id', '=', contact.id).executeTakeFirstOrThrow();
    assert.ok(c.last_activity_at !== null, 'contact activity recorded');
    assert.equal(incoming.statusCode, 200);

    const reply = await post(conversation, { content: 'on it' }, agent.token);
    conv = await reloadConversation(t, conversation.id);
    assert.equal(conv.waiting_since, null);
    assert.ok(conv.first_reply_created_at !== null);
    assert.equal(Math.floor(conv.first_reply_created_at! / 1000), reply.json().created_at);
    const first = conv.first_reply_created_at;

    await post(conversation, { content: 'again', message_type: 'incoming' });
    conv = await reloadConversation(t, conversation.id);
    assert.ok(conv.waiting_since !== null);
    await post(conversation, { content: 'second reply' }, agent.token);
    conv = await reloadConversation(t, conversation.id);
    assert.equal(conv.first_reply_created_at, first, 'first reply is set only once');
    assert.equal(conv.waiting_since, null, 'a human reply clears waiting_since');
  });

  test('a bot reply clears waiting_since without counting as the first reply', async () => {
    const { conversation } = await createConversation(t, account.id, inbox);
    const { token } = await createAgentBot(t, account.id);
    await post(conversation, { content: 'help', message_type: 'incoming' });
    const res = await post(conversation, { content: 'bot here' }, token);
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().sender.type, 'agent_bot');
    const conv = await reloadConversation(t, conversation.id);
    assert.equal(conv.waiting_since, null);
    assert.equal(conv.first_reply_created_at, null);
  });

  // The first reply counts the human messages among the first 100 outgoing public ones, the new one
  // included. PostgreSQL decides it in the reply's one statement (reply-statement.ts), SQLite in
  // its transaction: both must agree with these.
  const campaignCases: [string, unknown, boolean][] = [
    ['a number', 5, true],
    ['a blank string', '', false],
    ['spaces', '  ', false],
    ['a string', 'spring', true],
    ['an empty array', [], false],
    ['an array', [1], true],
    ['false', false, false],
    ['true', true, true],
    ['an empty object', {}, false],
    ['an object', { id: 1 }, true],
    ['null', null, false],
  ];
  for (const [name, campaignId, excluded] of campaignCases) {
    test(`an earlier outgoing message with campaign_id ${name} ${excluded ? 'does not count' : 'counts'} as a human reply`, async () => {
      const { conversation } = await createConversation(t, account.id, inbox);
      await insertOutgoing(conversation, [{ sender_type: 'User', additional_attributes: { campaign_id: campaignId } }]);
      await post(conversation, { content: 'help', message_type: 'incoming' });
      const res = await post(conversation, { content: 'on it' }, agent.token);
      assert.equal(res.statusCode, 200);
      const conv = await reloadConversation(t, conversation.id);
      assert.equal(conv.first_reply_created_at !== null, excluded);
      assert.equal(conv.waiting_since, null, 'a public human reply clears waiting_since either way');
    });
  }

  test('the first reply: bots and private notes do not count, a sender-less outgoing message does, and only the first 100 are read', async () => {
    const cases: [string, OutgoingFixture[], boolean][] = [
      ['nothing earlier', [], true],
      ['an agent bot', [{ sender_type: 'AgentBot' }], true],
      ['a private note', [{ sender_type: 'User', private: 1 }], true],
      ['an agent', [{ sender_type: 'User' }], false],
      ['no sender', [{ sender_type: null }], false],
      // The new message is not among the first 100: one human among them leaves it the first reply.
      ['99 bots, then an agent', [...Array.from({ length: 99 }, () => ({ sender_type: 'AgentBot' })), { sender_type: 'User' }], true],
      ['98 bots, then an agent', [...Array.from({ length: 98 }, () => ({ sender_type: 'AgentBot' })), { sender_type: 'User' }], false],
    ];
    for (const [name, earlier, first] of cases) {
      const { conversation } = await createConversation(t, account.id, inbox);
      await insertOutgoing(conversation, earlier);
      const res = await post(conversation, { content: 'on it' }, agent.token);
      assert.equal(res.statusCode, 200, name);
      const conv = await reloadConversation(t, conversation.id);
      assert.equal(conv.first_reply_created_at === null ? null : Math.floor(conv.first_reply_created_at / 1000), first ? res.json().created_at : null, name);
    }
  });

  test('replies sent together to one conversation are all stored, in order, and its activity never moves back', async () => {
    const { conversation } = await createConversation(t, account.id, inbox);
    const before = await reloadConversation(t, conversation.id);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => post(conversation, { content: `together ${i}` }, agent.token)));
    assert.deepEqual(
      answers.map((a) => a.statusCode),
      answers.map(() => 200),
    );
    const rows = await t.ctx.db.selectFrom('messages').select(['id', 'created_at']).where('conversation_id', '=', conversation.id).orderBy('id').execute();
    assert.equal(rows.length, 20);
    for (let i = 1; i < rows.length; i++) assert.ok(rows[i].created_at >= rows[i - 1].created_at, 'created_at follows the ids');
    const conv = await reloadConversation(t, conversation.id);
    assert.equal(conv.last_activity_at, rows[rows.length - 1].created_at);
    if (t.ctx.config.engine === 'postgres') assert.equal(conv.render_version, before.render_version + 20);
  });

  test("a reply moves its conversation's render version (once on PostgreSQL) and its activity", async () => {
    const { conversation } = await createConversation(t, account.id, inbox);
    const before = await reloadConversation(t, conversation.id);
    const res = await post(conversation, { content: 'on it' }, agent.token);
    assert.equal(res.statusCode, 200);
    const conv = await reloadConversation(t, conversation.id);
    if (t.ctx.config.engine === 'postgres') assert.equal(conv.render_version, before.render_version + 1);
    else assert.ok(conv.render_version > before.render_version);
    assert.equal(Math.floor(conv.last_activity_at / 1000), res.json().created_at);
    assert.ok(conv.updated_at >= before.updated_at);
  });

  test('an incoming message reopens a resolved conversation with the system activity message', async () => {
    const { conversation } = await createConversation(t, account.id, inbox, { status: 'resolved' });
    const res = await post(conversation, { content: 'me again', message_type: 'incoming' });
    assert.equal(res.statusCode, 200);
    const conv = await reloadConversation(t, conversation.id);
    assert.equal(conv.status, 0);
    const list = await t.request({ method: 'GET', url: messagesUrl(conversation), token: admin.token });
    const contents = list.json().payload.map((m: { content: string; message_type: number }) => [m.message_type, m.content]);
    assert.deepEqual(contents, [
      [0, 'me again'],
      [2, 'System reopened the conversation due to a new incoming message.'],
    ]);
  });

  test('an incoming message unsnoozes a snoozed conversation', async () => {
    const { conversation } = await createConversation(t, account.id, inbox, { status: 'snoozed', snoozedUntil: Date.now() + 86_400_000 });
    await post(conversation, { content: 'wake up', message_type: 'incoming' });
    const conv = await reloadConversation(t, conversation.id);
    assert.equal(conv.status, 0);
    assert.equal(conv.snoozed_until, null);
    const activity = await t.ctx.db
      .selectFrom('messages')
      .select('content')
      .where('conversation_id', '=', conversation.id)
      .where('message_type', '=', 2)
      .execute();
    assert.deepEqual(
      activity.map((a) => a.content),
      [`Conversation was reopened by ${admin.user.name}`],
    );
  });

  test('a resolved conversation with an active agent bot goes to pending; a blocked contact does not reopen', async () => {
    const botInbox = await createInbox(t, account.id);
    await createAgentBot(t, account.id, botInbox.id);
    const { conversation } = await createConversation(t, account.id, botInbox, { status: 'resolved' });
    await post(conversation, { content: 'hi', message_type: 'incoming' });
    assert.equal((await reloadConversation(t, conversation.id)).status, 2);

    const blocked = await createContact(t, account.id, { blocked: true });
    const { conversation: muted } = await createConversation(t, account.id, inbox, { status: 'resolved', contact: blocked });
    await post(muted, { content: 'spam', message_type: 'incoming' });
    assert.equal((await reloadConversation(t, muted.id)).status, 1);
  });

  test('outgoing messages do not reopen a resolved conversation', async () => {
    const { conversation } = await createConversation(t, account.id, inbox, { status: 'resolved' });
    await post(conversation, { content: 'follow-up' });
    assert.equal((await reloadConversation(t, conversation.id)).status, 1);
  });
});

describe('PATCH and DELETE', () => {
  test('status updates on API inboxes; read never goes back to delivered; failed keeps external_error', async () => {
    const { conversation } = await createConversation(t, account.id, inbox);
    const m = (await post(conversation, { content: 'x' })).json();
    const url = `${messagesUrl(conversation)}/${m.id}`;
    let res = await t.request({ method: 'PATCH', url, token: admin.token, payload: { status: 'read' } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().status, 'read');
    res = await t.request({ method: 'PATCH', url, token: admin.token, payload: { status: 'delivered' } });
    assert.equal(res.json().status, 'read');
    res = await t.request({ method: 'PATCH', url, token: admin.token, payload: { status: 'failed', external_error: 'Provider said no' } });
    assert.equal(res.json().status, 'failed');
    assert.equal(res.json().content_attributes.external_error, 'Provider said no');
    res = await t.request({ method: 'PATCH', url, token: admin.token, payload: { status: 'nonsense' } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().status, 'failed');

    const widget = await createInbox(t, account.id, { channel: 'web_widget' });
    const { conversation: wc } = await createConversation(t, account.id, widget);
    const wm = (await post(wc, { content: 'x' })).json();
    res = await t.request({ method: 'PATCH', url: `${messagesUrl(wc)}/${wm.id}`, token: admin.token, payload: { status: 'read' } });
    assert.equal(res.statusCode, 403);
    assert.deepEqual(res.json(), { error: 'Message status update is only allowed for API inboxes' });
  });

  test('delete is a soft delete with Chatwoot shape', async () => {
    const { conversation } = await createConversation(t, account.id, inbox);
    const m = (await post(conversation, { content: 'oops', content_type: 'input_select', content_attributes: { items: [{ title: 'a', value: 'b' }] } })).json();
    const res = await t.request({ method: 'DELETE', url: `${messagesUrl(conversation)}/${m.id}`, token: agent.token });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.id, m.id);
    assert.equal(body.content, 'This message was deleted');
    assert.equal(body.content_type, 'text');
    assert.deepEqual(body.content_attributes, { deleted: true });
    const missing = await t.request({ method: 'DELETE', url: `${messagesUrl(conversation)}/999999`, token: admin.token });
    assert.equal(missing.statusCode, 404);
    assert.deepEqual(missing.json(), { error: 'Resource could not be found' });
  });
});

describe('who may do what', () => {
  test('an agent outside the inbox is refused (401); administrators see everything', async () => {
    const other = await createInbox(t, account.id);
    const { conversation } = await createConversation(t, account.id, other);
    const get = await t.request({ method: 'GET', url: messagesUrl(conversation), token: agent.token });
    assert.equal(get.statusCode, 401);
    assert.deepEqual(get.json(), { error: 'You are not authorized to do this action' });
    const create = await post(conversation, { content: 'x' }, agent.token);
    assert.equal(create.statusCode, 401);
    const adminGet = await t.request({ method: 'GET', url: messagesUrl(conversation), token: admin.token });
    assert.equal(adminGet.statusCode, 200);
  });

  test('a reply is authorized on its locked read: through a team, refused (401) before its body is checked (422), nothing written', async () => {
    const other = await createInbox(t, account.id);
    const { conversation } = await createConversation(t, account.id, other);
    const count = async () => Number((await t.ctx.db.selectFrom('messages').select((eb) => eb.fn.countAll().as('n')).where('conversation_id', '=', conversation.id).executeTakeFirstOrThrow()).n);
    // Outside the inbox and its team: 401, even with a body that would be a 422.
    const refused = await post(conversation, { content: 'x', content_type: 'input_select', content_attributes: {} }, agent.token);
    assert.equal(refused.statusCode, 401);
    assert.deepEqual(refused.json(), { error: 'You are not authorized to do this action' });
    assert.equal(await count(), 0);
    // A missing conversation is a 404 before the body is looked at.
    const missing = await t.request({ method: 'POST', url: `/api/v1/accounts/${account.id}/conversations/987654/messages`, token: admin.token, payload: { content: 'x', content_type: 'input_select', content_attributes: {} } });
    assert.equal(missing.statusCode, 404);
    // A member of the conversation's team may reply (the team is looked up inside the transaction).
    const team = (await t.request({ method: 'POST', url: `/api/v1/accounts/${account.id}/teams`, token: admin.token, payload: { name: `replies ${conversation.id}` } })).json();
    const added = await t.request({ method: 'POST', url: `/api/v1/accounts/${account.id}/teams/${team.id}/team_members`, token: admin.token, payload: { user_ids: [agent.user.id] } });
    assert.equal(added.statusCode, 200, added.body);
    await t.ctx.db.updateTable('conversations').set({ team_id: team.id }).where('id', '=', conversation.id).execute();
    const invalid = await post(conversation, { content: 'x', content_type: 'input_select', content_attributes: {} }, agent.token);
    assert.equal(invalid.statusCode, 422);
    assert.equal(await count(), 0);
    const ok = await post(conversation, { content: 'through the team' }, agent.token);
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(ok.json().conversation_id, conversation.display_id);
    assert.equal(ok.json().sender.id, agent.user.id);
    assert.equal(await count(), 1);
    // The bookkeeping ran on the locked row: last_activity_at is the message's.
    assert.equal(Math.floor(Number((await reloadConversation(t, conversation.id)).last_activity_at) / 1000), ok.json().created_at);
  });

  test("another account's conversation or message is a 404; no token is a 401", async () => {
    const { conversation } = await createConversation(t, account.id, inbox);
    const m = (await post(conversation, { content: 'mine' })).json();
    const second = await t.seedAccount();
    const theirInbox = await createInbox(t, second.account.id);
    const { conversation: theirs } = await createConversation(t, second.account.id, theirInbox);
    // Their display id addressed through our account: not found unless we have one with that id.
    const res = await t.request({ method: 'GET', url: `/api/v1/accounts/${account.id}/conversations/987654/messages`, token: admin.token });
    assert.equal(res.statusCode, 404);
    // Our admin on their account: not a member.
    const cross = await t.request({ method: 'GET', url: messagesUrl(theirs, second.account.id), token: admin.token });
    assert.equal(cross.statusCode, 401);
    // Their admin cannot reach our message through their conversation.
    const theirMsg = await t.request({ method: 'DELETE', url: `${messagesUrl(theirs, second.account.id)}/${m.id}`, token: second.admin.token });
    assert.equal(theirMsg.statusCode, 404);
    const anon = await t.request({ method: 'GET', url: messagesUrl(conversation) });
    assert.equal(anon.statusCode, 401);
    const notNumber = await t.request({ method: 'GET', url: `/api/v1/accounts/${account.id}/conversations/abc/messages`, token: admin.token });
    assert.equal(notNumber.statusCode, 404);
  });

  test('an agent bot token may create messages but not list them', async () => {
    const { conversation } = await createConversation(t, account.id, inbox);
    const { bot, token } = await createAgentBot(t, account.id, inbox.id);
    const res = await post(conversation, { content: 'Bot says hi', content_type: 'input_select', content_attributes: { items: [{ title: 'A', value: 'a' }] } }, token);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json().sender, { id: bot.id, name: bot.name, avatar_url: '', type: 'agent_bot' });
    const list = await t.request({ method: 'GET', url: messagesUrl(conversation), token });
    assert.equal(list.statusCode, 401);
  });
});
