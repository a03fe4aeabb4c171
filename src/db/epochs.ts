import { sql, type Kysely } from 'kysely';
import { precompiled } from './precompiled.js';
import { commitProbes, rawSqlite, sqliteConnections } from './connection.js';
import { coalescedRead } from './coalesce.js';
import { perDatabase } from './per-database.js';
import type { CommitProbe } from './commit-probe.js';
import type { Database } from './types.js';
import { STRIPED_EPOCHS } from './migrations/0720_striped_contact_epochs.js';
import { STRIPED_EPOCHS_0730 } from './migrations/0730_conversation_counts_epoch_postgres.js';

/** Tables of trigger-kept epochs: `cache_epochs` (0010: auth, 0602: counts, 0651: search) and `render_epochs` (0610). */
export type EpochTable = 'cache_epochs' | 'render_epochs';

const epochQueries = {
  cache_epochs: precompiled((db, id: number) => db.selectFrom('cache_epochs').select('v').where('id', '=', id)),
  render_epochs: precompiled((db, id: number) => db.selectFrom('render_epochs').select('v').where('id', '=', id)),
};
/** PostgreSQL: an epoch its writers move in stripes (migrations 0720, 0730) is the sum of them. */
const STRIPED = new Set([...STRIPED_EPOCHS, ...STRIPED_EPOCHS_0730]);
const stripedEpochQuery = precompiled((db, id: number) =>
  db
    .selectFrom('cache_epoch_stripes')
    .select(sql<number>`sum(v)::integer`.as('v'))
    .where('epoch', '=', id),
);

type EpochQuery = (db: Kysely<Database>, id: number) => { v: number }[] | Promise<{ v: number }[]>;

const valueOf = (rows: { v: number }[]): number => rows[0]?.v ?? 0;

/**
 * An epoch's current value: one indexed row. On PostgreSQL a read is a round trip, so the
 * requests that ask while one is unsent share it (db/coalesce.ts). On SQLite the value last read is
 * kept while nothing at all has been committed since (CommitProbe: one small file read instead of
 * a query); otherwise it is read synchronously unless a transaction is open on the connection
 * (precompiled), so an uncommitted bump is never seen, and never from a read snapshot older than the look.
 */
export function readEpoch(db: Kysely<Database>, table: EpochTable, id: number): number | Promise<number> {
  const sqlite = rawSqlite.get(db);
  if (!sqlite) {
    const query = table === 'cache_epochs' && STRIPED.has(id) ? stripedEpochQuery : epochQueries[table];
    if (db.isTransaction) return readNow(db, query, id);
    return coalescedRead(db, `epoch:${table}:${id}`, async () => readNow(db, query, id));
  }
  const known = knownEpochsOf(db);
  const generation = commitGeneration(db);
  const key = `${table}:${id}`;
  if (generation !== null) {
    const value = known.values.get(key);
    if (value !== undefined) return value;
  }
  const read = readNow(db, epochQueries[table], id);
  if (generation !== null && typeof read === 'number') known.values.set(key, read);
  return read;
}

/**
 * SQLite: a number that stays the same while nothing at all is committed to the database, by any
 * connection or process (the CommitProbe), and null when that cannot be told (PostgreSQL, no
 * WAL-index). A look that finds a commit forgets the epochs read before it and ends a shared read
 * transaction opened before it (db/read-snapshot.ts), so whatever a caller reads after a look is
 * at least as new as the generation it returned: two equal looks around a synchronous read say it
 * saw exactly that generation's data.
 */
export function commitGeneration(db: Kysely<Database>): number | null {
  const known = knownEpochsOf(db);
  // The probe is looked at before anything is read: a commit in between makes the next look differ.
  const generation = known.probe?.look() ?? null;
  if (generation === null || generation !== known.generation) {
    known.values.clear();
    known.generation = generation;
    // Something was committed since the last look: a shared read transaction opened before it
    // would answer from before that commit.
    const adapter = db.getExecutor().adapter;
    sqliteConnections.get(adapter)?.snapshot.end();
  }
  return generation;
}

function readNow(db: Kysely<Database>, query: EpochQuery, id: number): number | Promise<number> {
  const rows = query(db, id);
  return Array.isArray(rows) ? valueOf(rows) : rows.then(valueOf);
}

interface KnownEpochs {
  probe: CommitProbe | undefined;
  /** The probe's generation the values were read in. */
  generation: number | null;
  values: Map<string, number>;
}
const knownEpochsOf = perDatabase<KnownEpochs>((db) => ({ probe: commitProbes.get(db), generation: null, values: new Map() }));

/**
 * A read-through cache whose entries hold at one epoch (auth: token owner, account, membership;
 * conversation counts). An entry is served only to a request that read the same epoch it was
 * loaded at, so the cache never answers with data a query would not return — on either engine,
 * with any number of processes — while writes to tables the epoch does not cover leave it warm.
 * Values are shared between requests: never mutate them.
 */
export class EpochCache<V> {
  /** One map per database: epochs of two databases say nothing about each other. */
  private readonly entriesOf = perDatabase(() => new Map<string, { epoch: number; value: V }>());

  constructor(private readonly maxEntries = 10_000) {}

  /** Stores a value loaded after `epoch` was read (so at least that new: safe to serve at it). */
  private store(entries: Map<string, { epoch: number; value: V }>, epoch: number, key: string, value: V): void {
    if (entries.size >= this.maxEntries) entries.clear();
    entries.set(key, { epoch, value });
  }

  /** `epoch` as read by this request before anything it caches; undefined: no caching. */
  async get(db: Kysely<Database>, epoch: number | undefined, key: string, load: () => V | Promise<V>): Promise<V> {
    if (epoch === undefined) return load();
    const entries = this.entriesOf(db);
    const hit = entries.get(key);
    if (hit && hit.epoch === epoch) return hit.value;
    const value = await load();
    this.store(entries, epoch, key, value);
    return value;
  }

  /**
   * Many keys at once: the misses are loaded together by `loadMissing`. A key it leaves out is
   * absent from the answer and not remembered (a later insert may create it without moving the epoch).
   */
  async getMany(
    db: Kysely<Database>,
    epoch: number | undefined,
    keys: string[],
    loadMissing: (missing: string[]) => Promise<Map<string, V>>,
  ): Promise<Map<string, V>> {
    const out = new Map<string, V>();
    const entries = epoch === undefined ? undefined : this.entriesOf(db);
    const missing: string[] = [];
    for (const key of keys) {
      const hit = entries?.get(key);
      if (hit && hit.epoch === epoch) out.set(key, hit.value);
      else missing.push(key);
    }
    if (missing.length === 0) return out;
    for (const [key, value] of await loadMissing(missing)) {
      out.set(key, value);
      if (entries) this.store(entries, epoch!, key, value);
    }
    return out;
  }
}
