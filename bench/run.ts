/**
 * npm run bench -- [--scale small|medium|large] [--engine sqlite|postgres|both] [--duration 10]
 *                  [--connections 10] [--warmup 2] [--rounds 3] [--scenarios a,b] [--log-level warn]
 *
 * Builds (or reuses) a dataset, starts Parley as a separate production process and a bare
 * Fastify baseline in another, and drives each with autocannon from this process: the same
 * connection count, a warm-up, then a fixed duration per scenario. Every scenario is reported
 * as req/s, p50/p99 latency, errors, and its throughput as a ratio to the baseline's (the
 * figure that survives a noisy shared machine), next to issue 5's targets.
 * The ratio is paired: --rounds (3) times a baseline window then a scenario window, the median of
 * the rounds' ratios (--single-baseline: one baseline at the start, one scenario run).
 * --engine both runs a Parley on each engine side by side and measures them in the same rounds
 * (baseline, then each engine, their order alternating by round), so the PostgreSQL / SQLite
 * comparison is not between two runs minutes apart on a machine whose speed moves.
 * Results: bench/results/<scale>-<engine>-latest.json and bench/results/summary.md.
 * --cpu-prof DIR writes a V8 CPU profile of the Parley process there (on its graceful stop).
 */
import { cpus, loadavg, totalmem, release, platform } from 'node:os';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import type { Engine } from '../src/config.js';
import { BENCH_DIR, DATA_DIR, SCALE_NAMES, ensureDataset, runCopy, targetEnv, vacuumPostgres, warmDataset, type Scale } from './generate.js';
import { buildRequest, requestKinds, SCENARIOS, ScenarioSupport, writes, type BuiltRequest, type Scenario, type Target } from './scenarios.js';
import { freePort, readMemory, sleep, startBaseline, startParley, type Child } from './server.js';

const RESULTS_DIR = join(BENCH_DIR, 'results');

export interface LoadFigures {
  reqPerSec: number;
  p50: number;
  p99: number;
  requests: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  /**
   * CPU the machine spent per request outside the load tool (µs): every process but this one,
   * so PostgreSQL's backends count for the PostgreSQL engine. Null where /proc is missing.
   */
  serverCpuUs: number | null;
  /** A mix (Scenario.alongside): each kind of request's own figures, in the order sent. */
  kinds?: KindFigures[];
}

/** One kind of request in a mix, timed from its send to its answer's last byte. */
export interface KindFigures {
  title: string;
  reqPerSec: number;
  p50: number;
  p99: number;
  requests: number;
}

export interface ScenarioResult extends Partial<LoadFigures> {
  name: string;
  title: string;
  status: 'ran' | 'skipped';
  /** why it was skipped (the probe's status and body) */
  reason?: string;
  ratio?: number;
  /** the baseline measured right before this scenario (the ratio's denominator) */
  baselineReqPerSec?: number;
  /** the baseline's server CPU per request over this scenario's (median of the rounds): a figure the load tool does not bound */
  cpuRatio?: number | null;
  /** the paired baseline windows' server CPU per request (µs, median) */
  baselineServerCpuUs?: number | null;
  target?: Target;
  pass?: { ratio: boolean; p99: boolean };
}

export interface RunResult {
  scale: Scale;
  engine: Engine;
  command: string;
  startedAt: string;
  machine: { cpu: string; cores: number; memoryGb: number; node: string; os: string; loadAvgAtStart: number[] };
  settings: { durationS: number; warmupS: number; connections: number; logLevel: string; pairedBaseline?: boolean; rounds?: number; interleaved?: boolean };
  dataset: { generationMs: number; reused: boolean; counts: Record<string, number> };
  baseline: LoadFigures;
  parley: { startToHealthyMs: number; idleRssMb: number | null; peakRssMb: number | null };
  scenarios: ScenarioResult[];
}

/** One kind of request a load sends: request `i` of it, `i` drawn from the request counter. */
export interface RequestSpec {
  title: string;
  request: (i: number) => BuiltRequest;
}

export interface LoadSpec {
  url: string;
  connections: number;
  durationS: number;
  /** Each connection sends these in turn; more than one: each kind is timed on its own too. */
  kinds: RequestSpec[];
  /**
   * The request counter, shared by every window of one scenario (warm-up and rounds): each window
   * goes on where the last stopped instead of asking for the same ids again.
   */
  counter?: { next: number };
}

/** Busy CPU ticks of the whole machine and of this process (the load tool), from /proc; null elsewhere. */
export function cpuTicks(): { machine: number; self: number } | null {
  try {
    // cpu  user nice system idle iowait irq softirq steal …: busy is all but idle and iowait.
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const machine = f.reduce((a, b) => a + b, 0) - f[3] - (f[4] ?? 0);
    const own = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return { machine, self: Number(own[11]) + Number(own[12]) };
  } catch {
    return null;
  }
}
/** Kernel clock ticks per second (USER_HZ): 100 on Linux. */
const TICK_US = 1_000_000 / 100;

/**
 * One autocannon run; every request is built fresh (rotating ids) by setupRequest. In a mix each
 * kind is timed too: autocannon builds a connection's next request right before sending it (the
 * connection's context holds the moment) and hands its answer to that request's onResponse.
 */
export async function load(spec: LoadSpec): Promise<LoadFigures> {
  const counter = spec.counter ?? { next: 0 };
  const mixed = spec.kinds.length > 1;
  const latencies = spec.kinds.map(() => [] as number[]);
  const before = cpuTicks();
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.durationS,
    requests: spec.kinds.map((kind, k) => ({
      setupRequest: (req: any, context: { sentAt?: number }) => {
        const out = { ...req, ...kind.request(counter.next++) };
        if (mixed) context.sentAt = performance.now();
        return out;
      },
      ...(mixed
        ? {
            onResponse: (_status: number, _body: string, context: { sentAt?: number }) => {
              if (context.sentAt !== undefined) latencies[k].push(performance.now() - context.sentAt);
            },
          }
        : {}),
    })),
  });
  return {
    ...(mixed ? { kinds: spec.kinds.map((kind, k) => kindFigures(kind.title, latencies[k], spec.durationS)) } : {}),
    reqPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    serverCpuUs: serverCpuPerRequest(before, cpuTicks(), result.requests.total),
  };
}

export function serverCpuPerRequest(before: ReturnType<typeof cpuTicks>, after: ReturnType<typeof cpuTicks>, requests: number): number | null {
  if (!before || !after || requests === 0) return null;
  const serverTicks = after.machine - before.machine - (after.self - before.self);
  return (serverTicks * TICK_US) / requests;
}

/** A kind's figures from its latencies (ms) over a window of `durationS`. */
export function kindFigures(title: string, latencies: number[], durationS: number): KindFigures {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] : NaN);
  return { title, reqPerSec: sorted.length / durationS, p50: at(0.5), p99: at(0.99), requests: sorted.length };
}

/** The baseline's server CPU per request over the scenario's; null when either was not measured. */
const cpuRatioOf = (base: LoadFigures, run: LoadFigures): number | null =>
  base.serverCpuUs && run.serverCpuUs ? base.serverCpuUs / run.serverCpuUs : null;

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * The machine is shared and its speed moves within seconds (the bare baseline has measured 6 000
 * and 17 000 req/s a minute apart): each round measures the baseline and then the scenario right
 * after it, and the ratio is the median of the rounds' ratios. Throughput and p50 are the medians
 * of the rounds; p99 is the worst round's; counts are summed.
 */
export async function pairedRounds(
  baseline: () => Promise<LoadFigures>,
  scenario: () => Promise<LoadFigures>,
  rounds: number,
): Promise<{ figures: LoadFigures; ratio: number; baselineReqPerSec: number; cpuRatio: number | null; baselineServerCpuUs: number | null }> {
  const bases: LoadFigures[] = [];
  const runs: LoadFigures[] = [];
  for (let r = 0; r < rounds; r++) {
    bases.push(await baseline());
    runs.push(await scenario());
  }
  return summarizeRounds(bases, runs);
}

/** The rounds' figures as one result: runs[i] was measured right after (or near) bases[i]. */
export function summarizeRounds(
  bases: LoadFigures[],
  runs: LoadFigures[],
): { figures: LoadFigures; ratio: number; baselineReqPerSec: number; cpuRatio: number | null; baselineServerCpuUs: number | null } {
  const sum = (key: 'requests' | 'errors' | 'timeouts' | 'non2xx') => runs.reduce((n, f) => n + f[key], 0);
  const cpuRatios = runs.map((f, i) => cpuRatioOf(bases[i], f));
  const medianOrNull = (xs: (number | null)[]) => (xs.every((x) => x !== null) ? median(xs as number[]) : null);
  return {
    figures: {
      reqPerSec: median(runs.map((f) => f.reqPerSec)),
      p50: median(runs.map((f) => f.p50)),
      p99: Math.max(...runs.map((f) => f.p99)),
      requests: sum('requests'),
      errors: sum('errors'),
      timeouts: sum('timeouts'),
      non2xx: sum('non2xx'),
      serverCpuUs: medianOrNull(runs.map((f) => f.serverCpuUs)),
      ...(runs[0]?.kinds
        ? {
            kinds: runs[0].kinds.map((kind, k) => {
              const of = runs.map((f) => f.kinds![k]);
              return {
                title: kind.title,
                reqPerSec: median(of.map((x) => x.reqPerSec)),
                p50: median(of.map((x) => x.p50)),
                p99: Math.max(...of.map((x) => x.p99)),
                requests: of.reduce((n, x) => n + x.requests, 0),
              };
            }),
          }
        : {}),
    },
    ratio: median(runs.map((f, i) => f.reqPerSec / bases[i].reqPerSec)),
    baselineReqPerSec: median(bases.map((f) => f.reqPerSec)),
    cpuRatio: medianOrNull(cpuRatios),
    baselineServerCpuUs: medianOrNull(bases.map((f) => f.serverCpuUs)),
  };
}

/** One request of each kind first: a scenario whose route is missing (or broken) is reported, not timed. */
async function probe(url: string, scenario: Scenario, support: ScenarioSupport): Promise<string | null> {
  const n = 1_000_003;
  for (const kind of requestKinds(scenario)) {
    const { method, path, headers, body } = buildRequest(kind, support, n);
    const res = await fetch(url + path, { method, headers, body });
    const text = await res.text();
    if (res.status < 200 || res.status >= 300) return `probe of ${kind.title} answered ${res.status}: ${text.slice(0, 120)}`;
  }
  return null;
}

const fmt = (n: number | undefined, digits = 0) => (n === undefined || Number.isNaN(n) ? '–' : n.toFixed(digits));
const mark = (ok: boolean | undefined) => (ok === undefined ? '' : ok ? '✓' : '✗');

export function resultTable(run: RunResult): string {
  const lines = [
    `| scenario | req/s | ratio (target) | p50 ms | p99 ms (target) | errors / non-2xx | server CPU µs/req (CPU ratio) |`,
    `|---|---:|---:|---:|---:|---:|---:|`,
    `| baseline (bare Fastify, static 0.6 KB; first run) | ${fmt(run.baseline.reqPerSec)} | 1.00 | ${fmt(run.baseline.p50)} | ${fmt(run.baseline.p99)} | ${run.baseline.errors} / ${run.baseline.non2xx} | ${fmt(run.baseline.serverCpuUs ?? undefined, 1)} (1.00) |`,
  ];
  for (const s of run.scenarios) {
    if (s.status === 'skipped') {
      lines.push(`| ${s.title} | – | – | – | – | skipped: ${s.reason?.replace(/\|/g, '\\|')} | – |`);
      continue;
    }
    const ratio = `${fmt(s.ratio, 3)}${s.target ? ` (≥${s.target.ratio.toFixed(2)} ${mark(s.pass?.ratio)})` : ''}`;
    const p99 = `${fmt(s.p99)}${s.target ? ` (≤${s.target.p99} ${mark(s.pass?.p99)})` : ''}`;
    const cpu = s.serverCpuUs == null ? '–' : `${fmt(s.serverCpuUs, 1)} (${fmt(s.cpuRatio ?? undefined, 3)})`;
    lines.push(`| ${s.title} | ${fmt(s.reqPerSec)} | ${ratio} | ${fmt(s.p50)} | ${p99} | ${(s.errors ?? 0) + (s.timeouts ?? 0)} / ${s.non2xx} | ${cpu} |`);
    for (const k of s.kinds ?? []) lines.push(`| ↳ ${k.title} (in the mix) | ${fmt(k.reqPerSec)} | – | ${fmt(k.p50, 1)} | ${fmt(k.p99, 1)} | – | – |`);
  }
  const p = run.parley;
  lines.push('');
  lines.push(
    `Parley process: start to first healthy response ${fmt(p.startToHealthyMs)} ms (target ≤ 2000 ${mark(p.startToHealthyMs <= 2000)}), ` +
      `idle RSS ${fmt(p.idleRssMb ?? undefined)} MB (≤ 150 ${mark(p.idleRssMb === null ? undefined : p.idleRssMb <= 150)}), ` +
      `peak RSS ${fmt(p.peakRssMb ?? undefined)} MB (≤ 500 ${mark(p.peakRssMb === null ? undefined : p.peakRssMb <= 500)}).`,
  );
  return lines.join('\n');
}

function readResult(scale: Scale, engine: Engine): RunResult | null {
  const file = join(RESULTS_DIR, `${scale}-${engine}-latest.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as RunResult) : null;
}

/** PostgreSQL next to SQLite for one scale; issue 5 asks PostgreSQL for at least half of SQLite's throughput. */
export function engineTable(sqlite: RunResult, postgres: RunResult): string {
  const lines = [`| scenario | SQLite req/s (ratio) | PostgreSQL req/s (ratio) | PG / SQLite (≥ 0.50) | p99 SQLite / PG ms |`, `|---|---:|---:|---:|---:|`];
  for (const s of sqlite.scenarios) {
    const p = postgres.scenarios.find((x) => x.name === s.name);
    if (!p || s.status !== 'ran' || p.status !== 'ran') {
      lines.push(`| ${s.title} | ${s.status === 'ran' ? fmt(s.reqPerSec) : 'skipped'} | ${p?.status === 'ran' ? fmt(p.reqPerSec) : 'skipped'} | – | – |`);
      continue;
    }
    const rel = p.ratio! / s.ratio!;
    lines.push(`| ${s.title} | ${fmt(s.reqPerSec)} (${fmt(s.ratio, 3)}) | ${fmt(p.reqPerSec)} (${fmt(p.ratio, 3)}) | ${fmt(rel, 2)} ${mark(rel >= 0.5)} | ${fmt(s.p99)} / ${fmt(p.p99)} |`);
    for (const [k, sk] of (s.kinds ?? []).entries()) {
      const pk = p.kinds?.[k];
      if (pk) lines.push(`| ↳ ${sk.title} (in the mix) | ${fmt(sk.reqPerSec)} | ${fmt(pk.reqPerSec)} | ${fmt(pk.reqPerSec / sk.reqPerSec, 2)} | ${fmt(sk.p99, 1)} / ${fmt(pk.p99, 1)} |`);
    }
  }
  return lines.join('\n');
}

/** How each figure grows with the dataset (ratio to baseline, p99) for one engine. */
export function scaleTable(runs: RunResult[]): string {
  const head = `| scenario | ${runs.map((r) => `${r.scale} ratio / p99 ms`).join(' | ')} |`;
  const lines = [head, `|---|${runs.map(() => '---:').join('|')}|`];
  for (const s of runs[0].scenarios) {
    const cells = runs.map((r) => {
      const x = r.scenarios.find((y) => y.name === s.name);
      return x?.status === 'ran' ? `${fmt(x.ratio, 3)} / ${fmt(x.p99)}` : 'skipped';
    });
    lines.push(`| ${s.title} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** bench/results/summary.md: every latest result, engine comparisons and scale growth. */
function writeSummary(): string {
  const parts: string[] = ['# Benchmark results (latest per scale and engine)', '', 'Generated by `npm run bench`; see bench/run.ts.', ''];
  for (const engine of ['sqlite', 'postgres'] as Engine[]) {
    const runs = SCALE_NAMES.map((s) => readResult(s, engine)).filter((r): r is RunResult => r !== null);
    for (const r of runs) {
      parts.push(`## ${r.scale}, ${r.engine}`, '');
      parts.push(`\`${r.command}\` — ${r.startedAt}, ${r.machine.cpu} × ${r.machine.cores}, ${r.machine.memoryGb} GB, Node ${r.machine.node}, ${r.machine.os}; ` + `load average at start ${r.machine.loadAvgAtStart?.join(' ') ?? '?'}; ${r.settings.connections} connections, ${r.settings.rounds && r.settings.rounds > 1 ? `${r.settings.rounds} paired rounds (baseline, then scenario) of ${Math.max(3, Math.round(r.settings.durationS / r.settings.rounds))} s each, median ratio` : `${r.settings.durationS} s per scenario`} after ${r.settings.warmupS} s warm-up, LOG_LEVEL=${r.settings.logLevel}. ` + `Dataset: ${Object.entries(r.dataset.counts).map(([k, v]) => `${v} ${k}`).join(', ')} (generated in ${(r.dataset.generationMs / 1000).toFixed(1)} s).`, '');
      parts.push(resultTable(r), '');
    }
    if (runs.length > 1) parts.push(`## Growth with scale, ${engine}`, '', scaleTable(runs), '');
  }
  for (const scale of SCALE_NAMES) {
    const a = readResult(scale, 'sqlite');
    const b = readResult(scale, 'postgres');
    const together = a?.settings.interleaved && b?.settings.interleaved && a.startedAt === b.startedAt;
    if (a && b) parts.push(`## SQLite vs PostgreSQL, ${scale}${together ? ' (interleaved in one run)' : ` (SQLite ${a.startedAt}, PostgreSQL ${b.startedAt})`}`, '', engineTable(a, b), '');
  }
  const text = parts.join('\n');
  writeFileSync(join(RESULTS_DIR, 'summary.md'), text);
  return text;
}

/** One engine's Parley under test: its dataset copy, its process and what was measured of it. */
interface EngineUnderTest {
  engine: Engine;
  support: ScenarioSupport;
  manifest: Awaited<ReturnType<typeof ensureDataset>>['manifest'];
  reused: boolean;
  target: Awaited<ReturnType<typeof runCopy>>['target'];
  parley: Awaited<ReturnType<typeof startParley>>;
  idle: ReturnType<typeof readMemory>;
  peakSampled: number;
  results: ScenarioResult[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scale: { type: 'string', default: 'small' },
      // sqlite, postgres, or both: both engines' servers side by side, their windows interleaved
      engine: { type: 'string', default: 'sqlite' },
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      connections: { type: 'string', default: '10' },
      scenarios: { type: 'string' },
      'log-level': { type: 'string', default: 'warn' },
      // one baseline at the start instead of one right before each scenario
      'single-baseline': { type: 'boolean', default: false },
      // paired rounds per scenario: each a baseline window then a scenario window of duration/rounds s
      rounds: { type: 'string', default: '3' },
      regenerate: { type: 'boolean', default: false },
      // write a V8 CPU profile of the Parley process (node --cpu-prof) into this folder
      'cpu-prof': { type: 'string' },
    },
  });
  const scale = values.scale as Scale;
  if (!SCALE_NAMES.includes(scale)) throw new Error(`--scale must be one of ${SCALE_NAMES.join(', ')}`);
  if (!['sqlite', 'postgres', 'both'].includes(values.engine!)) throw new Error('--engine must be sqlite, postgres or both');
  const engines: Engine[] = values.engine === 'both' ? ['sqlite', 'postgres'] : [values.engine as Engine];
  const interleaved = engines.length > 1;
  const durationS = Number(values.duration);
  const warmupS = Number(values.warmup);
  const connections = Number(values.connections);
  const paired = !values['single-baseline'];
  const rounds = Math.max(1, Number(values.rounds));
  const windowS = Math.max(3, Math.round(durationS / rounds));
  const wanted = values.scenarios?.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = wanted?.filter((w) => !SCENARIOS.some((s) => s.name === w)) ?? [];
  if (unknown.length) throw new Error(`unknown scenarios: ${unknown.join(', ')} (known: ${SCENARIOS.map((s) => s.name).join(', ')})`);
  const scenarios = wanted ? SCENARIOS.filter((s) => wanted.includes(s.name)) : SCENARIOS;
  const log = (line: string) => console.log(line);

  const startedAt = new Date().toISOString();
  // A shared machine: the load before the run says how much the figures can be trusted.
  const loadAvgAtStart = loadavg().map((x) => Math.round(x * 100) / 100);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const children: Child[] = [];
  const copies: { drop(): Promise<void> }[] = [];
  const sampled: EngineUnderTest[] = [];
  const sampler = setInterval(() => {
    for (const e of sampled) {
      const m = readMemory(e.parley.pid);
      if (m) e.peakSampled = Math.max(e.peakSampled, m.rssMb);
    }
  }, 200);
  try {
    const units: EngineUnderTest[] = [];
    for (const engine of engines) {
      const { manifest, target: cached, reused } = await ensureDataset(scale, engine, { log, force: values.regenerate });
      // The run writes into a copy: every run starts from the dataset as generated (generate.ts runCopy).
      const copy = await runCopy(cached, log);
      copies.push(copy);
      await warmDataset(copy.target, log);
      log(`Starting Parley on the ${scale} ${engine} dataset…`);
      const parley = await startParley({ ...targetEnv(copy.target), LOG_LEVEL: values['log-level']! }, await freePort(), {
        logFile: join(DATA_DIR, `parley-${scale}-${engine}.log`),
        timeoutMs: 120_000,
        nodeArgs: values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] : [],
      });
      children.push(parley);
      log(`  first healthy response after ${parley.startMs.toFixed(0)} ms`);
      await sleep(1500);
      const idle = readMemory(parley.pid);
      const unit: EngineUnderTest = { engine, support: new ScenarioSupport(manifest), manifest, reused, target: copy.target, parley, idle, peakSampled: idle?.rssMb ?? 0, results: [] };
      units.push(unit);
      sampled.push(unit);
    }
    log('Starting the baseline…');
    const baseline = await startBaseline(await freePort());
    children.push(baseline);

    const profileToken = units[0].support.agentToken;
    const baselineSpec = (d: number): LoadSpec => ({
      url: baseline.url,
      connections,
      durationS: d,
      kinds: [{ title: 'baseline', request: () => ({ method: 'GET', path: '/api/v1/profile', headers: { api_access_token: profileToken } }) }],
    });
    log(`Baseline: warm-up ${warmupS} s, then ${durationS} s…`);
    if (warmupS > 0) await load(baselineSpec(warmupS));
    const base = await load(baselineSpec(durationS));
    log(`  ${base.reqPerSec.toFixed(0)} req/s, p50 ${base.p50} ms, p99 ${base.p99} ms`);

    for (const scenario of scenarios) {
      // Each scenario walks its own slice of the ids (support.firstRequest), so a scenario that
      // writes (the reply adds messages to the conversations it visits) does not change what a
      // later one reads: the messages scenario reads the dataset as generated.
      // The slice is the scenario's place in the whole list, so a --scenarios subset walks the same ids.
      const running: { unit: EngineUnderTest; spec: (d: number) => LoadSpec; runs: LoadFigures[] }[] = [];
      for (const unit of units) {
        const reason = await probe(unit.parley.url, scenario, unit.support).catch((e: Error) => `probe failed: ${e.message}`);
        if (reason) {
          log(`${scenario.name} (${unit.engine}): skipped (${reason})`);
          unit.results.push({ name: scenario.name, title: scenario.title, status: 'skipped', reason, target: scenario.target });
          continue;
        }
        const counter = { next: unit.support.firstRequest(SCENARIOS.indexOf(scenario), SCENARIOS.length) };
        const spec = (d: number): LoadSpec => ({
          counter,
          url: unit.parley.url,
          connections,
          durationS: d,
          kinds: requestKinds(scenario).map((kind) => ({ title: kind.title, request: (i: number) => buildRequest(kind, unit.support, i) })),
        });
        running.push({ unit, spec, runs: [] });
      }
      if (running.length === 0) continue;
      const names = running.map((r) => r.unit.engine).join(' and ');
      for (const r of running) {
        await warmDataset(r.unit.target, log);
        log(`${scenario.name}${interleaved ? ` (${r.unit.engine})` : ''}: warm-up ${warmupS} s`);
        if (warmupS > 0) await load(r.spec(warmupS));
      }
      log(`${scenario.name}: ${paired ? `${rounds} × (baseline ${windowS} s, then ${names} ${windowS} s each${interleaved ? ', their order alternating' : ''})` : `${durationS} s${interleaved ? ` each on ${names}` : ''}`}…`);
      const bases: LoadFigures[] = [];
      if (paired) {
        for (let round = 0; round < rounds; round++) {
          bases.push(await load(baselineSpec(windowS)));
          // Interleaved: the engines take turns being measured first after the baseline.
          const order = round % 2 === 0 ? running : [...running].reverse();
          for (const r of order) r.runs.push(await load(r.spec(windowS)));
        }
      } else {
        for (const r of running) r.runs.push(await load(r.spec(durationS)));
      }
      for (const { unit, runs } of running) {
        const { figures, ratio, baselineReqPerSec: pairedBase, cpuRatio, baselineServerCpuUs } = paired
          ? summarizeRounds(bases, runs)
          : { figures: runs[0], ratio: runs[0].reqPerSec / base.reqPerSec, baselineReqPerSec: base.reqPerSec, cpuRatio: cpuRatioOf(base, runs[0]), baselineServerCpuUs: base.serverCpuUs };
        const pass = scenario.target ? { ratio: ratio >= scenario.target.ratio, p99: figures.p99 <= scenario.target.p99 } : undefined;
        unit.results.push({ name: scenario.name, title: scenario.title, status: 'ran', ...figures, ratio, baselineReqPerSec: pairedBase, cpuRatio, baselineServerCpuUs, target: scenario.target, pass });
        if (unit.engine === 'postgres' && writes(scenario)) await vacuumPostgres(unit.target, log, `after ${scenario.name}, as autovacuum would`);
        log(`  ${interleaved ? `${unit.engine}: ` : ''}${figures.reqPerSec.toFixed(0)} req/s (${ratio.toFixed(2)} of baseline ${pairedBase.toFixed(0)}), p50 ${figures.p50} ms, p99 ${figures.p99} ms, errors ${figures.errors + figures.timeouts}, non-2xx ${figures.non2xx}, server CPU ${fmt(figures.serverCpuUs ?? undefined)} µs/request (baseline ${fmt(baselineServerCpuUs ?? undefined)})`);
        for (const k of figures.kinds ?? []) log(`    ${k.title}: ${k.reqPerSec.toFixed(0)} req/s, p50 ${fmt(k.p50, 1)} ms, p99 ${fmt(k.p99, 1)} ms`);
      }
    }
    clearInterval(sampler);

    const written: RunResult[] = [];
    const files: string[] = [];
    for (const unit of units) {
      const mem = readMemory(unit.parley.pid);
      const run: RunResult = {
        scale,
        engine: unit.engine,
        command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
        startedAt,
        machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version, os: `${platform()} ${release()}`, loadAvgAtStart },
        settings: { durationS, warmupS, connections, logLevel: values['log-level']!, pairedBaseline: paired, rounds: paired ? rounds : 1, interleaved },
        dataset: { generationMs: unit.manifest.generationMs, reused: unit.reused, counts: unit.manifest.counts },
        baseline: base,
        parley: {
          startToHealthyMs: Math.round(unit.parley.startMs),
          idleRssMb: unit.idle ? Math.round(unit.idle.rssMb) : null,
          peakRssMb: mem ? Math.round(Math.max(mem.peakMb, unit.peakSampled)) : null,
        },
        scenarios: unit.results,
      };
      // A partial run (--scenarios) does not overwrite the full latest result.
      const file = join(RESULTS_DIR, wanted ? `${scale}-${unit.engine}-partial.json` : `${scale}-${unit.engine}-latest.json`);
      writeFileSync(file, JSON.stringify(run, null, 2) + '\n');
      files.push(file);
      written.push(run);
      console.log(`\n## ${scale}, ${unit.engine}\n`);
      console.log(resultTable(run));
    }
    // Both engines in this run: compared window by window; otherwise against the other engine's latest run.
    const [sqliteRun, postgresRun] = interleaved
      ? written
      : written[0].engine === 'sqlite'
        ? [written[0], wanted ? null : readResult(scale, 'postgres')]
        : [wanted ? null : readResult(scale, 'sqlite'), written[0]];
    if (sqliteRun && postgresRun) {
      console.log(`\n## SQLite vs PostgreSQL, ${scale}${interleaved ? ' (interleaved in one run)' : ''}\n`);
      console.log(engineTable(sqliteRun, postgresRun));
    }
    writeSummary();
    console.log(`\nWrote ${files.join(', ')} and ${join(RESULTS_DIR, 'summary.md')}`);
  } finally {
    clearInterval(sampler);
    for (const c of children.reverse()) await c.stop();
    for (const copy of copies) await copy.drop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  });
}
