import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, ENGINE } from '../helpers.js';
import { packs } from '../../src/db/packed-rows.js';
import { findMessages } from '../../src/modules/messages/finder.js';
import { MESSAGE_PARTIAL_COLUMNS } from '../../src/modules/messages/presenter.js';
import { createConversation, createInbox } from '../modules/messages/fixtures.js';

// Values JSON must carry exactly: quotes and backslashes, control characters, line separators,
// characters outside the BMP, an empty string, nulls, and epoch milliseconds past 2^32.
const CONTENTS = ['plain', 'a "quoted" \\ back\\slash', 'tab\tnew\nline\r\u0001\u001f', 'sep\u2028para\u2029', 'emoji 😀 and ü', '', null, '{"looks":"like json"}', '[1,2]'];

test(`packed rows: the latest page of messages reads back as an unpacked select of the same columns would (${ENGINE})`, async () => {
  const t = await startTestApp();
  try {
    const { account } = await t.seedAccount();
    const inbox = await createInbox(t, account.id);
    const { conversation } = await createConversation(t, account.id, inbox);
    for (const [i, content] of CONTENTS.entries()) {
      await t.ctx.db
        .insertInto('messages')
        .values({
          account_id: account.id,
          inbox_id: inbox.id,
          conversation_id: conversation.id,
          content,
          message_type: i % 3,
          content_type: i % 2,
          content_attributes: i === 0 ? '{"items":[{"title":"x\\"y"}]}' : '{}',
          private: i % 2,
          status: i % 4,
          source_id: i === 1 ? 'wamid.\u00e9"1' : null,
          echo_id: i === 2 ? 'echo-1' : null,
          sender_type: i % 2 ? 'User' : 'Contact',
          sender_id: i % 2 ? 1 : conversation.contact_id,
          created_at: 1_765_000_000_123 + i,
          updated_at: 1_765_000_000_123 + i,
        })
        .execute();
    }
    const message = await t.ctx.db.selectFrom('messages').select('id').where('conversation_id', '=', conversation.id).orderBy('id').executeTakeFirstOrThrow();
    await t.ctx.db
      .insertInto('attachments')
      .values({ account_id: account.id, message_id: message.id, file_type: 0, external_url: 'https://example.com/a.png', created_at: 1, updated_at: 1 })
      .execute();

    assert.equal(packs(t.ctx.db), ENGINE === 'sqlite', 'SQLite packs, PostgreSQL selects its columns');
    const page = await findMessages(t.ctx.db, conversation, {});
    const plain = await t.ctx.db.selectFrom('messages').select(MESSAGE_PARTIAL_COLUMNS).where('conversation_id', '=', conversation.id).orderBy('id').execute();
    assert.equal(page.length, CONTENTS.length);
    assert.deepEqual(
      page.map(({ has_attachments: _, ...row }) => row),
      plain,
    );
    assert.deepEqual(
      page.map((row) => Boolean(row.has_attachments)),
      CONTENTS.map((_, i) => i === 0),
    );
    assert.deepEqual(Object.keys(page[0]), [...MESSAGE_PARTIAL_COLUMNS, 'has_attachments']);
  } finally {
    await t.close();
  }
});
