import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { startTestApp, type TestApp, type TestUser } from '../../helpers.js';
import type { Row } from '../../../src/db/types.js';
import { createActivityMessage, createMessage } from '../../../src/modules/messages/service.js';
import { conversationMessageSummaries, messagePushData, presentMessages } from '../../../src/modules/messages/presenter.js';
import { assignField, sanitizeFileName } from '../../../src/modules/messages/files.js';
import { InvalidStorageKey, LocalDiskStorage } from '../../../src/storage/index.js';
import { createAgentBot, createConversation, createInbox, reloadConversation } from './fixtures.js';

let t: TestApp;
let account: Row<'accounts'>;
let admin: TestUser;
let inbox: Row<'inboxes'>;

before(async () => {
  t = await startTestApp();
  ({ account, admin } = await t.seedAccount());
  inbox = await createInbox(t, account.id);
});
after(async () => {
  await t.close();
});

describe('service', () => {
  test('createActivityMessage works inside an open transaction and rolls back with it', async () => {
    const { conversation } = await createConversation(t, account.id, inbox);
    const made = await t.ctx.db.transaction().execute((trx) => createActivityMessage(trx, conversation, 'Conversation was marked resolved by Ann'));
    assert.equal(made.message_type, 2);
    assert.equal(made.sender_type, null);
    assert.equal(made.content, 'Conversation was marked resolved by Ann');
    const conv = await reloadConversation(t, conversation.id);
    assert.equal(conv.last_activity_at, made.created_at);

    await assert.rejects(
      t.ctx.db.transaction().execute(async (trx) => {
        await createActivityMessage(trx, conversation, 'never', { source: 'test' });
        throw new Error('roll back');
      }),
    );
    const rows = await t.ctx.db.selectFrom('messages').select('content').where('conversation_id', '=', conversation.id).execute();
    assert.deepEqual(
      rows.map((r) => r.content),
      ['Conversation was marked resolved by Ann'],
    );
    // Outside a transaction it opens its own.
    const plain = await createActivityMessage(t.ctx.db, conversation, 'Ann added billing', { label: 'billing' });
    const [shown] = await presentMessages(t.ctx.db, [plain]);
    assert.deepEqual(shown.content_attributes, { label: 'billing' });
    assert.equal(shown.message_type, 2);
    assert.equal('sender' in shown, false);
  });

  test('createMessage emits message.created after commit', async () => {
    const { conversation } = await createConversation(t, account.id, inbox);
    const seen: number[] = [];
    const off = t.ctx.events.on('message.created', (e) => seen.push(e.messageId));
    try {
      const created = await createMessage(t.ctx, conversation, { actor: { kind: 'user', user: admin.user }, content: 'hi' });
      assert.deepEqual(seen, [created.message.id]);
      assert.equal(created.message.sender_type, 'User');
      assert.equal(created.conversation.first_reply_created_at, created.message.created_at);
    } finally {
      off();
    }
  });

  test('messagePushData has Message#push_event_data shape, in batch', async () => {
    const { conversation } = await createConversation(t, account.id, inbox, { assigneeId: admin.user.id });
    const { bot } = await createAgentBot(t, account.id);
    const a = await createMessage(t.ctx, conversation, { actor: null, content: 'in', message_type: 'incoming', echo_id: 'x1' });
    const b = await createMessage(t.ctx, conversation, { actor: { kind: 'bot', bot }, content: 'bot' });
    const [pa, pb] = await messagePushData(t.ctx.db, [a.message, b.message]);
    assert.deepEqual(Object.keys(pa).sort(), [
      'account_id', 'additional_attributes', 'content', 'content_attributes', 'content_type', 'conversation', 'conversation_id',
      'created_at', 'echo_id', 'external_source_ids', 'id', 'inbox_id', 'message_type', 'private', 'processed_message_content',
      'sender', 'sender_id', 'sender_type', 'sentiment', 'source_id', 'status', 'updated_at',
    ]);
    assert.equal(pa.conversation_id, conversation.display_id);
    assert.equal(pa.message_type, 0);
    assert.equal(pa.status, 'sent');
    assert.equal(pa.content_type, 'text');
    assert.equal(typeof pa.updated_at, 'string');
    const conv = pa.conversation as Record<string, unknown>;
    assert.equal(conv.assignee_id, admin.user.id);
    assert.equal(conv.unread_count, 1);
    assert.equal(typeof conv.last_activity_at, 'number');
    assert.equal(typeof (conv.contact_inbox as { source_id: string }).source_id, 'string');
    assert.equal((pa.sender as { type: string }).type, 'contact');
    assert.deepEqual(pb.sender, { id: bot.id, name: bot.name, avatar_url: '', type: 'agent_bot' });
  });

  test('conversationMessageSummaries: last message and last non-activity message per conversation', async () => {
    const { conversation: one } = await createConversation(t, account.id, inbox);
    const { conversation: two } = await createConversation(t, account.id, inbox);
    const { conversation: empty } = await createConversation(t, account.id, inbox);
    const m1 = await createMessage(t.ctx, one, { actor: { kind: 'user', user: admin.user }, content: 'reply' });
    const act = await createActivityMessage(t.ctx.db, one, 'Ann resolved');
    const m2 = await createMessage(t.ctx, two, { actor: null, content: 'hello', message_type: 'incoming' });
    const map = await conversationMessageSummaries(t.ctx.db, [one.id, two.id, empty.id]);
    assert.deepEqual(
      map.get(one.id)!.messages.map((m) => m.id),
      [act.id],
    );
    assert.equal(map.get(one.id)!.last_non_activity_message!.id, m1.message.id);
    assert.equal(map.get(two.id)!.messages[0].id, m2.message.id);
    assert.deepEqual(map.get(empty.id), { messages: [], last_non_activity_message: null });
    const chat = await conversationMessageSummaries(t.ctx.db, [one.id], { chatOnly: true });
    assert.equal(chat.get(one.id)!.messages[0].id, m1.message.id);
  });
});

describe('storage and names', () => {
  test('local disk storage: put/get/stream/size/delete, and keys cannot escape the root', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-storage-'));
    try {
      const storage = new LocalDiskStorage(dir);
      assert.equal(await storage.put('a/b/c', Buffer.from('hello')), 5);
      assert.equal((await storage.get('a/b/c'))!.toString(), 'hello');
      assert.equal(await storage.put('a/b/d', Readable.from([Buffer.from('str'), Buffer.from('eam')])), 6);
      const chunks: Buffer[] = [];
      for await (const c of (await storage.stream('a/b/d'))!) chunks.push(c as Buffer);
      assert.equal(Buffer.concat(chunks).toString(), 'stream');
      assert.equal(await storage.size('a/b/d'), 6);
      await storage.delete('a/b/c');
      await storage.delete('a/b/c');
      assert.equal(await storage.get('a/b/c'), null);
      assert.equal(await storage.stream('nope'), null);
      for (const bad of ['../x', '/etc/passwd', 'a/../../x', 'a//b', '', 'a/.hidden', 'a\\b']) {
        await assert.rejects(storage.put(bad, Buffer.from('x')), InvalidStorageKey, bad);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('sanitizeFileName', () => {
    assert.equal(sanitizeFileName('../../etc/passwd'), 'passwd');
    assert.equal(sanitizeFileName('..\\..\\boot.ini'), 'boot.ini');
    assert.equal(sanitizeFileName('.htaccess'), 'htaccess');
    assert.equal(sanitizeFileName('a<b>"c".txt'), 'a_b__c_.txt');
    assert.equal(sanitizeFileName(''), 'file');
    assert.equal(sanitizeFileName('..'), 'file');
    assert.equal(sanitizeFileName('résumé.pdf'), 'résumé.pdf');
    const long = sanitizeFileName(`${'x'.repeat(500)}.pdf`);
    assert.ok(long.length <= 200 && long.endsWith('.pdf'));
  });

  test('assignField nests like Rails params and ignores prototype keys', () => {
    const out: Record<string, unknown> = {};
    assignField(out, 'content', 'hi');
    assignField(out, 'a[b][c]', '1');
    assignField(out, 'list[]', 'x');
    assignField(out, 'list[]', 'y');
    assignField(out, 'items[][title]', 'A');
    assignField(out, 'items[][value]', 'a');
    assignField(out, 'items[][title]', 'B');
    assignField(out, '__proto__[polluted]', 'yes');
    assignField(out, 'x[constructor][prototype]', 'yes');
    assert.deepEqual(out, {
      content: 'hi',
      a: { b: { c: '1' } },
      list: ['x', 'y'],
      items: [{ title: 'A', value: 'a' }, { title: 'B' }],
    });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});
