import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { kindFigures, load, summarizeRounds, type LoadFigures } from '../../bench/run.js';
import { buildRequest, requestKinds, SCENARIOS, ScenarioSupport, writes } from '../../bench/scenarios.js';
import type { Manifest } from '../../bench/generate.js';

// A mixed scenario (Scenario.alongside): each connection sends its kinds of request in turn, and
// each kind is timed on its own beside the mix's figures.
test('bench mix: the scenario lists its own request first, then the ones it mixes in', () => {
  const byName = (name: string) => SCENARIOS.find((s) => s.name === name)!;
  const mix = byName('reply_and_read');
  assert.deepEqual(
    requestKinds(mix).map((k) => [k.method, k.title]),
    [
      ['POST', 'POST …/conversations/{id}/messages'],
      ['GET', 'GET …/conversations/{id}/messages'],
    ],
  );
  assert.deepEqual(requestKinds(byName('messages')).map((k) => k.title), ['GET …/conversations/{id}/messages']);
  // Request i of each kind, as the load tool, the probe and the trace send it.
  const support = new ScenarioSupport({
    accountId: 1,
    counts: { conversations: 1_000, contacts: 10 },
    inboxIds: [1],
    agents: [{ token: 'agent', inboxIds: [1] }],
    admin: { token: 'admin' },
    spec: { inboxes: 1, contacts: 10 },
  } as unknown as Manifest);
  const [reply, read] = requestKinds(mix).map((kind) => buildRequest(kind, support, 3));
  assert.equal(reply.method, 'POST');
  assert.equal(reply.headers['content-type'], 'application/json');
  assert.match(JSON.parse(reply.body!).content, /bench 3\)$/);
  assert.deepEqual([read.method, read.body, read.headers['content-type']], ['GET', undefined, undefined]);
  // Same i, same conversation: the read asks for the messages the reply was posted to, as the same agent.
  assert.equal(read.path, reply.path);
  assert.deepEqual([reply.headers.api_access_token, read.headers.api_access_token], ['agent', 'agent']);
  assert.equal(buildRequest(requestKinds(byName('meta'))[0], support, 0).headers.api_access_token, 'admin');
  // PostgreSQL is vacuumed after a scenario that writes: a mix with a POST does, a filter POST does not.
  assert.equal(writes(mix), true);
  assert.equal(writes(byName('agent_reply')), true);
  assert.equal(writes(byName('messages')), false);
  assert.equal(writes(byName('contacts_filter')), false);
});

test('bench mix: a kind figures its throughput and latency percentiles', () => {
  const latencies = Array.from({ length: 200 }, (_, i) => 200 - i); // 200 … 1 ms, unsorted
  const k = kindFigures('read', latencies, 4);
  assert.deepEqual(k, { title: 'read', reqPerSec: 50, p50: 100, p99: 198, requests: 200 });
  assert.ok(Number.isNaN(kindFigures('none', [], 1).p99));

  // Rounds: each kind's throughput and p50 are the rounds' medians, its p99 the worst round's.
  const run = (reqPerSec: number, p99: number): LoadFigures => ({
    reqPerSec: reqPerSec * 2,
    p50: 1,
    p99,
    requests: reqPerSec * 6,
    errors: 0,
    timeouts: 0,
    non2xx: 0,
    serverCpuUs: null,
    kinds: [
      { title: 'write', reqPerSec, p50: 2, p99, requests: reqPerSec * 3 },
      { title: 'read', reqPerSec, p50: 1, p99: p99 / 2, requests: reqPerSec * 3 },
    ],
  });
  const base = (reqPerSec: number): LoadFigures => ({ ...run(reqPerSec, 1), kinds: undefined });
  const out = summarizeRounds([base(10_000), base(10_000), base(10_000)], [run(100, 8), run(300, 20), run(200, 4)]);
  assert.deepEqual(out.figures.kinds, [
    { title: 'write', reqPerSec: 200, p50: 2, p99: 20, requests: 1_800 },
    { title: 'read', reqPerSec: 200, p50: 1, p99: 10, requests: 1_800 },
  ]);
});

test('bench mix: each connection sends the kinds in turn, and every answer is timed as its kind', async () => {
  const bySocket = new Map<object, string[]>();
  const server = createServer((request: IncomingMessage, response) => {
    const seen = bySocket.get(request.socket) ?? [];
    seen.push(`${request.method} ${request.url}`);
    bySocket.set(request.socket, seen);
    request.resume();
    request.on('end', () => response.end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const figures = await load({
      url,
      connections: 2,
      durationS: 1,
      kinds: [
        { title: 'write', request: (i) => ({ method: 'POST', path: `/w/${i}`, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ i }) }) },
        { title: 'read', request: (i) => ({ method: 'GET', path: `/r/${i}`, headers: {} }) },
      ],
    });
    const served = [...bySocket.values()];
    assert.equal(served.length, 2, 'one socket per connection');
    for (const seen of served) {
      seen.forEach((line, n) => assert.match(line, n % 2 === 0 ? /^POST \/w\/\d+$/ : /^GET \/r\/\d+$/, `request ${n} on its connection`));
    }
    const [write, read] = figures.kinds!;
    assert.deepEqual([write.title, read.title], ['write', 'read']);
    const servedOf = (prefix: string) => served.flat().filter((line) => line.startsWith(prefix)).length;
    // Answers still under way when the window closes are neither counted by autocannon nor timed here.
    for (const [kind, prefix] of [
      [write, 'POST'],
      [read, 'GET'],
    ] as const) {
      assert.ok(kind.requests > 0 && kind.requests <= servedOf(prefix) && servedOf(prefix) - kind.requests <= 2, `${kind.title}: ${kind.requests} timed, ${servedOf(prefix)} served`);
      assert.ok(kind.p50 <= kind.p99);
    }
    assert.ok(Math.abs(write.requests + read.requests - figures.requests) <= 2);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
