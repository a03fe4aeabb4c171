/**
 * npm run bench:trace -- --scale medium --scenario messages [--requests 2000] [--sql-width 230]
 *
 * Where a scenario's SQL time goes (SQLite): builds the app in this process on a copy of the
 * benchmark's dataset, sends the scenario's requests through `inject`, and prints each
 * statement's time per request and how often it ran. Times are in-process, without the load
 * tool beside the server: read them next to each other, not as the benchmark's figures.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import SQLite from 'better-sqlite3';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { ensureDataset, SCALE_NAMES, type Scale } from './generate.js';
import { buildRequest, requestKinds, SCENARIOS, ScenarioSupport } from './scenarios.js';

const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: 'medium' },
    scenario: { type: 'string', default: 'messages' },
    requests: { type: 'string', default: '2000' },
    'sql-width': { type: 'string', default: '230' },
  },
});
const scale = values.scale as Scale;
if (!SCALE_NAMES.includes(scale)) throw new Error(`--scale must be one of ${SCALE_NAMES.join(', ')}`);
const scenario = SCENARIOS.find((s) => s.name === values.scenario);
if (!scenario) throw new Error(`unknown scenario ${values.scenario} (known: ${SCENARIOS.map((s) => s.name).join(', ')})`);
const requests = Number(values.requests);
const width = Number(values['sql-width']);

const { manifest, target } = await ensureDataset(scale, 'sqlite', { log: (line) => console.log(line) });
const dir = mkdtempSync(join(tmpdir(), 'parley-trace-'));
const file = join(dir, 'trace.sqlite3');
copyFileSync(target.databaseUrl, file);

// Every statement's run is timed while `tracing` is on.
const stats = new Map<string, { runs: number; ns: bigint; slowRuns: number; slowNs: bigint }>();
/** Runs this long or longer are counted apart: a few stalls (a checkpoint inside a commit) can be most of a mean. */
const SLOW_NS = 1_000_000n;
let tracing = false;
type Runner = (...args: unknown[]) => unknown;
const proto = SQLite.prototype as unknown as { prepare: (source: string) => Record<string, Runner> };
const prepare = proto.prepare;
proto.prepare = function (this: unknown, source: string) {
  const statement = prepare.call(this, source);
  for (const method of ['all', 'get', 'run', 'iterate']) {
    const run = statement[method].bind(statement);
    statement[method] = (...args: unknown[]) => {
      if (!tracing) return run(...args);
      const started = process.hrtime.bigint();
      try {
        return run(...args);
      } finally {
        const s = stats.get(source) ?? { runs: 0, ns: 0n, slowRuns: 0, slowNs: 0n };
        const ns = process.hrtime.bigint() - started;
        s.runs++;
        s.ns += ns;
        if (ns >= SLOW_NS) {
          s.slowRuns++;
          s.slowNs += ns;
        }
        stats.set(source, s);
      }
    };
  }
  return statement;
};

const config = loadConfig({ ...process.env, DATABASE_URL: `sqlite:${file}`, LOG_LEVEL: 'silent' });
const { app } = await buildApp(config, { logger: false });
const support = new ScenarioSupport(manifest);
// A mix sends its kinds in turn, as each of the load tool's connections does.
const kinds = requestKinds(scenario);
const send = async (i: number) => {
  const { method, path, headers, body } = buildRequest(kinds[i % kinds.length], support, i);
  const res = await app.inject({ method, url: path, headers, payload: body });
  if (res.statusCode >= 300) throw new Error(`${scenario.name} answered ${res.statusCode}: ${res.body.slice(0, 200)}`);
};
try {
  for (let i = 0; i < 500; i++) await send(1_000_000 + i);
  tracing = true;
  const started = process.hrtime.bigint();
  for (let i = 0; i < requests; i++) await send(i);
  const perRequest = Number(process.hrtime.bigint() - started) / 1e3 / requests;
  tracing = false;
  let sqlUs = 0;
  for (const [source, s] of [...stats].sort((a, b) => Number(b[1].ns - a[1].ns))) {
    const us = Number(s.ns) / 1e3 / requests;
    sqlUs += us;
    const slow = s.slowRuns ? `  [${(Number(s.slowNs) / 1e3 / requests).toFixed(1)} µs/request of it in ${s.slowRuns} runs ≥ 1 ms]` : '';
    console.log(`${us.toFixed(1).padStart(7)} µs/request  ${(s.runs / requests).toFixed(2)}×  ${source.replace(/\s+/g, ' ').slice(0, width)}${slow}`);
  }
  console.log(`${scenario.name}: ${perRequest.toFixed(1)} µs per request (inject), of which SQL ${sqlUs.toFixed(1)} µs`);
} finally {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
}
