import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterTurn, flushAfterMicrotasks, turnWriteCounts } from '../../src/lib/turn-writes.js';
import { ENGINE, startTestApp } from '../helpers.js';
import { createConversation, makeContact, makeInbox } from '../modules/conversations/fixtures.js';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

test('afterTurn: writes wait for the end of the turn, then go out together and in order', async () => {
  const ran: string[] = [];
  const before = { ...turnWriteCounts };
  afterTurn(() => ran.push('a'));
  afterTurn(() => ran.push('b'));
  await Promise.resolve();
  process.nextTick(() => ran.push('tick'));
  await new Promise<void>((resolve) => process.nextTick(resolve));
  assert.deepEqual(ran, ['tick'], 'not before the turn ends: not in microtasks, not in next ticks');
  await nextTurn();
  assert.deepEqual(ran, ['tick', 'a', 'b']);
  assert.equal(turnWriteCounts.flushes - before.flushes, 1);
  assert.equal(turnWriteCounts.writes - before.writes, 2);
});

test('flushAfterMicrotasks: writes queued by the continuations it starts go out once they have all run, before the next turn', async () => {
  const ran: string[] = [];
  let immediateRan = false;
  await new Promise<void>((done) => {
    setImmediate(() => {
      // As the group commit does: mark, then resume chains that answer a few awaits later.
      setImmediate(() => {
        immediateRan = true;
      });
      flushAfterMicrotasks();
      const chain = async (name: string, depth: number) => {
        for (let i = 0; i < depth; i++) await Promise.resolve();
        afterTurn(() => ran.push(name));
      };
      void chain('deep', 25);
      void chain('shallow', 1);
      void Promise.resolve().then(() => {
        process.nextTick(() => {
          assert.deepEqual(ran, ['shallow', 'deep'], 'both written, after every continuation ran');
          assert.equal(immediateRan, false, 'and before the next turn');
          done();
        });
      });
    });
  });
});

/** One request over a real keep-alive socket. */
function send(port: number, agent: Agent, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = httpRequest(
      { host: '127.0.0.1', port, method, path, agent, headers: { ...headers, ...(payload ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

// Requests that arrive together over real sockets: each gets its own complete answer; on SQLite
// the answers of one turn went out in fewer flushes than answers (reads at the turn's end, the
// replies of one group commit once its continuations ran), on PostgreSQL at once.
test('answers of requests arriving together: each its own, written together on SQLite', async () => {
  const t = await startTestApp();
  const agents = Array.from({ length: 8 }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
  try {
    const { account, admin } = await t.seedAccount();
    const inbox = await makeInbox(t, account.id, { members: [admin.user.id] });
    const ids: number[] = [];
    for (let i = 0; i < agents.length; i++) {
      const contact = await makeContact(t, account.id, { name: `Contact ${i}` });
      ids.push((await createConversation(t, account.id, admin, { inbox_id: inbox.id, contact_id: contact.id })).id);
    }
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = t.app.server.address() as AddressInfo;
    const headers = { api_access_token: admin.token };
    const base = `/api/v1/accounts/${account.id}`;
    // Every connection open and idle, so the next requests leave in one turn.
    await Promise.all(agents.map((agent) => send(port, agent, 'GET', '/api/v1/profile', headers)));

    const reads = { ...turnWriteCounts };
    const answers = await Promise.all(
      agents.map((agent, i) =>
        i % 3 === 0
          ? send(port, agent, 'GET', `${base}/conversations`, headers)
          : i % 3 === 1
            ? send(port, agent, 'GET', `${base}/conversations/${ids[i]}/messages`, headers)
            : send(port, agent, 'GET', `${base}/conversations/999999`, headers),
      ),
    );
    answers.forEach((answer, i) => {
      if (i % 3 === 0) {
        assert.equal(answer.status, 200);
        assert.equal(answer.json.data.meta.all_count, ids.length);
      } else if (i % 3 === 1) {
        assert.equal(answer.status, 200);
        assert.ok(answer.json.payload.every((m: { conversation_id: number }) => m.conversation_id === answers[i].json.payload[0].conversation_id));
      } else assert.equal(answer.status, 404);
    });

    const replies = { ...turnWriteCounts };
    const posted = await Promise.all(
      agents.map((agent, i) => send(port, agent, 'POST', `${base}/conversations/${ids[i]}/messages`, headers, { content: `reply ${i}`, echo_id: `e${i}` })),
    );
    const afterReplies = { ...turnWriteCounts };
    posted.forEach((answer, i) => {
      assert.equal(answer.status, 200);
      assert.equal(answer.json.content, `reply ${i}`);
      assert.equal(answer.json.echo_id, `e${i}`);
    });
    for (let i = 0; i < agents.length; i++) {
      const page = await send(port, agents[i], 'GET', `${base}/conversations/${ids[i]}/messages`, headers);
      assert.ok(page.json.payload.some((m: { content: string }) => m.content === `reply ${i}`), `reply ${i} stored with its conversation`);
    }

    const readWrites = replies.writes - reads.writes;
    const replyWrites = afterReplies.writes - replies.writes;
    if (ENGINE === 'sqlite') {
      assert.equal(readWrites, agents.length);
      assert.ok(replies.flushes - reads.flushes < agents.length, `reads: ${agents.length} answers in ${replies.flushes - reads.flushes} flushes`);
      assert.equal(replyWrites, agents.length);
      assert.ok(afterReplies.flushes - replies.flushes < agents.length, `replies: ${agents.length} answers in ${afterReplies.flushes - replies.flushes} flushes`);
    } else {
      assert.equal(readWrites, 0, 'PostgreSQL writes its answers at once');
      assert.equal(replyWrites, 0);
    }
  } finally {
    for (const agent of agents) agent.destroy();
    await t.close();
  }
});
