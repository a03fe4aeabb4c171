/**
 * Child processes for the benchmark and the crash test: Parley in production mode
 * (`node dist/main.js start`, built by `npm run build`) and the bare-Fastify baseline, plus the
 * small helpers around them (free ports, health polling, RSS from /proc).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** VmRSS (current) and VmHWM (peak) of a process, in MB; null when /proc is unavailable. */
export function readMemory(pid: number): { rssMb: number; peakMb: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

export interface Child {
  proc: ChildProcess;
  pid: number;
  url: string;
  /** Milliseconds from spawn to the first 200 from `healthPath`. */
  startMs: number;
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL, waiting for the process to be gone. */
  kill(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(proc: ChildProcess): void {
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // Never leave a server behind, even when the driver dies on an exception.
    process.once('exit', () => {
      for (const p of live) p.kill('SIGKILL');
    });
  }
}

async function waitHealthy(url: string, proc: ChildProcess, exited: Promise<number | null>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  while (Date.now() < deadline) {
    if (gone) throw new Error(`process ${proc.pid} exited before answering ${url}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) {
        await res.arrayBuffer();
        return;
      }
      await res.arrayBuffer();
    } catch {
      // not listening yet
    }
    await sleep(10);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}

export interface SpawnOptions {
  args: string[];
  env: Record<string, string>;
  port: number;
  healthPath: string;
  logFile?: string;
  timeoutMs?: number;
}

export async function spawnServer(options: SpawnOptions): Promise<Child> {
  const started = performance.now();
  const proc = spawn(process.execPath, options.args, {
    cwd: ROOT,
    env: { ...process.env, ...options.env, PORT: String(options.port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(proc);
  if (options.logFile) {
    const out = createWriteStream(options.logFile, { flags: 'a' });
    proc.stdout!.pipe(out);
    proc.stderr!.pipe(out);
  } else {
    proc.stdout!.resume();
    proc.stderr!.resume();
  }
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const url = `http://127.0.0.1:${options.port}`;
  try {
    await waitHealthy(url + options.healthPath, proc, exited, options.timeoutMs ?? 30_000);
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  }
  const startMs = performance.now() - started;
  const child: Child = {
    proc,
    pid: proc.pid!,
    url,
    startMs,
    exited,
    async stop(graceMs = 10_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGKILL');
      await exited;
    },
  };
  return child;
}

let built = false;

/** Compiles src/ to dist/ once per process (incremental: quick when nothing changed), as `npm start` does. */
export function buildParley(): void {
  if (built) return;
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
  built = true;
}

/** Parley as production runs it: the compiled build, migrations at start, one process. */
export function startParley(
  env: Record<string, string>,
  port: number,
  options: { logFile?: string; timeoutMs?: number; nodeArgs?: string[] } = {},
): Promise<Child> {
  buildParley();
  return spawnServer({
    args: [...(options.nodeArgs ?? []), join(ROOT, 'dist/main.js'), 'start'],
    env: { NODE_ENV: 'production', LOG_LEVEL: 'warn', ...env },
    port,
    healthPath: '/health',
    logFile: options.logFile,
    timeoutMs: options.timeoutMs,
  });
}

export function startBaseline(port: number): Promise<Child> {
  return spawnServer({
    args: ['--import', 'tsx', join(ROOT, 'bench/baseline.ts')],
    env: { NODE_ENV: 'production' },
    port,
    healthPath: '/health',
  });
}
