import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import type { AppContext } from '../context.js';
import { HttpError } from '../lib/errors.js';
import { READ_HANDLERS, type ReadName } from '../modules/reads.js';
import { onPresenceChange, presenceMarks } from '../realtime/presence.js';
import { encodeResult, type PresenceMessage, type ReadReply, type ReadRequest, type ReadResult, type WorkerMessage } from './protocol.js';

/**
 * SQLite: read-only routes answered by worker threads, each on a connection of its own.
 *
 * One Node process answers every request on one thread, and on SQLite a request's statements,
 * presenters and serialization all run on it: under load that thread is the limit while the
 * machine's other cores idle (measured on 2 cores: Parley's process at 100 % of one core, the
 * load tool at 25-35 % of the other). The heaviest reads (listed in modules/reads.ts) are
 * therefore handed, once the request is authenticated and its account scope loaded, to a worker
 * that runs the same handler on its own read-only connection and sends back the JSON text. The
 * request thread keeps HTTP, authentication, every write and everything with side effects.
 *
 * What a worker answers is what the request thread would: SQLite's WAL gives its connection every
 * committed change, a write is acknowledged only after its commit (group commit), and the caches a
 * handler reads are held at epochs kept in the database (db/epochs.ts), which is what lets many
 * PostgreSQL processes share them too.
 *
 * A request goes to the worker with the fewest in flight, unless every worker already has `limit`
 * in flight: then the request thread answers it itself. The limit follows the load: every
 * TUNE_MS, while either side is busy, it rises by one when the request thread is busier than the
 * workers (its HTTP work alone can fill it) and falls by one when the workers are busier, so both
 * sides stay about as busy (measured on the messages index with 10 connections: a fixed limit of 4
 * left the worker 40 % busy and the request thread 98 %, one of 64 the reverse). Requests stay on
 * the request thread while the workers are starting, and those of a worker that stopped.
 */
const TUNE_MS = 200;
const INITIAL_LIMIT = 8;
const MAX_LIMIT = 64;

interface Pending {
  resolve: (result: ReadResult) => void;
  reject: (error: Error) => void;
}

class ReadWorker {
  readonly pending = new Map<number, Pending>();
  ready = false;
  alive = true;
  private nextId = 1;

  constructor(
    readonly worker: Worker,
    onStop: (error: Error) => void,
  ) {
    worker.on('message', (message: ReadReply | 'ready') => {
      if (message === 'ready') {
        this.ready = true;
        return;
      }
      const waiting = this.pending.get(message.id);
      if (!waiting) return;
      this.pending.delete(message.id);
      if ('error' in message) waiting.reject(Object.assign(new Error(message.error.message), { stack: message.error.stack }));
      else waiting.resolve(message);
    });
    const stopped = (error: Error) => {
      if (!this.alive) return;
      this.alive = false;
      this.ready = false;
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
      onStop(error);
    };
    worker.on('error', stopped);
    worker.on('exit', (code) => stopped(new Error(`read worker exited with code ${code}`)));
  }

  run(message: Omit<WorkerMessage, 'id'>): Promise<ReadResult> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id } satisfies WorkerMessage);
    });
  }
}

export class ReadPool {
  readonly workers: ReadWorker[] = [];
  private closing = false;
  /** Reads the workers have answered (tests check that a route went through one). */
  answered = 0;
  /** In flight per worker beyond which the request thread answers a read itself (see above). */
  limit = INITIAL_LIMIT;
  private readonly tuner: NodeJS.Timeout;
  private lastMain: EventLoopUtilization = performance.eventLoopUtilization();
  private readonly lastWorker = new Map<ReadWorker, EventLoopUtilization>();
  /** Presence changes not yet sent to the workers (each is sent before the next read leaves). */
  private readonly presenceMarks = new Map<string, number>();
  private presenceCleared = false;
  private readonly stopListening: () => void;

  constructor(config: Config, size: number, onStop: (error: Error) => void) {
    const [entry, options] = workerEntry();
    for (let i = 0; i < size; i++) {
      const worker = new Worker(entry, { ...options, workerData: { config } });
      worker.unref();
      // Queued until the worker listens: it starts from the marks held now, then gets every later one.
      worker.postMessage({ presence: { marks: presenceMarks() } } satisfies PresenceMessage);
      this.workers.push(new ReadWorker(worker, (error) => this.closing || onStop(error)));
    }
    this.stopListening = onPresenceChange((change) => {
      if ('cleared' in change) {
        this.presenceCleared = true;
        this.presenceMarks.clear();
      } else for (const [k, at] of change.marks) this.presenceMarks.set(k, at);
    });
    this.tuner = setInterval(() => this.tune(), TUNE_MS);
    this.tuner.unref();
  }

  /** The worker to hand a request to, or null to answer it on the request thread. */
  pick(): ReadWorker | null {
    let best: ReadWorker | null = null;
    for (const w of this.workers) if (w.ready && (best === null || w.pending.size < best.pending.size)) best = w;
    if (best === null || best.pending.size >= this.limit) return null;
    this.sendPresence();
    return best;
  }

  /** Brings every worker's presence up to the request thread's, ahead of the read about to leave. */
  private sendPresence(): void {
    if (!this.presenceCleared && this.presenceMarks.size === 0) return;
    const changes: PresenceMessage[] = [];
    if (this.presenceCleared) changes.push({ presence: { cleared: true } });
    if (this.presenceMarks.size > 0) changes.push({ presence: { marks: [...this.presenceMarks] } });
    this.presenceCleared = false;
    this.presenceMarks.clear();
    for (const w of this.workers) if (w.alive) for (const change of changes) w.worker.postMessage(change);
  }

  /** Moves the limit one step towards equal busyness of the request thread and the workers. */
  private tune(): void {
    const main = performance.eventLoopUtilization(this.lastMain).utilization;
    this.lastMain = performance.eventLoopUtilization();
    let sum = 0;
    let ready = 0;
    for (const w of this.workers) {
      if (!w.ready) continue;
      const now = w.worker.performance.eventLoopUtilization();
      const last = this.lastWorker.get(w);
      this.lastWorker.set(w, now);
      if (!last) continue;
      sum += w.worker.performance.eventLoopUtilization(now, last).utilization;
      ready++;
    }
    if (ready === 0) return;
    const workers = sum / ready;
    if (Math.max(main, workers) < 0.5) return;
    if (main > workers + 0.1) this.limit = Math.min(MAX_LIMIT, this.limit + 1);
    else if (workers > main + 0.1) this.limit = Math.max(1, this.limit - 1);
  }

  /** Resolves once every worker has loaded (tests; the server answers on its own thread until then). */
  async started(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.workers.some((w) => w.alive && !w.ready)) {
      if (Date.now() > deadline) throw new Error('read workers did not start');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.tuner);
    this.stopListening();
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}

/**
 * The worker's script: the compiled worker.js, or under tsx (tests, development) its TypeScript
 * source, loaded through tsx's loader (a worker thread does not inherit the one `--import tsx` registered).
 */
function workerEntry(): [string | URL, { eval?: boolean }] {
  if (!import.meta.url.endsWith('.ts')) return [new URL('./worker.js', import.meta.url), {}];
  const tsx = import.meta.resolve('tsx/esm/api');
  const source = new URL('./worker.ts', import.meta.url).href;
  return [`import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(source)}); });`, { eval: true }];
}

/** How many read workers a configuration gets: SQLite only (PostgreSQL does its work in its own processes). */
export function readWorkerCount(config: Config): number {
  return config.engine === 'sqlite' ? config.readWorkers : 0;
}

/**
 * A route's Fastify handler for the read `name` (modules/reads.ts): on a worker when one is free,
 * else on this thread. Both answer the same status and the same JSON text.
 */
export function readRoute(ctx: AppContext, name: ReadName) {
  const handler = READ_HANDLERS[name] as (ctx: AppContext, request: ReadRequest) => Promise<unknown>;
  return async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const scope: ReadRequest = {
      params: request.params,
      query: request.query,
      body: request.body,
      principal: request.principal,
      authEpoch: request.authEpoch,
      account: request.account,
      accountUser: request.accountUser,
    };
    const pool = ctx.readPool;
    const worker = pool?.pick();
    let result: ReadResult;
    if (worker) {
      result = await worker.run({ name, request: scope });
      pool!.answered++;
    } else {
      result = await encodeResult(() => handler(ctx, scope));
    }
    if ('failure' in result) throw new HttpError(result.status, result.failure);
    return reply.status(result.status).type(JSON_TYPE).send(result.json);
  };
}

const JSON_TYPE = 'application/json; charset=utf-8';
