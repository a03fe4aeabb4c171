import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINE } from '../helpers.js';
import { formatReport, runChaos } from '../../bench/chaos.js';

// A short crash test on the engine of this run: three SIGKILLs under write load, then every
// acknowledged write must be in the database exactly once and nothing may be half-written.
// (The full run is `npm run chaos`, ten kills or more.)
test(`crash test: acknowledged writes survive SIGKILL (${ENGINE})`, { timeout: 180_000 }, async (t) => {
  const report = await runChaos({ engine: ENGINE, kills: 3, workers: 4, minLifeMs: 300, maxLifeMs: 1200 });
  for (const line of formatReport(report).split("\n")) t.diagnostic(line);
  const core = ['reply', 'contact_create'] as const;
  const missingRoutes = core.filter((k) => report.unavailable.includes(k));
  if (missingRoutes.length > 0) {
    t.skip(`routes not built yet: ${missingRoutes.join(', ')}`);
    return;
  }
  assert.ok(report.acknowledged.total > 0, 'some writes were acknowledged');
  assert.equal(report.missing, 0, 'acknowledged writes missing');
  assert.equal(report.duplicates, 0, 'duplicated writes');
  assert.deepEqual(report.inconsistencies, []);
  if (ENGINE === 'sqlite') assert.equal(report.integrity, 'ok');
  assert.equal(report.restarts, 3);
  assert.equal(report.found, report.acknowledged.total, 'every acknowledged write accounted for');
  assert.ok(report.ok);
});
