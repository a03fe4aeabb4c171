import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCENARIOS, ScenarioSupport } from '../../bench/scenarios.js';
import type { Manifest } from '../../bench/generate.js';

// The bench's scenarios walk disjoint slices of the conversations: the reply scenario's writes
// must not change the pages the messages scenario reads later in the same run.
test('bench scenarios: each walks its own conversations, and a window goes on where the last stopped', () => {
  const conversations = 200_000;
  const manifest = {
    counts: { conversations, contacts: 100_000 },
    inboxIds: [1],
    agents: [],
    admin: { id: 1, email: 'a@b.c', token: 't' },
  } as unknown as Manifest;
  const support = new ScenarioSupport(manifest);
  const reply = SCENARIOS.findIndex((s) => s.name === 'agent_reply');
  const messages = SCENARIOS.findIndex((s) => s.name === 'messages');
  assert.ok(reply >= 0 && messages >= 0);
  // What a scenario asks for in a run at a few thousand requests a second.
  const walk = (index: number, requests: number) => {
    const first = support.firstRequest(index, SCENARIOS.length);
    return new Set(Array.from({ length: requests }, (_, k) => support.displayId(first + k)));
  };
  const written = walk(reply, 15_000);
  const read = walk(messages, 15_000);
  assert.equal(written.size, 15_000, 'consecutive requests visit distinct conversations');
  assert.equal([...read].filter((d) => written.has(d)).length, 0);
});
