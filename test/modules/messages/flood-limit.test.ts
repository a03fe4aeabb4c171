import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestApp } from '../../helpers.js';

// CONVERSATION_MESSAGE_PER_MINUTE_LIMIT is read when the messages module loads (it is compiled into
// the message create's statements): set before anything here imports it. Each test file runs in a
// process of its own, so the rest of the suite keeps Chatwoot's default of 200.
process.env.CONVERSATION_MESSAGE_PER_MINUTE_LIMIT = '3';
const { startTestApp } = await import('../../helpers.js');
const { createConversation, createInbox } = await import('./fixtures.js');

let t: TestApp;
before(async () => {
  t = await startTestApp();
});
after(async () => {
  await t.close();
});

test('CONVERSATION_MESSAGE_PER_MINUTE_LIMIT sets the flood limit: the message past it gets 422', async () => {
  const { account, admin } = await t.seedAccount();
  const inbox = await createInbox(t, account.id);
  const { conversation } = await createConversation(t, account.id, inbox);
  const post = (content: string) =>
    t.request({ method: 'POST', url: `/api/v1/accounts/${account.id}/conversations/${conversation.display_id}/messages`, token: admin.token, payload: { content } });
  for (const n of [1, 2, 3]) assert.equal((await post(`reply ${n}`)).statusCode, 200);
  const refused = await post('one too many');
  assert.equal(refused.statusCode, 422);
  assert.deepEqual(refused.json(), { error: 'Validation failed: Too many messages' });
  const count = await t.ctx.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).where('conversation_id', '=', conversation.id).executeTakeFirstOrThrow();
  assert.equal(Number(count.n), 3, 'the refused message was not written');
});
