/**
 * npm run chaos -- [--engine sqlite|postgres] [--kills 10] [--workers 8] [--keep]
 *
 * The crash test: Parley runs as a child process on a fresh seeded database while this
 * process applies steady write load (agent replies with unique echo_ids, contact creates with
 * unique emails, contact updates, conversation status toggles). The server is SIGKILLed at
 * random moments and restarted each time. Every request that got a 2xx is recorded; at the
 * end the database must hold each acknowledged change exactly once, nothing half-written, and
 * (SQLite) pass PRAGMA integrity_check. Exits non-zero on any loss or inconsistency.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sql, type RawBuilder } from 'kysely';
import type { Engine } from '../src/config.js';
import { openStore } from '../src/db/connection.js';
import { dropPgDatabase, generateDataset, postgresUrl, targetEnv, withDatabase, type Manifest, type Target } from './generate.js';
import { freePort, sleep, startParley, type Child } from './server.js';

export interface ChaosOptions {
  engine: Engine;
  kills: number;
  /** Concurrent request loops (each owns a disjoint set of contacts and conversations). */
  workers?: number;
  /** Each server life lasts a random time in [minLifeMs, maxLifeMs] before the SIGKILL. */
  minLifeMs?: number;
  maxLifeMs?: number;
  keep?: boolean;
  log?: (line: string) => void;
}

type OpKind = 'reply' | 'contact_create' | 'contact_update' | 'status_toggle';
const OP_KINDS: OpKind[] = ['reply', 'contact_create', 'contact_update', 'status_toggle'];

export interface ChaosReport {
  engine: Engine;
  kills: number;
  restarts: number;
  /** Milliseconds from spawn to healthy, per life (the first is the cold start). */
  startMs: number[];
  sent: number;
  failed: number;
  /** why requests got no 2xx: 'connection' (cut by a kill) or the HTTP status */
  failures: Record<string, number>;
  acknowledged: Record<OpKind, number> & { total: number };
  found: number;
  missing: number;
  duplicates: number;
  /** changes committed although their request never got an answer (legitimate after a kill) */
  committedUnacknowledged: number;
  inconsistencies: string[];
  integrity: string;
  /** operations whose route answered 404 (not built yet), so they were not exercised */
  unavailable: OpKind[];
  ok: boolean;
}

interface Ack {
  replies: Map<string, number>; // echo_id → display id
  sentEchoIds: Set<string>;
  contacts: Map<string, boolean>; // email → created with inbox
  sentEmails: Set<string>;
  // contact id → last acknowledged seq, last sent seq, how many were acknowledged
  updates: Map<number, { acked: number; sent: number; count: number }>;
  // display id → statuses sent in order, index of the last acknowledged one, how many were acknowledged
  toggles: Map<number, { sent: string[]; acked: number; count: number }>;
}

const STATUS_CODE: Record<string, number> = { open: 0, resolved: 1, pending: 2, snoozed: 3 };

async function call(url: string, method: string, path: string, token: string, body: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(url + path, {
    method,
    headers: { api_access_token: token, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, text: await res.text() };
}

const isRouteMissing = (r: { status: number; text: string }) => r.status === 404;

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => undefined);
  const workers = options.workers ?? 8;
  const minLife = options.minLifeMs ?? 500;
  const maxLife = options.maxLifeMs ?? 2500;
  const runId = `${process.pid}x${Date.now().toString(36)}`;
  const tmp = mkdtempSync(join(tmpdir(), 'parley-chaos-'));
  const target: Target =
    options.engine === 'postgres'
      ? { engine: 'postgres', databaseUrl: withDatabase(postgresUrl(), `parley_chaos_${runId.toLowerCase()}`) }
      : { engine: 'sqlite', databaseUrl: join(tmp, 'chaos.sqlite3') };
  const logFile = join(tmp, 'parley.log');

  log(`Seeding a fresh ${options.engine} database…`);
  const manifest: Manifest = await generateDataset(target, 'tiny');
  const account = `/api/v1/accounts/${manifest.accountId}`;
  const token = manifest.admin.token;
  const port = await freePort();
  const env = targetEnv(target);

  const ack: Ack = { replies: new Map(), sentEchoIds: new Set(), contacts: new Map(), sentEmails: new Set(), updates: new Map(), toggles: new Map() };
  const acknowledged = { reply: 0, contact_create: 0, contact_update: 0, status_toggle: 0, total: 0 };
  const unavailable = new Set<OpKind>();
  let sent = 0;
  let failed = 0;
  const failures: Record<string, number> = {};
  const fail = (why: string) => {
    failed += 1;
    failures[why] = (failures[why] ?? 0) + 1;
  };
  let server: Child | null = null;
  let stopping = false;
  const startMs: number[] = [];
  // Workers wait while the server is down (between a kill and the next healthy answer) instead of spinning on refused connections.
  let serverUp: Promise<void> = Promise.resolve();
  let markUp: () => void = () => undefined;

  const conversations = manifest.counts.conversations;
  const contacts = manifest.counts.contacts;

  /** One write, recorded before it is sent (so a commit without an answer is recognised) and acknowledged on a 2xx. */
  async function operate(kind: OpKind, w: number, n: number): Promise<{ status: number; text: string }> {
    const url = `http://127.0.0.1:${port}`;
    switch (kind) {
      case 'reply': {
        const displayId = 1 + ((n * 31 + w * 7) % conversations);
        const echo = `chaos-${runId}-${w}-${n}`;
        ack.sentEchoIds.add(echo);
        const r = await call(url, 'POST', `${account}/conversations/${displayId}/messages`, token, { content: `Chaos reply ${echo}`, message_type: 'outgoing', private: false, echo_id: echo });
        if (r.status < 300 && r.status >= 200) ack.replies.set(echo, displayId);
        return r;
      }
      case 'contact_create': {
        const email = `chaos-${runId}-${w}-${n}@example.com`.toLowerCase();
        const withInbox = n % 2 === 0;
        ack.sentEmails.add(email);
        const r = await call(url, 'POST', `${account}/contacts`, token, { name: `Chaos ${w}-${n}`, email, ...(withInbox ? { inbox_id: manifest.inboxIds[0] } : {}) });
        if (r.status < 300 && r.status >= 200) ack.contacts.set(email, withInbox);
        return r;
      }
      case 'contact_update': {
        // Worker w owns the contacts whose index ≡ w (mod workers): one writer per contact, so "last acknowledged" is well defined.
        const owned = Math.floor(contacts / workers);
        const index = w + workers * (n % Math.max(1, owned));
        const id = manifest.firstContactId + (index % contacts);
        const state = ack.updates.get(id) ?? { acked: 0, sent: 0, count: 0 };
        state.sent += 1;
        const seq = state.sent;
        ack.updates.set(id, state);
        const r = await call(url, 'PUT', `${account}/contacts/${id}`, token, { name: `chaos-seq-${seq}` });
        if (r.status < 300 && r.status >= 200) {
          state.acked = seq;
          state.count++;
        }
        return r;
      }
      case 'status_toggle': {
        const owned = Math.floor(conversations / workers);
        const displayId = 1 + ((w + workers * (n % Math.max(1, owned))) % conversations);
        const state = ack.toggles.get(displayId) ?? { sent: [], acked: -1, count: 0 };
        const status = state.sent.length % 2 === 0 ? 'resolved' : 'open';
        state.sent.push(status);
        const index = state.sent.length - 1;
        ack.toggles.set(displayId, state);
        const r = await call(url, 'POST', `${account}/conversations/${displayId}/toggle_status`, token, { status });
        if (r.status < 300 && r.status >= 200) {
          state.acked = index;
          state.count++;
        }
        return r;
      }
    }
  }

  const weights: [OpKind, number][] = [
    ['reply', 40],
    ['contact_create', 25],
    ['contact_update', 20],
    ['status_toggle', 15],
  ];
  function chooseKind(): OpKind | null {
    const live = weights.filter(([k]) => !unavailable.has(k));
    if (live.length === 0) return null;
    let r = Math.random() * live.reduce((a, [, x]) => a + x, 0);
    for (const [k, x] of live) {
      r -= x;
      if (r <= 0) return k;
    }
    return live[live.length - 1][0];
  }

  async function worker(w: number): Promise<void> {
    let n = 0;
    while (!stopping) {
      await serverUp;
      if (stopping) return;
      const kind = chooseKind();
      if (!kind) return;
      n += 1;
      sent += 1;
      try {
        const r = await operate(kind, w, n);
        if (r.status >= 200 && r.status < 300) {
          acknowledged[kind] += 1;
          acknowledged.total += 1;
        } else {
          fail(String(r.status));
          if (r.status >= 500) log(`  ${kind}: ${r.status} ${r.text.slice(0, 160)}`);
        }
      } catch {
        fail('connection');
        await sleep(20);
      }
    }
  }

  const start = async () => {
    server = await startParley(env, port, { logFile, timeoutMs: 60_000 });
    startMs.push(Math.round(server.startMs));
  };

  try {
    await start();
    // Which operations exist yet: one real request each (acknowledged ones count like any other).
    for (const kind of OP_KINDS) {
      const r = await operate(kind, workers, 0);
      sent += 1;
      if (r.status >= 200 && r.status < 300) {
        acknowledged[kind] += 1;
        acknowledged.total += 1;
      } else if (isRouteMissing(r)) {
        unavailable.add(kind);
        log(`  ${kind}: route answers 404, not exercised`);
      } else {
        fail(String(r.status));
        log(`  ${kind}: probe answered ${r.status} ${r.text.slice(0, 160)}`);
      }
    }
    const loops = unavailable.size === OP_KINDS.length ? [] : Array.from({ length: workers }, (_, w) => worker(w));
    for (let k = 1; k <= options.kills; k++) {
      await sleep(minLife + Math.random() * (maxLife - minLife));
      serverUp = new Promise((r) => (markUp = r));
      await server!.kill();
      log(`  kill ${k}/${options.kills}: ${acknowledged.total} acknowledged so far`);
      await start();
      markUp();
    }
    await sleep(minLife);
    stopping = true;
    await Promise.all(loops);
    await server!.stop();
  } catch (err) {
    stopping = true;
    markUp();
    let tail = '';
    try {
      tail = readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');
    } catch {
      // no log yet
    }
    throw new Error(`${(err as Error).message}\n--- server log (tail) ---\n${tail}`, { cause: err });
  }

  log('Verifying the database…');
  const store = openStore({ engine: target.engine, databaseUrl: target.databaseUrl });
  const db = store.db;
  const inconsistencies: string[] = [];
  let found = 0;
  let missing = 0;
  let duplicates = 0;
  let committedUnacknowledged = 0;
  let integrity = 'not applicable (PostgreSQL)';
  try {
    // Replies, by echo_id.
    const messageRows = await db
      .selectFrom('messages')
      .innerJoin('conversations', 'conversations.id', 'messages.conversation_id')
      .select(['messages.echo_id', 'conversations.display_id'])
      .where('messages.echo_id', 'like', `chaos-${runId}-%`)
      .execute();
    const byEcho = new Map<string, number[]>();
    for (const m of messageRows) byEcho.set(m.echo_id!, [...(byEcho.get(m.echo_id!) ?? []), m.display_id]);
    for (const [echo, displayId] of ack.replies) {
      const rows = byEcho.get(echo) ?? [];
      if (rows.length === 0) missing++;
      else found++;
      if (rows.length > 1) duplicates += rows.length - 1;
      if (rows.some((d) => d !== displayId)) inconsistencies.push(`message ${echo} is in conversation ${rows.join(',')}, sent to ${displayId}`);
    }
    for (const [echo, rows] of byEcho) {
      if (!ack.replies.has(echo)) {
        committedUnacknowledged++;
        if (rows.length > 1) duplicates += rows.length - 1;
        if (!ack.sentEchoIds.has(echo)) inconsistencies.push(`message ${echo} was never sent`);
      }
    }

    // Created contacts, by email.
    const contactRows = await db
      .selectFrom('contacts')
      .leftJoin('contact_inboxes', 'contact_inboxes.contact_id', 'contacts.id')
      .select(['contacts.id', 'contacts.email', 'contact_inboxes.id as contact_inbox_id'])
      .where('contacts.email', 'like', `chaos-${runId.toLowerCase()}-%`)
      .execute();
    const byEmail = new Map<string, { ids: Set<number>; inboxes: number }>();
    for (const c of contactRows) {
      const e = byEmail.get(c.email!) ?? { ids: new Set<number>(), inboxes: 0 };
      e.ids.add(c.id);
      if (c.contact_inbox_id !== null) e.inboxes++;
      byEmail.set(c.email!, e);
    }
    for (const [email, withInbox] of ack.contacts) {
      const e = byEmail.get(email);
      if (!e) {
        missing++;
        continue;
      }
      found++;
      if (e.ids.size > 1) duplicates += e.ids.size - 1;
      if (withInbox && e.inboxes === 0) inconsistencies.push(`contact ${email} was created with an inbox but has no contact inbox`);
    }
    for (const [email, e] of byEmail) {
      if (ack.contacts.has(email)) continue;
      committedUnacknowledged++;
      if (e.ids.size > 1) duplicates += e.ids.size - 1;
      if (!ack.sentEmails.has(email)) inconsistencies.push(`contact ${email} was never sent`);
    }

    // Updates: the stored value is the last acknowledged one or a later one that was sent.
    const updatedIds = [...ack.updates.keys()];
    if (updatedIds.length > 0) {
      const rows = await db.selectFrom('contacts').select(['id', 'name']).where('id', 'in', updatedIds).execute();
      const names = new Map(rows.map((r) => [r.id, r.name]));
      for (const [id, state] of ack.updates) {
        if (state.acked === 0) continue;
        const seq = Number(/^chaos-seq-(\d+)$/.exec(names.get(id) ?? '')?.[1] ?? 0);
        if (seq >= state.acked && seq <= state.sent) found += state.count;
        else if (seq < state.acked) {
          missing += 1;
          found += state.count - 1;
          inconsistencies.push(`contact ${id}: update ${state.acked} acknowledged, database holds ${seq || names.get(id)}`);
        } else inconsistencies.push(`contact ${id}: database holds update ${seq}, only ${state.sent} were sent`);
      }
    }

    // Status toggles: the stored status is the last acknowledged one or one sent after it.
    const toggled = [...ack.toggles.keys()];
    if (toggled.length > 0) {
      const rows = await db.selectFrom('conversations').select(['display_id', 'status']).where('account_id', '=', manifest.accountId).where('display_id', 'in', toggled).execute();
      const statuses = new Map(rows.map((r) => [r.display_id, r.status]));
      for (const [displayId, state] of ack.toggles) {
        if (state.acked < 0) continue;
        const allowed = new Set(state.sent.slice(state.acked).map((s) => STATUS_CODE[s]));
        if (allowed.has(statuses.get(displayId)!)) found += state.count;
        else {
          missing += 1;
          found += state.count - 1;
          inconsistencies.push(`conversation ${displayId}: status ${statuses.get(displayId)} but ${state.sent[state.acked]} was acknowledged`);
        }
      }
    }

    // Nothing half-written anywhere in the database.
    const check = async (label: string, query: RawBuilder<{ n: number | string }>) => {
      const r = await query.execute(db);
      const n = Number(r.rows[0]?.n ?? 0);
      if (n > 0) inconsistencies.push(`${n} ${label}`);
    };
    await check(
      'conversations without their contact inbox (missing, or of another contact or inbox)',
      sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM conversations c LEFT JOIN contact_inboxes ci ON ci.id = c.contact_inbox_id
          WHERE ci.id IS NULL OR ci.contact_id <> c.contact_id OR ci.inbox_id <> c.inbox_id`,
    );
    await check(
      "messages newer than their conversation's last_activity_at",
      sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.created_at > c.last_activity_at`,
    );
    await check('messages without a conversation', sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM messages m LEFT JOIN conversations c ON c.id = m.conversation_id WHERE c.id IS NULL`);
    await check('messages in another inbox or account than their conversation', sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.inbox_id <> c.inbox_id OR m.account_id <> c.account_id`);
    await check('contact inboxes without a contact', sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM contact_inboxes ci LEFT JOIN contacts ct ON ct.id = ci.contact_id WHERE ct.id IS NULL`);
    await check('conversations with a display_id beyond accounts.last_display_id', sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM conversations c JOIN accounts a ON a.id = c.account_id WHERE c.display_id > a.last_display_id`);

    if (target.engine === 'sqlite') {
      const r = await sql<{ integrity_check: string }>`PRAGMA integrity_check`.execute(db);
      integrity = r.rows.map((x) => x.integrity_check).join('; ');
      const fk = await sql<Record<string, unknown>>`PRAGMA foreign_key_check`.execute(db);
      if (fk.rows.length > 0) inconsistencies.push(`${fk.rows.length} rows break foreign keys`);
    }
  } finally {
    await store.close();
    if (!options.keep) {
      if (target.engine === 'postgres') await dropPgDatabase(target.databaseUrl).catch(() => undefined);
      rmSync(tmp, { recursive: true, force: true });
    } else {
      log(`Kept ${target.databaseUrl} and the server log ${logFile}`);
    }
  }

  const ok = missing === 0 && duplicates === 0 && inconsistencies.length === 0 && (integrity === 'ok' || target.engine === 'postgres');
  return {
    engine: options.engine,
    kills: options.kills,
    restarts: startMs.length - 1,
    startMs,
    sent,
    failed,
    failures,
    acknowledged,
    found,
    missing,
    duplicates,
    committedUnacknowledged,
    inconsistencies,
    integrity,
    unavailable: [...unavailable],
    ok,
  };
}

export function formatReport(r: ChaosReport): string {
  const a = r.acknowledged;
  return [
    `Crash test on ${r.engine}: ${r.kills} SIGKILLs, ${r.restarts} restarts (start to healthy ${Math.min(...r.startMs)}–${Math.max(...r.startMs)} ms)`,
    `  requests sent            ${r.sent} (${r.failed} without a 2xx: ${Object.entries(r.failures).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'})`,
    `  acknowledged (2xx)       ${a.total}  (replies ${a.reply}, contact creates ${a.contact_create}, contact updates ${a.contact_update}, status toggles ${a.status_toggle})`,
    `  found in the database    ${r.found}  (an update or toggle counts as found when the stored value is it or a later one)`,
    `  missing                  ${r.missing}`,
    `  duplicates               ${r.duplicates}`,
    `  committed, unanswered    ${r.committedUnacknowledged} (writes that landed while their answer was lost to a kill)`,
    `  inconsistencies          ${r.inconsistencies.length}${r.inconsistencies.length ? '\n    - ' + r.inconsistencies.slice(0, 20).join('\n    - ') : ''}`,
    `  integrity_check          ${r.integrity}`,
    ...(r.unavailable.length ? [`  not exercised (404)      ${r.unavailable.join(', ')}`] : []),
    r.ok ? 'RESULT: ok, nothing lost' : 'RESULT: FAILED',
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      engine: { type: 'string', default: process.env.DATABASE_URL?.startsWith('postgres') ? 'postgres' : 'sqlite' },
      kills: { type: 'string', default: '10' },
      workers: { type: 'string', default: '8' },
      keep: { type: 'boolean', default: false },
    },
  });
  const engine = values.engine as Engine;
  if (engine !== 'sqlite' && engine !== 'postgres') throw new Error('--engine must be sqlite or postgres');
  const report = await runChaos({ engine, kills: Number(values.kills), workers: Number(values.workers), keep: values.keep, log: (l) => console.log(l) });
  console.log(formatReport(report));
  process.exitCode = report.ok && report.acknowledged.total > 0 ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
