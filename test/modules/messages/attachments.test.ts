import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startTestApp, type TestApp, type TestUser } from '../../helpers.js';
import type { Row } from '../../../src/db/types.js';
import { createConversation, createInbox, multipartBody } from './fixtures.js';

const LIMIT = 64 * 1024;
let t: TestApp;
let account: Row<'accounts'>;
let admin: TestUser;
let agent: TestUser;
let inbox: Row<'inboxes'>;

before(async () => {
  t = await startTestApp({ MAX_UPLOAD_BYTES: String(LIMIT) });
  ({ account, admin, agent } = await t.seedAccount());
  inbox = await createInbox(t, account.id, { memberIds: [agent.user.id] });
});
after(async () => {
  await t.close();
});

const messagesUrl = (c: Row<'conversations'>) => `/api/v1/accounts/${account.id}/conversations/${c.display_id}/messages`;
/** A 3×2 PNG header (enough for the dimensions) plus padding. */
const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452000000030000000208060000', 'hex'), Buffer.alloc(100, 1)]);

function storedFiles(): string[] {
  const root = join(t.config.storageDir, 'attachments');
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name));
}

async function upload(c: Row<'conversations'>, fields: Record<string, string>, files: Parameters<typeof multipartBody>[1], token = agent.token) {
  const body = multipartBody(fields, files);
  return t.request({ method: 'POST', url: messagesUrl(c), token, payload: body.payload, headers: body.headers });
}

/** The download path of a data_url (the app is reached through inject, not the network). */
const pathOf = (url: string) => new URL(url).pathname;

describe('attachments', () => {
  test('upload through multipart, served back at a stable URL with the right type and size', async () => {
    const { conversation } = await createConversation(t, account.id, inbox);
    const res = await upload(conversation, { content: 'see attached', echo_id: 'e-9', private: 'false' }, [
      { filename: 'photo.png', contentType: 'image/png', data: PNG },
      { filename: 'notes.txt', contentType: 'text/plain', data: Buffer.from('plain text') },
    ]);
    assert.equal(res.statusCode, 200, res.body);
    const m = res.json();
    assert.equal(m.content, 'see attached');
    assert.equal(m.echo_id, 'e-9');
    assert.equal(m.private, false);
    assert.equal(m.attachments.length, 2);
    const [img, txt] = m.attachments;
    assert.deepEqual(Object.keys(img).sort(), [
      'account_id', 'data_url', 'extension', 'file_size', 'file_type', 'height', 'id', 'message_id', 'thumb_url', 'width',
    ]);
    assert.equal(img.file_type, 'image');
    assert.equal(img.message_id, m.id);
    assert.equal(img.account_id, account.id);
    assert.equal(img.file_size, PNG.length);
    assert.equal(img.width, 3);
    assert.equal(img.height, 2);
    assert.match(img.data_url, /^http:\/\/localhost:\d+\/rails\/active_storage\/blobs\/redirect\/\d+-[A-Za-z0-9]{32}\/photo\.png$/);
    assert.equal(txt.file_type, 'file');
    assert.equal(txt.thumb_url, '');

    // No token needed: the URL is the permission.
    const file = await t.request({ method: 'GET', url: pathOf(img.data_url) });
    assert.equal(file.statusCode, 200);
    assert.equal(file.headers['content-type'], 'image/png');
    assert.equal(file.headers['x-content-type-options'], 'nosniff');
    assert.match(String(file.headers['content-disposition']), /^inline; filename="photo.png"/);
    assert.deepEqual(file.rawPayload, PNG);
    const text = await t.request({ method: 'GET', url: pathOf(txt.data_url) });
    assert.equal(text.body, 'plain text');
    assert.equal(text.headers['content-type'], 'text/plain; charset=utf-8');

    // The index shows the same attachments.
    const list = await t.request({ method: 'GET', url: messagesUrl(conversation), token: agent.token });
    assert.deepEqual(list.json().payload[0].attachments, m.attachments);
  });

  test('the messages page shows each message with its attachments, as created', async () => {
    const { conversation } = await createConversation(t, account.id, inbox);
    const plain = await t.request({ method: 'POST', url: messagesUrl(conversation), token: agent.token, payload: { content: 'no files' } });
    assert.equal(plain.statusCode, 200, plain.body);
    const withFiles = await upload(conversation, { content: 'two files' }, [
      { filename: 'a.png', contentType: 'image/png', data: PNG },
      { filename: 'b.txt', contentType: 'text/plain', data: Buffer.from('b') },
    ]);
    assert.equal(withFiles.statusCode, 200, withFiles.body);
    const oneFile = await upload(conversation, { content: 'one file' }, [{ filename: 'c.txt', contentType: 'text/plain', data: Buffer.from('c') }]);
    assert.equal(oneFile.statusCode, 200, oneFile.body);

    const page = await t.request({ method: 'GET', url: messagesUrl(conversation), token: agent.token });
    assert.equal(page.statusCode, 200, page.body);
    const byId = new Map(page.json().payload.map((m: { id: number }) => [m.id, m]));
    assert.equal((byId.get(plain.json().id) as { attachments?: unknown }).attachments, undefined);
    assert.deepEqual((byId.get(withFiles.json().id) as { attachments: unknown }).attachments, withFiles.json().attachments);
    assert.deepEqual((byId.get(oneFile.json().id) as { attachments: unknown }).attachments, oneFile.json().attachments);
    // An older page (a cursor) reads the same attachments its own way.
    const older = await t.request({ method: 'GET', url: `${messagesUrl(conversation)}?before=${oneFile.json().id}`, token: agent.token });
    const olderById = new Map(older.json().payload.map((m: { id: number }) => [m.id, m]));
    assert.deepEqual((olderById.get(withFiles.json().id) as { attachments: unknown }).attachments, withFiles.json().attachments);
  });

  test('range requests and HEAD, for audio and video players', async () => {
    const { conversation } = await createConversation(t, account.id, inbox);
    const audio = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));
    const m = (await upload(conversation, {}, [{ filename: 'voice.mp3', contentType: 'audio/mpeg', data: audio }])).json();
    const att = m.attachments[0];
    assert.equal(att.file_type, 'audio');
    assert.equal(att.transcribed_text, '');
    const url = pathOf(att.data_url);
    const part = await t.request({ method: 'GET', url, headers: { range: 'bytes=10-19' } });
    assert.equal(part.statusCode, 206);
    assert.equal(part.headers['content-range'], 'bytes 10-19/1000');
    assert.deepEqual(part.rawPayload, audio.subarray(10, 20));
    const suffix = await t.request({ method: 'GET', url, headers: { range: 'bytes=-5' } });
    assert.deepEqual(suffix.rawPayload, audio.subarray(995));
    const bad = await t.request({ method: 'GET', url, headers: { range: 'bytes=5000-' } });
    assert.equal(bad.statusCode, 416);
    const head = await t.request({ method: 'HEAD', url });
    assert.equal(head.statusCode, 200);
    assert.equal(head.headers['content-length'], '1000');
    assert.equal(head.headers['content-type'], 'audio/mpeg');
  });

  test('a guessed or altered URL finds nothing', async () => {
    const { conversation } = await createConversation(t, account.id, inbox);
    const m = (await upload(conversation, {}, [{ filename: 'a.png', contentType: 'image/png', data: PNG }])).json();
    const path = pathOf(m.attachments[0].data_url);
    const altered = path.replace(/-([A-Za-z0-9])/, (_s, c: string) => `-${c === 'a' ? 'b' : 'a'}`);
    assert.equal((await t.request({ method: 'GET', url: altered })).statusCode, 404);
    assert.equal((await t.request({ method: 'GET', url: '/rails/active_storage/blobs/redirect/1-short/a.png' })).statusCode, 404);
    assert.equal((await t.request({ method: 'GET', url: '/rails/active_storage/blobs/redirect/..%2F..%2Fetc%2Fpasswd/x' })).statusCode, 404);
  });

  test('an oversized file is a 422 with a clear message, and leaves nothing behind', async () => {
    const { conversation } = await createConversation(t, account.id, inbox);
    const before = storedFiles().length;
    const res = await upload(conversation, { content: 'too big' }, [
      { filename: 'ok.png', contentType: 'image/png', data: PNG },
      { filename: 'big.bin', contentType: 'application/octet-stream', data: Buffer.alloc(LIMIT + 1, 7) },
    ]);
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), { error: 'File size is too big (maximum is 64 KB)' });
    assert.equal(storedFiles().length, before, 'no stored file remains');
    const rows = await t.ctx.db.selectFrom('messages').select('id').where('conversation_id', '=', conversation.id).execute();
    assert.equal(rows.length, 0, 'no message was created');
    // The server is fine afterwards.
    const ok = await upload(conversation, { content: 'small' }, [{ filename: 'ok.png', contentType: 'image/png', data: PNG }]);
    assert.equal(ok.statusCode, 200);
  });

  test('more than 15 files is a 422', async () => {
    const { conversation } = await createConversation(t, account.id, inbox);
    const before = storedFiles().length;
    const files = Array.from({ length: 16 }, (_, i) => ({ filename: `f${i}.txt`, contentType: 'text/plain', data: Buffer.from(`${i}`) }));
    const res = await upload(conversation, {}, files);
    assert.equal(res.statusCode, 422);
    assert.match(res.json().error, /Attachments exceeded maximum allowed/);
    assert.equal(storedFiles().length, before);
  });

  test('file names are sanitised: no paths, no markup, never rendered as HTML', async () => {
    const { conversation } = await createConversation(t, account.id, inbox);
    const res = await upload(conversation, {}, [
      { filename: '../../../etc/passwd', contentType: 'text/plain', data: Buffer.from('x') },
      { filename: '..\\..\\win.ini', contentType: 'text/plain', data: Buffer.from('x') },
      { filename: '<img src=x onerror=alert(1)>.html', contentType: 'text/html', data: Buffer.from('<script>alert(1)</script>') },
      { filename: 'logo.svg', contentType: 'image/svg+xml', data: Buffer.from('<svg onload="alert(1)"/>') },
    ]);
    assert.equal(res.statusCode, 200, res.body);
    const rows = await t.ctx.db.selectFrom('attachments').selectAll().where('message_id', '=', res.json().id).orderBy('id').execute();
    for (const row of rows) {
      assert.ok(!row.file_name!.includes('/') && !row.file_name!.includes('\\') && !row.file_name!.includes('<'), row.file_name!);
      assert.ok(!row.file_name!.startsWith('.'));
    }
    // Every stored file is inside the storage directory.
    for (const f of storedFiles()) assert.ok(f.startsWith(t.config.storageDir));
    const html = res.json().attachments[2];
    const served = await t.request({ method: 'GET', url: pathOf(html.data_url) });
    assert.equal(served.headers['content-type'], 'application/octet-stream');
    assert.match(String(served.headers['content-disposition']), /^attachment;/);
    assert.match(String(served.headers['content-security-policy']), /sandbox/);
    const svg = await t.request({ method: 'GET', url: pathOf(res.json().attachments[3].data_url) });
    assert.equal(svg.headers['content-type'], 'application/octet-stream');
  });

  test('deleting the message removes its attachments from the table and from storage', async () => {
    const { conversation } = await createConversation(t, account.id, inbox);
    const m = (await upload(conversation, { content: 'with file' }, [{ filename: 'a.png', contentType: 'image/png', data: PNG }])).json();
    const url = pathOf(m.attachments[0].data_url);
    assert.equal((await t.request({ method: 'GET', url })).statusCode, 200);
    const before = storedFiles().length;
    const res = await t.request({ method: 'DELETE', url: `${messagesUrl(conversation)}/${m.id}`, token: admin.token });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().content, 'This message was deleted');
    assert.deepEqual(res.json().content_attributes, { deleted: true });
    assert.equal('attachments' in res.json(), false);
    assert.equal(storedFiles().length, before - 1);
    const rows = await t.ctx.db.selectFrom('attachments').select('id').where('message_id', '=', m.id).execute();
    assert.equal(rows.length, 0);
    assert.equal((await t.request({ method: 'GET', url })).statusCode, 404);
  });

  test('multipart fields follow Rails nesting (content_attributes[items][][title])', async () => {
    const { conversation } = await createConversation(t, account.id, inbox);
    const res = await upload(
      conversation,
      {
        content: 'pick one',
        content_type: 'input_select',
        'content_attributes[items][][title]': 'Yes',
        'content_attributes[items][][value]': 'y',
        'content_attributes[items][][title] ': 'ignored',
        private: 'true',
      },
      [],
    );
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().private, true);
    assert.deepEqual(res.json().content_attributes, { items: [{ title: 'Yes', value: 'y' }] });
  });

  test('GET …/attachments lists the conversation attachments, newest first', async () => {
    const { conversation } = await createConversation(t, account.id, inbox);
    await upload(conversation, {}, [{ filename: 'one.png', contentType: 'image/png', data: PNG }]);
    await upload(conversation, {}, [{ filename: 'two.txt', contentType: 'text/plain', data: Buffer.from('2') }]);
    const res = await t.request({ method: 'GET', url: `/api/v1/accounts/${account.id}/conversations/${conversation.display_id}/attachments`, token: agent.token });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.meta.total_count, 2);
    assert.equal(body.payload.length, 2);
    const [first, second] = body.payload;
    assert.deepEqual(Object.keys(first).sort(), [
      'created_at', 'data_url', 'extension', 'file_size', 'file_type', 'height', 'message_id', 'sender', 'thumb_url', 'width',
    ]);
    assert.equal(first.file_type, 'file');
    assert.equal(second.file_type, 'image');
    assert.equal(first.sender.id, agent.user.id);
    const page2 = await t.request({ method: 'GET', url: `/api/v1/accounts/${account.id}/conversations/${conversation.display_id}/attachments?page=2`, token: agent.token });
    assert.deepEqual(page2.json().payload, []);
    assert.equal(page2.json().meta.total_count, 2);
  });

  test('show and the list render the last message with its sender, attachments and conversation', async () => {
    const { conversation, contact } = await createConversation(t, account.id, inbox);
    const res = await upload(conversation, { content: 'a photo', message_type: 'incoming' }, [{ filename: 'photo.png', contentType: 'image/png', data: PNG }]);
    assert.equal(res.statusCode, 200, res.body);
    const created = res.json();
    const sourceId = (await t.ctx.db.selectFrom('contact_inboxes').select('source_id').where('id', '=', conversation.contact_inbox_id!).executeTakeFirstOrThrow()).source_id;
    const show = await t.request({ method: 'GET', url: `/api/v1/accounts/${account.id}/conversations/${conversation.display_id}`, token: agent.token });
    assert.equal(show.statusCode, 200, show.body);
    const body = show.json();
    const [last] = body.messages;
    assert.equal(last.id, created.id);
    assert.equal(last.conversation_id, conversation.display_id);
    assert.equal(last.sender_type, 'Contact');
    assert.equal(last.sender_id, contact.id);
    assert.equal(last.sender.id, contact.id);
    assert.equal(last.sender.type, 'contact');
    assert.equal(last.sender.name, contact.name);
    assert.deepEqual(last.attachments.map((a: { id: number }) => a.id), created.attachments.map((a: { id: number }) => a.id));
    assert.equal(last.attachments[0].file_type, 'image');
    assert.deepEqual(last.conversation, { assignee_id: null, unread_count: 1, last_activity_at: body.last_activity_at, contact_inbox: { source_id: sourceId } });
    assert.equal(body.last_non_activity_message.id, created.id);
    assert.deepEqual(body.last_non_activity_message.attachments, last.attachments);
    // The list renders the same partial.
    const list = await t.request({ method: 'GET', url: `/api/v1/accounts/${account.id}/conversations?status=all&inbox_id=${inbox.id}`, token: agent.token });
    const item = list.json().data.payload.find((c: { id: number }) => c.id === conversation.display_id);
    assert.deepEqual(item.messages, body.messages);
  });
});
