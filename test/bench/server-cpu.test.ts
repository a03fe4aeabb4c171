import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuTicks, pairedRounds, serverCpuPerRequest, type LoadFigures } from '../../bench/run.js';

// The bench reports, beside the throughput ratio, the CPU the machine spent per request outside
// the load tool: the load tool bounds the bare baseline's throughput, not its CPU per request.
test('bench server CPU: the machine busy time less the load tool, per request', () => {
  // 300 busy ticks on the machine, 100 of them the load tool's: 200 ticks of 10 ms for 4 000 requests.
  assert.equal(serverCpuPerRequest({ machine: 1_000, self: 50 }, { machine: 1_300, self: 150 }, 4_000), 500);
  assert.equal(serverCpuPerRequest(null, { machine: 1, self: 1 }, 10), null);
  assert.equal(serverCpuPerRequest({ machine: 1, self: 1 }, { machine: 2, self: 1 }, 0), null);
  const ticks = cpuTicks();
  if (process.platform === 'linux') {
    assert.ok(ticks && Number.isInteger(ticks.machine) && Number.isInteger(ticks.self) && ticks.machine >= ticks.self);
  }
});

test('bench paired rounds: the CPU ratio is the median of baseline over scenario CPU per request', async () => {
  const figures = (reqPerSec: number, serverCpuUs: number | null): LoadFigures => ({
    reqPerSec,
    p50: 1,
    p99: 2,
    requests: reqPerSec * 3,
    errors: 0,
    timeouts: 0,
    non2xx: 0,
    serverCpuUs,
  });
  const bases = [figures(20_000, 40), figures(40_000, 20), figures(30_000, 30)];
  const runs = [figures(2_000, 400), figures(3_000, 100), figures(2_500, 150)];
  let b = 0;
  let r = 0;
  const out = await pairedRounds(async () => bases[b++], async () => runs[r++], 3);
  // Throughput ratios 0.1, 0.075, 0.0833: median 0.0833. CPU ratios 0.1, 0.2, 0.2: median 0.2.
  assert.ok(Math.abs(out.ratio - 2_500 / 30_000) < 1e-9);
  assert.equal(out.cpuRatio, 0.2);
  assert.equal(out.baselineServerCpuUs, 30);
  assert.equal(out.figures.serverCpuUs, 150);

  // Without /proc, no CPU figure is made up.
  let i = 0;
  const none = await pairedRounds(async () => figures(10_000, null), async () => figures(1_000 + i++, null), 3);
  assert.equal(none.cpuRatio, null);
  assert.equal(none.figures.serverCpuUs, null);
});
