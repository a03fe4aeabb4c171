/**
 * Dataset generator for the benchmark and the crash test. Writes valid Parley rows straight
 * into a database through Kysely (after running the migrations), with multi-row INSERTs inside
 * large transactions, so a medium dataset (1.5 M rows) takes tens of seconds, not hours.
 *
 *   node --import tsx bench/generate.ts --scale small|medium|large [--engine sqlite|postgres] [--force]
 *
 * Generated databases are cached under bench/data/ (git-ignored) and reused when the scale and
 * generator version match. PostgreSQL datasets live in a database of their own
 * (parley_bench_<scale>, on the server of DATABASE_URL), never in the test database: Kysely's
 * migrator looks for its tables in every schema of a database, so a dataset schema next to the
 * test schemas would confuse their migrations.
 */
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { sql, type Kysely } from 'kysely';
import { openStore } from '../src/db/connection.js';
import { migrateToLatest } from '../src/db/migrate.js';
import type { Database, NewRow } from '../src/db/types.js';
import type { Engine } from '../src/config.js';
import { toJson } from '../src/db/json.js';
import { secureToken, sha256 } from '../src/lib/random.js';
import { createAccount } from '../src/modules/accounts/service.js';
import { createUser, upsertMembership } from '../src/modules/users/service.js';
import { accessTokenOf } from '../src/auth/tokens.js';
import { LABEL_BITS, labelMaskSql } from '../src/db/migrations/0660_conversation_label_bits.js';

/** Bump when the shape of generated data changes, so cached datasets are rebuilt. */
export const GENERATOR_VERSION = 6;

export const BENCH_DIR = resolve(import.meta.dirname);
export const DATA_DIR = join(BENCH_DIR, 'data');

export type Scale = 'tiny' | 'small' | 'medium' | 'large';
export const SCALE_NAMES: Scale[] = ['tiny', 'small', 'medium', 'large'];

export interface ScaleSpec {
  agents: number;
  inboxes: number;
  contacts: number;
  conversations: number;
  /** Target total; each conversation gets 1..(2·avg−1) messages, so the total lands near it. */
  messages: number;
}

export const SCALES: Record<Scale, ScaleSpec> = {
  // tiny: the crash test's seed (fast enough to build per test).
  tiny: { agents: 2, inboxes: 2, contacts: 200, conversations: 300, messages: 1_200 },
  small: { agents: 5, inboxes: 2, contacts: 2_000, conversations: 4_000, messages: 20_000 },
  medium: { agents: 25, inboxes: 10, contacts: 100_000, conversations: 200_000, messages: 1_000_000 },
  // ×5 medium in one account: the account every paginated read has to stay flat on.
  large: { agents: 50, inboxes: 20, contacts: 500_000, conversations: 1_000_000, messages: 5_000_000 },
};

export const PASSWORD = 'Bench-Password1!';

export interface Manifest {
  version: number;
  /** The migration files the dataset was built with: a dataset is reused only under the same schema. */
  migrations: string[];
  scale: Scale;
  engine: Engine;
  spec: ScaleSpec;
  generatedAt: string;
  generationMs: number;
  accountId: number;
  admin: { id: number; email: string; token: string };
  agents: { id: number; email: string; token: string; inboxIds: number[] }[];
  inboxIds: number[];
  labels: string[];
  /** contact ids are contiguous: firstContactId .. firstContactId+contacts-1 */
  firstContactId: number;
  /** conversation display ids are 1..conversations; conversation d lives in inboxIds[inboxOfDisplayId(d)] */
  counts: Record<string, number>;
  contactAttribute: { key: string; value: string };
  searchTerms: string[];
}

/** Where a dataset lives: a SQLite file, or a schema in the DATABASE_URL database. */
export interface Target {
  engine: Engine;
  /** SQLite file path or PostgreSQL URL (a database of its own) */
  databaseUrl: string;
}

/** Each migration file's name and content digest: a dataset is rebuilt when any migration is added or edited. */
export function migrationNames(): string[] {
  const dir = join(BENCH_DIR, '../src/db/migrations');
  return readdirSync(dir)
    .filter((f) => /^\d{4}_.+\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
    .sort()
    .map((f) => `${f.replace(/\.(ts|js)$/, '')}:${sha256(readFileSync(join(dir, f), 'utf8')).slice(0, 12)}`);
}

/** Env vars that make `src/main.ts start` open this target. */
export function targetEnv(target: Target): Record<string, string> {
  if (target.engine === 'postgres') return { DATABASE_URL: target.databaseUrl, PARLEY_PG_SCHEMA: '' };
  return { DATABASE_URL: `sqlite:${target.databaseUrl}`, PARLEY_PG_SCHEMA: '' };
}

/** The conversation with display id d (1-based) belongs to contact (d-1) % contacts, who lives in inbox contact % inboxes. */
export function inboxIndexOfDisplayId(spec: ScaleSpec, displayId: number): number {
  return ((displayId - 1) % spec.contacts) % spec.inboxes;
}

export function postgresUrl(): string {
  const url = process.env.DATABASE_URL ?? '';
  if (!/^postgres(ql)?:\/\//.test(url)) throw new Error('--engine postgres needs DATABASE_URL=postgres://… (the bench creates databases of its own on that server)');
  return url;
}

/**
 * A PostgreSQL URL's parts around its database name. Not `new URL`: a URL to a Unix socket has no
 * host (`postgres://postgres@/test?host=/var/run/postgresql`), which WHATWG URL parsing refuses.
 */
const PG_URL = /^(postgres(?:ql)?:\/\/[^/?#]*)(?:\/([^?#]*))?(.*)$/;

function pgUrlParts(url: string): { server: string; database: string; rest: string } {
  const m = PG_URL.exec(url);
  if (!m) throw new Error(`not a PostgreSQL URL: ${url}`);
  return { server: m[1], database: decodeURIComponent(m[2] ?? ''), rest: m[3] };
}

/** The database a PostgreSQL URL names. */
export const databaseOf = (url: string): string => pgUrlParts(url).database;

/** The same server and credentials, another database. */
export function withDatabase(url: string, database: string): string {
  const { server, rest } = pgUrlParts(url);
  return `${server}/${encodeURIComponent(database)}${rest}`;
}

/** Runs `work` on a connection to the maintenance database of `url`'s server (creating and dropping databases). */
async function onServer(url: string, work: (client: pg.Client) => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}

/** Drops (when asked) and creates a database on the server of `url`. */
export async function recreatePgDatabase(url: string, options: { drop: boolean }): Promise<void> {
  const name = databaseOf(url);
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`refusing to manage database "${name}"`);
  await onServer(url, async (client) => {
    if (options.drop) await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${name}"`);
  });
}

export async function dropPgDatabase(url: string): Promise<void> {
  const name = databaseOf(url);
  if (!/^parley_(bench|chaos)_[a-z0-9_]+$/.test(name)) throw new Error(`refusing to drop database "${name}"`);
  await onServer(url, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
}

export function cachedTarget(scale: Scale, engine: Engine): { target: Target; manifestPath: string } {
  const manifestPath = join(DATA_DIR, `${scale}-${engine}.manifest.json`);
  if (engine === 'postgres') return { target: { engine, databaseUrl: withDatabase(postgresUrl(), `parley_bench_${scale}`) }, manifestPath };
  return { target: { engine, databaseUrl: join(DATA_DIR, `${scale}.sqlite3`) }, manifestPath };
}

// ---------------------------------------------------------------------------------------------
// Deterministic randomness: the same scale yields the same shape of data on every machine.

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ['Maria', 'James', 'Anna', 'Robert', 'Lee', 'Sofia', 'Mohamed', 'Wei', 'Olga', 'Carlos', 'Priya', 'John', 'Fatima', 'Lucas', 'Emma', 'Noah', 'Aisha', 'Hiro', 'Marta', 'David', 'Elena', 'Omar', 'Chloe', 'Ivan', 'Sara', 'Diego', 'Yuki', 'Ana', 'Tom', 'Nina'];
const LAST = ['Smith', 'Garcia', 'Muller', 'Rossi', 'Kowalski', 'Nguyen', 'Silva', 'Johnson', 'Lee', 'Martin', 'Tanaka', 'Ivanova', 'Haddad', 'Brown', 'Costa', 'Dubois', 'Novak', 'Larsen', 'Okafor', 'Singh', 'Andersson', 'Marsh', 'Robertson', 'Petrov', 'Lopez'];
const CITIES = [['Berlin', 'DE'], ['Lisbon', 'PT'], ['Austin', 'US'], ['Pune', 'IN'], ['Lagos', 'NG'], ['Osaka', 'JP'], ['Lyon', 'FR'], ['Toronto', 'CA']];
const SENTENCES = [
  'Hi, I have a question about my last invoice.',
  'Thanks for reaching out, let me check that for you.',
  'The order has not arrived yet.',
  'Could you send me the tracking number please?',
  'I have refunded the duplicate charge.',
  'The app crashes when I open the settings page.',
  'We have shipped a fix, please update to the latest version.',
  'Is there a discount for annual plans?',
  'I forwarded this to our billing team.',
  'Great, that solved it. Thank you!',
  'Can I change the email address on my account?',
  'Your subscription renews on the first of the month.',
];
export const LABELS = ['billing', 'bug', 'feature-request', 'vip', 'urgent', 'refund', 'onboarding', 'sales', 'feedback', 'spam', 'escalated', 'follow-up'];
// Zipf-like popularity: the first labels are on many conversations, the last on few.
const LABEL_WEIGHTS = LABELS.map((_, i) => 1 / (i + 1));
const PLANS = ['free', 'free', 'free', 'free', 'free', 'free', 'pro', 'pro', 'pro', 'enterprise'];
const SOURCES = ['google', 'referral', 'newsletter', 'partner', 'direct'];

function pickWeighted<T>(rand: () => number, items: T[], weights: number[]): T {
  const total = weights.reduce((a, b) => a + b, 0);
  let r = rand() * total;
  for (let i = 0; i < items.length; i++) {
    r -= weights[i];
    if (r <= 0) return items[i];
  }
  return items[items.length - 1];
}

// ---------------------------------------------------------------------------------------------
// Bulk writing

type Table = keyof Database;

/** Buffers rows of one table and writes them as multi-row INSERTs under the engine's parameter limit. */
class BulkWriter<T extends Table> {
  private rows: NewRow<T>[] = [];
  private chunk = 0;
  written = 0;
  constructor(
    private readonly db: Kysely<Database>,
    private readonly table: T,
    private readonly engine: Engine,
    /** Written first whenever this writer flushes (rows here reference rows there). */
    private readonly dependsOn?: BulkWriter<Table>,
  ) {}

  async add(row: NewRow<T>): Promise<void> {
    if (this.chunk === 0) {
      const columns = Object.keys(row).length;
      // SQLite's default SQLITE_MAX_VARIABLE_NUMBER is 32766; PostgreSQL's protocol allows 65535.
      this.chunk = Math.max(1, Math.floor((this.engine === 'sqlite' ? 32_000 : 65_000) / columns));
    }
    this.rows.push(row);
    if (this.rows.length >= this.chunk) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.rows.length === 0) return;
    if (this.dependsOn) await this.dependsOn.flush();
    const rows = this.rows;
    this.rows = [];
    await this.db.insertInto(this.table as 'messages').values(rows as NewRow<'messages'>[]).execute();
    this.written += rows.length;
  }
}

// ---------------------------------------------------------------------------------------------

export interface GenerateOptions {
  log?: (line: string) => void;
  seed?: number;
}

async function resetTarget(target: Target): Promise<void> {
  if (target.engine === 'postgres') {
    await recreatePgDatabase(target.databaseUrl, { drop: true });
    return;
  }
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(target.databaseUrl + suffix, { force: true });
}

/**
 * Builds a fresh dataset of `scale` into `target` (the target is emptied first) and returns its
 * manifest: tokens, ids and counts the benchmark and the crash test drive requests with.
 */
export async function generateDataset(target: Target, scale: Scale, options: GenerateOptions = {}): Promise<Manifest> {
  const log = options.log ?? (() => undefined);
  const spec = SCALES[scale];
  const rand = mulberry32(options.seed ?? 0x5eed + SCALE_NAMES.indexOf(scale));
  const started = Date.now();
  await resetTarget(target);
  const store = openStore({ engine: target.engine, databaseUrl: target.databaseUrl });
  const db = store.db;
  const engine = target.engine;
  try {
    await migrateToLatest(db as never, engine);
    if (engine === 'sqlite') {
      // Bulk load: no rollback journal, no fsync, no FK checks (the generator only writes valid references).
      await sql`PRAGMA journal_mode = OFF`.execute(db);
      await sql`PRAGMA synchronous = OFF`.execute(db);
      await sql`PRAGMA foreign_keys = OFF`.execute(db);
      await sql`PRAGMA cache_size = -262144`.execute(db);
    }
    const phase = async (name: string, fn: (trx: Kysely<Database>) => Promise<number>) => {
      const t0 = Date.now();
      const n = await db.transaction().execute(fn);
      log(`  ${name.padEnd(28)} ${String(n).padStart(9)} rows  ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    };

    // --- account and people, through the app's own services (same token and password scheme) ---
    const account = await createAccount(db, { name: `Bench ${scale}` });
    const admin = await createUser(db, { name: 'Bench Admin', email: `admin+${scale}@bench.parley.test`, password: PASSWORD });
    await upsertMembership(db, account.id, admin.id, { role: 'administrator' });
    const agentRows: Awaited<ReturnType<typeof createUser>>[] = [];
    for (let i = 0; i < spec.agents; i++) {
      const u = await createUser(db, { name: `${FIRST[i % FIRST.length]} Agent${i + 1}`, email: `agent${i + 1}+${scale}@bench.parley.test`, password: PASSWORD });
      await upsertMembership(db, account.id, u.id, { role: 'agent' });
      agentRows.push(u);
    }
    const T_END = Date.now() - 60_000;
    const SPAN = 365 * 24 * 3600_000;
    const T0 = T_END - SPAN;

    // --- inboxes (API channels) and their members ---
    const inboxIds: number[] = [];
    const agentInboxes: number[][] = agentRows.map(() => []);
    await phase('inboxes + members', async (trx) => {
      let n = 0;
      for (let i = 0; i < spec.inboxes; i++) {
        const channel = await trx
          .insertInto('channel_api')
          .values({ account_id: account.id, webhook_url: null, identifier: secureToken(24), hmac_token: secureToken(24), created_at: T0, updated_at: T0 })
          .returning('id')
          .executeTakeFirstOrThrow();
        const inbox = await trx
          .insertInto('inboxes')
          .values({ account_id: account.id, channel_type: 'Channel::Api', channel_id: channel.id, name: `Support ${i + 1}`, created_at: T0, updated_at: T0 })
          .returning('id')
          .executeTakeFirstOrThrow();
        inboxIds.push(inbox.id);
        n += 2;
      }
      // Agent k belongs to inboxes k and k+1 (mod inboxes): every inbox has members, every agent a few inboxes.
      for (let k = 0; k < agentRows.length; k++) {
        const set = new Set([k % spec.inboxes, (k + 1) % spec.inboxes]);
        for (const idx of set) {
          await trx.insertInto('inbox_members').values({ inbox_id: inboxIds[idx], user_id: agentRows[k].id, created_at: T0, updated_at: T0 }).execute();
          agentInboxes[k].push(inboxIds[idx]);
          n++;
        }
      }
      return n;
    });
    // Agents able to answer in inbox i (for assignees and senders).
    const inboxAgents: number[][] = inboxIds.map((id) => agentRows.filter((_, k) => agentInboxes[k].includes(id)).map((u) => u.id));

    // --- labels and custom attribute definitions ---
    await phase('labels + attribute defs', async (trx) => {
      const colors = ['#1f93ff', '#ff6b6b', '#2ecc71', '#f1c40f', '#9b59b6', '#e67e22'];
      await trx
        .insertInto('labels')
        .values(LABELS.map((title, i) => ({ account_id: account.id, title, description: `${title} conversations`, color: colors[i % colors.length], show_on_sidebar: 1, created_at: T0, updated_at: T0 })))
        .execute();
      const defs = [
        { key: 'plan', name: 'Plan', type: 6, model: 1, values: ['free', 'pro', 'enterprise'] },
        { key: 'signup_source', name: 'Signup source', type: 0, model: 1, values: [] },
        { key: 'lifetime_value', name: 'Lifetime value', type: 1, model: 1, values: [] },
        { key: 'order_id', name: 'Order ID', type: 0, model: 0, values: [] },
        { key: 'priority_level', name: 'Priority level', type: 6, model: 0, values: ['low', 'normal', 'high'] },
      ];
      await trx
        .insertInto('custom_attribute_definitions')
        .values(
          defs.map((d) => ({
            account_id: account.id,
            attribute_display_name: d.name,
            attribute_key: d.key,
            attribute_display_type: d.type,
            attribute_model: d.model,
            attribute_description: null,
            attribute_values: toJson(d.values),
            default_value: null,
            regex_pattern: null,
            regex_cue: null,
            created_at: T0,
            updated_at: T0,
          })),
        )
        .execute();
      return LABELS.length + defs.length;
    });

    // --- contacts and contact inboxes ---
    const idBase = async (table: 'contacts' | 'contact_inboxes' | 'conversations' | 'messages') => {
      const row = await db.selectFrom(table).select((eb) => eb.fn.max('id').as('m')).executeTakeFirst();
      return Number(row?.m ?? 0) + 1;
    };
    const firstContactId = await idBase('contacts');
    const firstContactInboxId = await idBase('contact_inboxes');
    const convTime = (c: number) => T0 + Math.floor((c / spec.conversations) * SPAN * 0.97 + rand() * 3600_000);
    await phase('contacts', async (trx) => {
      const w = new BulkWriter(trx, 'contacts', engine);
      for (let i = 0; i < spec.contacts; i++) {
        const first = FIRST[Math.floor(rand() * FIRST.length)];
        const last = LAST[Math.floor(rand() * LAST.length)];
        const created = convTime(i) - 60_000;
        const custom: Record<string, unknown> = {};
        if (rand() < 0.6) custom.plan = PLANS[Math.floor(rand() * PLANS.length)];
        if (rand() < 0.4) custom.signup_source = SOURCES[Math.floor(rand() * SOURCES.length)];
        if (rand() < 0.3) custom.lifetime_value = Math.floor(rand() * 5000);
        const [city, country] = CITIES[Math.floor(rand() * CITIES.length)];
        await w.add({
          id: firstContactId + i,
          account_id: account.id,
          name: `${first} ${last}`,
          middle_name: '',
          last_name: '',
          email: rand() < 0.7 ? `${first}.${last}.${i + 1}@example.com`.toLowerCase() : null,
          phone_number: rand() < 0.5 ? `+1555${String(i + 1).padStart(7, '0')}` : null,
          identifier: null,
          avatar_url: null,
          additional_attributes: toJson({ city, country_code: country }),
          custom_attributes: toJson(custom),
          last_activity_at: null,
          contact_type: rand() < 0.3 ? 2 : 1,
          location: city,
          country_code: country,
          blocked: 0,
          company_id: null,
          created_at: created,
          updated_at: created,
        } as NewRow<'contacts'>);
      }
      await w.flush();
      return w.written;
    });
    await phase('contact_inboxes', async (trx) => {
      const w = new BulkWriter(trx, 'contact_inboxes', engine);
      for (let i = 0; i < spec.contacts; i++) {
        const created = convTime(i) - 60_000;
        await w.add({
          id: firstContactInboxId + i,
          contact_id: firstContactId + i,
          inbox_id: inboxIds[i % spec.inboxes],
          source_id: randomUUID(),
          hmac_verified: 0,
          pubsub_token: secureToken(24),
          created_at: created,
          updated_at: created,
        } as NewRow<'contact_inboxes'>);
      }
      await w.flush();
      return w.written;
    });

    // --- conversations, their messages and labels: one pass, three writers ---
    const firstConversationId = await idBase('conversations');
    const firstMessageId = await idBase('messages');
    const avg = spec.messages / spec.conversations;
    const maxPer = Math.max(1, Math.round(2 * avg - 1));
    const t0 = Date.now();
    const counts = { conversations: 0, messages: 0, taggings: 0 };
    // Conversations are written with their label bits (migration 0660), the label names first in
    // LABELS order: the taggings' trigger then finds every bit set and rewrites no row (rewriting
    // 110 000 rows left PostgreSQL's activity indexes half empty).
    for (const name of LABELS) await sql`insert into label_names (name) values (${name})`.execute(db);
    const labelIds = new Map((await sql<{ name: string; id: number }>`select name, id from label_names`.execute(db)).rows.map((r) => [r.name, Number(r.id)]));
    const bitsOf = (names: string[]) => [...new Set(names.map((n) => 2 ** ((labelIds.get(n)! - 1) % LABEL_BITS)))].reduce((a, b) => a + b, 0);
    await db.transaction().execute(async (trx) => {
      const cw = new BulkWriter(trx, 'conversations', engine);
      const mw = new BulkWriter(trx, 'messages', engine, cw as BulkWriter<Table>);
      const tw = new BulkWriter(trx, 'taggings', engine);
      let messageId = firstMessageId;
      const progressEvery = Math.max(1, Math.floor(spec.conversations / 10));
      for (let c = 0; c < spec.conversations; c++) {
        const contactIndex = c % spec.contacts;
        const contactId = firstContactId + contactIndex;
        const inboxIdx = contactIndex % spec.inboxes;
        const inboxId = inboxIds[inboxIdx];
        const agents = inboxAgents[inboxIdx].length > 0 ? inboxAgents[inboxIdx] : [admin.id];
        const id = firstConversationId + c;
        const created = convTime(c);
        const r = rand();
        const status = r < 0.3 ? 0 : r < 0.85 ? 1 : r < 0.95 ? 2 : 3;
        const assignee = rand() < 0.8 ? agents[Math.floor(rand() * agents.length)] : null;
        const nMessages = 1 + Math.floor(rand() * maxPer);
        let t = created;
        let firstReply: number | null = null;
        let lastIncoming = true;
        const messages: NewRow<'messages'>[] = [];
        for (let k = 0; k < nMessages; k++) {
          const isLast = k === nMessages - 1;
          // The first message is the contact's; activity messages close resolved threads; the rest alternate mostly.
          let type: number;
          if (k === 0) type = 0;
          else if (isLast && status === 1 && rand() < 0.5) type = 2;
          else type = rand() < 0.55 ? (k % 2 === 1 ? 1 : 0) : rand() < 0.5 ? 0 : 1;
          const sender = type === 0 ? { sender_type: 'Contact', sender_id: contactId } : type === 1 ? { sender_type: 'User', sender_id: assignee ?? agents[0] } : { sender_type: null, sender_id: null };
          if (type === 1 && firstReply === null) firstReply = t;
          if (type !== 2) lastIncoming = type === 0;
          const content =
            type === 2 ? 'Conversation was marked resolved by Bench Admin' : SENTENCES[Math.floor(rand() * SENTENCES.length)] + (rand() < 0.4 ? ` ${SENTENCES[Math.floor(rand() * SENTENCES.length)]}` : '');
          messages.push({
            id: messageId++,
            account_id: account.id,
            inbox_id: inboxId,
            conversation_id: id,
            content,
            message_type: type,
            content_type: 0,
            content_attributes: '{}',
            private: type === 1 && rand() < 0.05 ? 1 : 0,
            status: 0,
            source_id: null,
            echo_id: null,
            ...sender,
            external_source_ids: '{}',
            additional_attributes: '{}',
            processed_message_content: content,
            created_at: t,
            updated_at: t,
          } as NewRow<'messages'>);
          if (!isLast) t = Math.min(T_END, t + 60_000 + Math.floor(rand() * 2 * 3600_000));
        }
        // Labels: 45 % none, then one to three, popular labels more often.
        const lr = rand();
        const nLabels = lr < 0.45 ? 0 : lr < 0.8 ? 1 : lr < 0.95 ? 2 : 3;
        const labels = new Set<string>();
        while (labels.size < nLabels) labels.add(pickWeighted(rand, LABELS, LABEL_WEIGHTS));
        const labelList = [...labels].sort();
        for (const name of labelList) await tw.add({ account_id: account.id, taggable_type: 'Conversation', taggable_id: id, name, created_at: created });
        const custom: Record<string, unknown> = {};
        if (rand() < 0.2) custom.order_id = `ORD-${100000 + c}`;
        if (rand() < 0.1) custom.priority_level = ['low', 'normal', 'high'][Math.floor(rand() * 3)];
        await cw.add({
          id,
          account_id: account.id,
          inbox_id: inboxId,
          display_id: c + 1,
          uuid: randomUUID(),
          status,
          assignee_id: assignee,
          assignee_agent_bot_id: null,
          contact_id: contactId,
          contact_inbox_id: firstContactInboxId + contactIndex,
          team_id: null,
          campaign_id: null,
          identifier: null,
          priority: rand() < 0.1 ? Math.floor(rand() * 4) : null,
          sla_policy_id: null,
          additional_attributes: '{}',
          custom_attributes: toJson(custom),
          cached_label_list: labelList.join(', '),
          label_bits: bitsOf(labelList),
          snoozed_until: status === 3 ? T_END + 86_400_000 : null,
          last_activity_at: t,
          waiting_since: status === 0 && lastIncoming ? t : null,
          first_reply_created_at: firstReply,
          contact_last_seen_at: null,
          agent_last_seen_at: status === 1 ? t : null,
          assignee_last_seen_at: null,
          created_at: created,
          updated_at: t,
        } as NewRow<'conversations'>);
        // After the conversation: a messages flush writes pending conversations first (foreign keys on PostgreSQL).
        for (const m of messages) await mw.add(m);
        if ((c + 1) % progressEvery === 0 && spec.conversations >= 50_000) {
          log(`    … ${c + 1} conversations, ${messageId - firstMessageId} messages  ${((Date.now() - t0) / 1000).toFixed(0)} s`);
        }
      }
      // Conversations before their messages and labels (foreign keys on PostgreSQL).
      await cw.flush();
      await mw.flush();
      await tw.flush();
      counts.conversations = cw.written;
      counts.messages = mw.written;
      counts.taggings = tw.written;
      await trx.updateTable('accounts').set({ last_display_id: spec.conversations }).where('id', '=', account.id).execute();
    });
    log(`  ${'conversations+messages+tags'.padEnd(28)} ${String(counts.conversations + counts.messages + counts.taggings).padStart(9)} rows  ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    await phase('contact last_activity_at', async (trx) => {
      await sql`UPDATE contacts SET last_activity_at = (SELECT MAX(c.last_activity_at) FROM conversations c WHERE c.contact_id = contacts.id) WHERE account_id = ${account.id}`.execute(trx);
      return spec.contacts;
    });

    const t1 = Date.now();
    if (engine === 'postgres') {
      // Explicit ids were inserted: move each identity sequence past them.
      for (const table of ['contacts', 'contact_inboxes', 'conversations', 'messages']) {
        await sql`SELECT setval(pg_get_serial_sequence(${table}, 'id'), (SELECT COALESCE(MAX(id), 1) FROM ${sql.table(table)}))`.execute(db);
      }
      // The load wrote every conversation once per message (the render_version trigger) and every
      // contact twice, each time a new row version with new entries in every index: rebuilt, the
      // indexes are what a restored database has (the activity indexes were ~10× their size).
      await sql`REINDEX TABLE conversations`.execute(db);
      await sql`REINDEX TABLE contacts`.execute(db);
      // VACUUM too: after a bulk load the visibility map is empty and index-only scans read the heap.
      await sql`VACUUM ANALYZE`.execute(db);
    } else {
      await sql`ANALYZE`.execute(db);
      if (spec.conversations <= 10_000) {
        const wrongBits = await sql<{ n: number }>`
          select count(*) as n from conversations c where c.label_bits <> (
            select ${sql.raw(labelMaskSql('sqlite', 'n'))}
            from taggings t join label_names n on n.name = t.name where t.taggable_type = 'Conversation' and t.taggable_id = c.id)`.execute(db);
        if (Number(wrongBits.rows[0].n) > 0) throw new Error(`${wrongBits.rows[0].n} generated conversations have label bits their taggings do not give`);
        const problems = await sql<Record<string, unknown>>`PRAGMA foreign_key_check`.execute(db);
        if (problems.rows.length > 0) throw new Error(`generated rows break foreign keys: ${JSON.stringify(problems.rows.slice(0, 3))}`);
      }
      await sql`PRAGMA journal_mode = WAL`.execute(db);
    }
    log(`  ${'analyze + finish'.padEnd(28)} ${''.padStart(9)}       ${((Date.now() - t1) / 1000).toFixed(1)} s`);

    const agents = [];
    for (let k = 0; k < agentRows.length; k++) {
      agents.push({ id: agentRows[k].id, email: agentRows[k].email, token: (await accessTokenOf(db, 'User', agentRows[k].id))!, inboxIds: agentInboxes[k] });
    }
    return {
      version: GENERATOR_VERSION,
      migrations: migrationNames(),
      scale,
      engine,
      spec,
      generatedAt: new Date().toISOString(),
      generationMs: Date.now() - started,
      accountId: account.id,
      admin: { id: admin.id, email: admin.email, token: (await accessTokenOf(db, 'User', admin.id))! },
      agents,
      inboxIds,
      labels: LABELS,
      firstContactId,
      counts: { contacts: spec.contacts, contact_inboxes: spec.contacts, ...counts },
      contactAttribute: { key: 'plan', value: 'enterprise' },
      searchTerms: ['mar', 'son', 'anna', 'lee.', 'rob', '55500'],
    };
  } finally {
    await store.close();
  }
}

async function targetLooksIntact(target: Target, manifest: Manifest): Promise<boolean> {
  if (target.engine === 'sqlite' && !existsSync(target.databaseUrl)) return false;
  const store = openStore({ engine: target.engine, databaseUrl: target.databaseUrl });
  try {
    const row = await store.db.selectFrom('conversations').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    return Number(row?.n ?? 0) >= manifest.counts.conversations;
  } catch {
    return false;
  } finally {
    await store.close();
  }
}

/**
 * Write scenarios leave dead rows and cleared visibility-map bits behind (index-only scans then
 * read the heap, counts walk dead tuples). Autovacuum would clean them up soon after; this
 * machine's PostgreSQL runs with autovacuum off, so the bench vacuums where autovacuum would
 * have: after the load (generateDataset) and after each write scenario (run.ts), so a read
 * scenario does not measure the state the previous scenario's writes left unvacuumed.
 */
export async function vacuumPostgres(target: Target, log: (line: string) => void, why: string): Promise<void> {
  const started = Date.now();
  const store = openStore({ engine: target.engine, databaseUrl: target.databaseUrl });
  try {
    await sql`VACUUM ANALYZE`.execute(store.db);
  } finally {
    await store.close();
  }
  log(`  vacuum analyze (${why})  ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/**
 * Reads the whole dataset, so the operating system has it in its file cache. This machine's
 * kernel pages out file-cache pages nobody read for about a minute (DAMON reclaim, with 22 GB
 * free); a scenario that followed another read the pages it needed from a disk that reads about
 * 25 MB/s (the messages scenario measured 346 req/s instead of 2 842). run.ts reads the dataset
 * before each scenario, so a figure measures the server rather than this virtual disk.
 * SQLite: the database file and its WAL. PostgreSQL: every table, index and TOAST relation
 * through pg_prewarm's `read` mode (into the OS cache, as PostgreSQL's own reads would find it);
 * without that extension it says so and goes on.
 */
export async function warmDataset(target: Target, log: (line: string) => void): Promise<void> {
  const started = Date.now();
  let bytes = 0;
  if (target.engine === 'sqlite') {
    const chunk = Buffer.allocUnsafe(1 << 20);
    for (const file of [target.databaseUrl, `${target.databaseUrl}-wal`]) {
      if (!existsSync(file)) continue;
      const fd = openSync(file, 'r');
      try {
        for (let n; (n = readSync(fd, chunk, 0, chunk.length, null)) > 0; ) bytes += n;
      } finally {
        closeSync(fd);
      }
    }
  } else {
    const store = openStore({ engine: target.engine, databaseUrl: target.databaseUrl });
    try {
      await sql`create extension if not exists pg_prewarm`.execute(store.db);
      const { rows } = await sql<{ blocks: string | number | null }>`
        select sum(pg_prewarm(c.oid::regclass, 'read')) as blocks from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        where c.relkind in ('r', 'i', 't', 'm') and c.relpersistence = 'p' and n.nspname not in ('pg_catalog', 'information_schema')`.execute(store.db);
      bytes = Number(rows[0]?.blocks ?? 0) * 8192;
    } catch (error) {
      log(`  dataset not read ahead: ${(error as Error).message}`);
      return;
    } finally {
      await store.close();
    }
  }
  const s = (Date.now() - started) / 1000;
  if (s >= 0.5) log(`  read the dataset (${(bytes / 2 ** 20).toFixed(0)} MB) into the file cache  ${s.toFixed(1)} s`);
}

/**
 * The cached dataset of this scale and engine, generated when missing, stale or `force`d.
 * SQLite files are built under a temporary name and renamed when complete, so an interrupted
 * generation is never mistaken for a finished one.
 */
export async function ensureDataset(scale: Scale, engine: Engine, options: GenerateOptions & { force?: boolean } = {}): Promise<{ manifest: Manifest; target: Target; reused: boolean }> {
  const log = options.log ?? (() => undefined);
  mkdirSync(DATA_DIR, { recursive: true });
  const { target, manifestPath } = cachedTarget(scale, engine);
  if (!options.force && existsSync(manifestPath)) {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
    const sameSchema = JSON.stringify(manifest.migrations) === JSON.stringify(migrationNames());
    if (!sameSchema) log(`The ${scale} ${engine} dataset was built with other migrations; regenerating`);
    if (manifest.version === GENERATOR_VERSION && sameSchema && (await targetLooksIntact(target, manifest))) {
      log(`Reusing ${scale} dataset on ${engine} (generated ${manifest.generatedAt} in ${(manifest.generationMs / 1000).toFixed(1)} s)`);
      return { manifest, target, reused: true };
    }
  }
  rmSync(manifestPath, { force: true });
  log(`Generating ${scale} dataset on ${engine}: ${JSON.stringify(SCALES[scale])}`);
  const building: Target = engine === 'sqlite' ? { ...target, databaseUrl: `${target.databaseUrl}.building` } : target;
  const manifest = await generateDataset(building, scale, options);
  if (engine === 'sqlite') {
    for (const suffix of ['-wal', '-shm']) rmSync(target.databaseUrl + suffix, { force: true });
    renameSync(building.databaseUrl, target.databaseUrl);
    for (const suffix of ['-wal', '-shm']) rmSync(building.databaseUrl + suffix, { force: true });
  }
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
  log(`Generated ${scale} on ${engine} in ${(manifest.generationMs / 1000).toFixed(1)} s`);
  return { manifest, target, reused: false };
}

/**
 * A copy of the cached dataset for one run to write into. The write scenarios add messages to the
 * same conversations the read scenarios then page through (both walk the display ids in the same
 * order), so a run on the cached dataset itself measured a heavier messages page after every run
 * before it: after a few runs each visited conversation held 30 messages, not 5, and the messages
 * scenario fell from 0.27 to 0.15 of the baseline with the code unchanged. Every run therefore
 * starts from the dataset as generated: SQLite copies the file (a second for medium), PostgreSQL
 * creates the run's database from the cached one as a template (a file copy). `drop()` removes it.
 */
export async function runCopy(target: Target, log: (line: string) => void): Promise<{ target: Target; drop: () => Promise<void> }> {
  const started = Date.now();
  if (target.engine === 'sqlite') {
    const file = target.databaseUrl.endsWith('.sqlite3') ? target.databaseUrl.replace(/\.sqlite3$/, '.run.sqlite3') : `${target.databaseUrl}.run`;
    const remove = () => {
      for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
    };
    remove();
    // A WAL left beside the cached file (a run cut short) holds committed pages: it is copied too.
    copyFileSync(target.databaseUrl, file);
    if (existsSync(`${target.databaseUrl}-wal`)) copyFileSync(`${target.databaseUrl}-wal`, `${file}-wal`);
    log(`  fresh copy of the dataset for this run  ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { target: { engine: 'sqlite', databaseUrl: file }, drop: async () => remove() };
  }
  const source = databaseOf(target.databaseUrl);
  const copy = `${source}_run`;
  if (!/^parley_bench_[a-z0-9_]+$/.test(copy)) throw new Error(`refusing to manage database "${copy}"`);
  await onServer(target.databaseUrl, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS "${copy}" WITH (FORCE)`);
    await client.query(`CREATE DATABASE "${copy}" TEMPLATE "${source}" STRATEGY FILE_COPY`);
  });
  log(`  fresh copy of the dataset for this run (database ${copy})  ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const url = withDatabase(target.databaseUrl, copy);
  return { target: { engine: 'postgres', databaseUrl: url }, drop: () => dropPgDatabase(url) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { scale: { type: 'string', default: 'small' }, engine: { type: 'string', default: 'sqlite' }, force: { type: 'boolean', default: false } },
  });
  const scale = values.scale as Scale;
  if (!SCALE_NAMES.includes(scale)) throw new Error(`--scale must be one of ${SCALE_NAMES.join(', ')}`);
  const engine = values.engine as Engine;
  if (engine !== 'sqlite' && engine !== 'postgres') throw new Error('--engine must be sqlite or postgres');
  const { manifest } = await ensureDataset(scale, engine, { force: values.force, log: (l) => console.log(l) });
  console.log(JSON.stringify({ scale, engine, generationMs: manifest.generationMs, counts: manifest.counts }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
