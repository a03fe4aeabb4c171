import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { ENGINE, startTestApp, type TestApp } from '../../helpers.js';
import { createConversation, createInbox } from './fixtures.js';

const skip = ENGINE === 'postgres' ? false : 'row locks are PostgreSQL only (DATABASE_URL unset)';

/**
 * A second PostgreSQL session in the test app's schema, standing for a contact update: it locks the
 * contact's row, waits until the app's request is blocked by it, then does what the update's
 * trigger does next (updates the contact's conversation) and commits. A request that had locked the
 * conversation before the contact would deadlock with it here.
 */
async function contactUpdateRacing(t: TestApp, contactId: number, conversationId: number, during: () => Promise<unknown>): Promise<unknown> {
  const other = new pg.Client({ connectionString: process.env.DATABASE_URL, options: `-c search_path=${t.config.pgSchema}` });
  await other.connect();
  try {
    await other.query('begin');
    await other.query('select id from contacts where id = $1 for no key update', [contactId]);
    const request = during();
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { rows } = await other.query<{ n: number }>(
        'select count(*)::int as n from pg_stat_activity where pg_backend_pid() = any(pg_blocking_pids(pid))',
      );
      if (rows[0].n > 0) break;
      assert.ok(Date.now() < deadline, 'the request never waited for the contact');
      await new Promise((r) => setTimeout(r, 20));
    }
    await other.query('update conversations set updated_at = updated_at where id = $1', [conversationId]);
    await other.query('commit');
    return await request;
  } finally {
    await other.end();
  }
}

interface Case {
  title: string;
  /** The request racing the contact update, for the conversation of `base`'s URL. */
  send: (t: TestApp, base: string, token: string) => Promise<{ statusCode: number; body: string }>;
  /** What the request must have written to the contact. */
  check: (contact: { blocked: number; last_activity_at: number | null }) => void;
}

const cases: Case[] = [
  {
    title: 'a contact message',
    send: (t, base, token) => t.request({ method: 'POST', url: `${base}/messages`, token, payload: { content: 'from the contact', message_type: 'incoming' } }),
    check: (contact) => assert.ok(contact.last_activity_at !== null),
  },
  {
    title: 'muting a conversation',
    send: (t, base, token) => t.request({ method: 'POST', url: `${base}/mute`, token }),
    check: (contact) => assert.equal(contact.blocked, 1),
  },
];

for (const { title, send, check } of cases) {
  test(`PostgreSQL: ${title} locks the contact before the conversation, as a contact update does (no deadlock)`, { skip }, async () => {
    const t = await startTestApp();
    try {
      const { account, admin } = await t.seedAccount();
      const inbox = await createInbox(t, account.id);
      const { conversation, contact } = await createConversation(t, account.id, inbox);
      const base = `/api/v1/accounts/${account.id}/conversations/${conversation.display_id}`;
      const res = (await contactUpdateRacing(t, contact.id, conversation.id, () => send(t, base, admin.token))) as { statusCode: number; body: string };
      assert.equal(res.statusCode, 200, res.body);
      check(await t.ctx.db.selectFrom('contacts').select(['blocked', 'last_activity_at']).where('id', '=', contact.id).executeTakeFirstOrThrow());
    } finally {
      await t.close();
    }
  });
}
