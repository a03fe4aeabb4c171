import { sql, type CompiledQuery, type Expression, type RawBuilder, type SqlBool } from 'kysely';
import type { AppContext } from '../../context.js';
import type { Engine } from '../../config.js';
import { precompiledVariants } from '../../db/precompiled.js';
import { prepareFilterExpression } from '../filters/engine.js';
import { CONTACT_FILTER_CATALOGUE } from './filter-catalogue.js';
import type { ContactRow } from './presenter.js';
import { SEARCH_KEY_SHIFT } from '../../db/migrations/0650_contacts_search_scoped.js';
import { CONTACT_SEARCH_EPOCH } from '../../db/migrations/0651_contacts_search_epoch.js';
import { CONTACTS_EPOCH } from '../../db/migrations/0653_contacts_epoch.js';
import { EpochCache, readEpoch } from '../../db/epochs.js';
import { perDatabase } from '../../db/per-database.js';

export const RESULTS_PER_PAGE = 15;

/**
 * ContactsController's Sift sort_on list. Each maps to an ORDER BY expression; plain string
 * columns sort with PostgreSQL's defaults (NULLs last ascending, first descending), Chatwoot's
 * order_on_* scopes put NULLs last both ways. Unknown sorts are ignored, as Sift does.
 */
const SORTS: Record<string, { expr: (ctx: AppContext) => RawBuilder<unknown>; nullsLast: boolean }> = {
  name: { expr: () => sql`LOWER(contacts.name)`, nullsLast: true },
  email: { expr: () => sql.ref('contacts.email'), nullsLast: false },
  phone_number: { expr: () => sql.ref('contacts.phone_number'), nullsLast: false },
  last_activity_at: { expr: () => sql.ref('contacts.last_activity_at'), nullsLast: true },
  created_at: { expr: () => sql.ref('contacts.created_at'), nullsLast: true },
  company: { expr: (ctx) => jsonText(ctx, 'company_name'), nullsLast: true },
  city: { expr: (ctx) => jsonText(ctx, 'city'), nullsLast: true },
  country: { expr: (ctx) => jsonText(ctx, 'country'), nullsLast: true },
};

export interface ContactQuery {
  accountId: number;
  page: number;
  sort?: string;
  labels?: string[];
  search?: string;
  filter?: unknown;
}

/** Chatwoot's resolved_contacts: a contact is listed once it has an email, a phone number or an identifier. */
const resolved = sql<SqlBool>`(contacts.email <> '' OR contacts.phone_number <> '' OR contacts.identifier <> '')`;

function jsonText(ctx: AppContext, key: string): RawBuilder<unknown> {
  return ctx.engine === 'postgres' ? sql`(contacts.additional_attributes ->> ${key})` : sql`json_extract(contacts.additional_attributes, ${`$."${key}"`})`;
}

const likeEscape = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * The 0650 search table: the account's RESOLVED contacts only, with their lower-cased search
 * text, so a match on it alone finds the account's resolved contacts whose text contains the
 * needle (count and id-ordered page without reading `contacts`).
 * - SQLite: FTS5 trigram, keyed by `account_id * 2^32 + id` (one account = one rowid range).
 *   Needles of 3+ characters are a trigram phrase (exactly "contains this substring", answered
 *   from the index); shorter ones scan the table's text with LIKE.
 * - PostgreSQL: (contact_id, account_id, body) with a pg_trgm GIN index on body; LIKE.
 */
interface SearchSource {
  /** Condition on `contacts_search`. */
  where: RawBuilder<unknown>;
  /** The contact id of a `contacts_search` row. */
  id: RawBuilder<unknown>;
  /** Id order of `contacts_search` rows. */
  order: RawBuilder<unknown>;
}

/**
 * How a needle is matched: a trigram phrase (SQLite, 3+ characters), a LIKE pattern, or
 * (PostgreSQL, a needle many rows contain) `strpos` of the needle itself (see searchPage).
 */
interface SearchPattern {
  kind: 'match' | 'like' | 'contains';
  pattern: string;
}

function searchPattern(ctx: AppContext, q: string, dense = false): SearchPattern {
  const needle = q.trim().toLowerCase();
  if (dense && ctx.engine === 'postgres') return { kind: 'contains', pattern: needle };
  // eslint-disable-next-line no-control-regex
  if (ctx.engine === 'sqlite' && [...needle].length >= 3 && !/[\u0000-\u001f]/.test(needle)) {
    return { kind: 'match', pattern: `"${needle.replace(/"/g, '""')}"` };
  }
  return { kind: 'like', pattern: `%${likeEscape(needle)}%` };
}

/** The search table's rows for `pattern` in the account (the values may stand for bound parameters: precompiled). */
function searchSourceFor(engine: Engine, kind: SearchPattern['kind'], accountId: unknown, pattern: unknown): SearchSource {
  if (engine === 'postgres') {
    const matches = kind === 'contains' ? sql`strpos(contacts_search.body, ${pattern}) > 0` : sql`contacts_search.body LIKE ${pattern} ESCAPE '\\'`;
    return {
      where: sql`contacts_search.account_id = ${accountId} AND ${matches}`,
      id: sql`contacts_search.contact_id`,
      order: sql`contacts_search.contact_id`,
    };
  }
  const shift = sql.raw(String(SEARCH_KEY_SHIFT));
  const range = sql`contacts_search.rowid >= ${accountId} * ${shift} AND contacts_search.rowid < (${accountId} + 1) * ${shift}`;
  const id = sql`(contacts_search.rowid & ${sql.raw(String(SEARCH_KEY_SHIFT - 1))})`;
  const order = sql`contacts_search.rowid`;
  if (kind === 'match') return { where: sql`contacts_search MATCH ${pattern} AND ${range}`, id, order };
  return { where: sql`contacts_search.body LIKE ${pattern} ESCAPE '\\' AND ${range}`, id, order };
}

function searchSource(ctx: AppContext, accountId: number, q: string): SearchSource {
  const { kind, pattern } = searchPattern(ctx, q);
  return searchSourceFor(ctx.engine, kind, accountId, pattern);
}

/**
 * A page of search results in id order (no labels, filter or sort), compiled once per engine,
 * match kind and page: building it cost more than SQLite takes to answer it. LIMIT and OFFSET are
 * literals, as Kysely's are compiled on SQLite (db/connection.ts: a bound LIMIT re-plans every run).
 */
const searchPages = precompiledVariants(
  (v: { engine: Engine; kind: SearchPattern['kind']; offset: number }) => `${v.engine}:${v.kind}:${v.offset}`,
  ({ engine, kind, offset }) =>
    (db, accountId: number, pattern: string) => {
      const source = searchSourceFor(engine, kind, accountId, pattern);
      const ids = sql`${searchIds(source)} ORDER BY ${source.order} LIMIT ${sql.lit(RESULTS_PER_PAGE)} OFFSET ${sql.lit(offset)}`;
      return db.selectFrom('contacts').selectAll('contacts').where('contacts.account_id', '=', accountId).where(sql<SqlBool>`contacts.id IN (${ids})`).orderBy('contacts.id', 'asc');
    },
);

/**
 * PostgreSQL plans a LIKE on its bound pattern at every execution: a generic plan cannot see how
 * many rows the pattern matches, so it is costed as rare and never preferred. That planning took
 * 0.3–0.5 ms per page against 0.15–0.3 ms executing (bench terms on the medium dataset). Parley
 * knows the count before it reads the page, so it chooses: when enough rows match that a walk in
 * id order fills the page within DENSE_WALK_ROWS rows, the page is read with `strpos`, which the
 * planner costs the same whatever the needle (so the statement keeps one generic plan, that walk);
 * otherwise with the LIKE (the trigram index finds the few matches). Both match the same rows.
 */
const DENSE_WALK_ROWS = 5_000;

/** A table's size as PostgreSQL last estimated it (pg_class.reltuples), re-read after a minute; null: never analysed. */
const tableRows = perDatabase(() => new Map<string, { rows: number | null; readAt: number; reading: Promise<void> | null }>());

async function estimatedRows(ctx: AppContext, table: 'contacts' | 'contacts_search'): Promise<number | null> {
  const tables = tableRows(ctx.db);
  let state = tables.get(table);
  if (!state) tables.set(table, (state = { rows: null, readAt: 0, reading: null }));
  if (Date.now() - state.readAt > 60_000 && !state.reading) {
    const known = state;
    state.reading = sql<{ rows: number }>`SELECT reltuples::float8 AS rows FROM pg_class WHERE oid = ${table}::regclass`
      .execute(ctx.db)
      .then((result) => {
        const rows = Number(result.rows[0]?.rows ?? -1);
        known.rows = rows >= 0 ? rows : null;
      })
      .catch(() => undefined)
      .finally(() => {
        known.readAt = Date.now();
        known.reading = null;
      });
    // The first search waits for it; later ones use the last value while it is read again.
    if (state.readAt === 0) await state.reading;
  }
  return state.rows;
}

/** PostgreSQL: whether a walk of `table` in id order fills the page at `offset` within DENSE_WALK_ROWS rows, `count` of them matching. */
async function densePage(ctx: AppContext, table: 'contacts' | 'contacts_search', offset: number, count: number): Promise<boolean> {
  const rows = ctx.engine === 'postgres' && count > 0 ? await estimatedRows(ctx, table) : null;
  return rows !== null && ((offset + RESULTS_PER_PAGE) * rows) / count <= DENSE_WALK_ROWS;
}

async function searchPage(ctx: AppContext, accountId: number, q: string, offset: number, count: number): Promise<ContactRow[]> {
  const dense = await densePage(ctx, 'contacts_search', offset, count);
  const { kind, pattern } = searchPattern(ctx, q, dense);
  return searchPages({ engine: ctx.engine, kind, offset }, ctx.db, accountId, pattern) as ContactRow[] | Promise<ContactRow[]>;
}

// A search's count is reused until what search sees changes (migrations 0651, 0652).
const searchCounts = new EpochCache<number>(2_000);

async function searchCount(ctx: AppContext, accountId: number, q: string, search: SearchSource): Promise<number> {
  const epoch = await readEpoch(ctx.db, 'cache_epochs', CONTACT_SEARCH_EPOCH);
  return searchCounts.get(ctx.db, epoch, `${accountId}:${q.trim().toLowerCase()}`, async () =>
    Number((await sql<{ count: number }>`SELECT count(*) AS count FROM contacts_search WHERE ${search.where}`.execute(ctx.db)).rows[0].count),
  );
}

// A list's, label view's or filter's count is reused until contacts or their labels change
// (migrations 0653, 0710). Keyed by the count's SQL and parameters: what it reads is only those
// tables (and the search table, which follows contacts); days_before's "today" is one of its
// parameters. On PostgreSQL the epoch does not move with last_activity_at (every incoming message
// writes it), so a count whose SQL reads that column is not reused there.
const listCounts = new EpochCache<number>(2_000);

async function listCount(ctx: AppContext, query: CompiledQuery<{ count: number }>): Promise<number> {
  const cacheable = ctx.engine === 'sqlite' || !query.sql.includes('last_activity_at');
  const epoch = cacheable ? await readEpoch(ctx.db, 'cache_epochs', CONTACTS_EPOCH) : undefined;
  const key = JSON.stringify([query.sql, query.parameters]);
  return listCounts.get(ctx.db, key.length <= 4_000 ? epoch : undefined, key, async () => Number((await ctx.db.executeQuery(query)).rows[0]?.count ?? 0));
}

/** The contact ids `search` matches (SQL). */
const searchIds = (search: SearchSource) => sql`SELECT ${search.id} FROM contacts_search WHERE ${search.where}`;

/**
 * ContactsController#search: name, email, phone number, identifier or company name contains `q`
 * (case-insensitive), among the account's resolved contacts (see SearchSource).
 */
export function searchCondition(ctx: AppContext, q: string, accountId: number): Expression<SqlBool> {
  return sql<SqlBool>`contacts.id IN (${searchIds(searchSource(ctx, accountId, q))})`;
}

/** The query's conditions; `indexPrefilter` as prepareFilterExpression takes it (the filter's definitions are read once). */
async function conditions(ctx: AppContext, query: ContactQuery): Promise<(indexPrefilter?: boolean) => Expression<SqlBool>[]> {
  const out: Expression<SqlBool>[] = [resolved];
  if (query.labels && query.labels.length > 0) {
    const names = query.labels.map((l) => l.toLowerCase());
    out.push(
      sql<SqlBool>`EXISTS (SELECT 1 FROM taggings WHERE taggings.taggable_type = 'Contact' AND taggings.taggable_id = contacts.id AND LOWER(taggings.name) IN (${sql.join(names)}))`,
    );
  }
  if (query.search !== undefined) out.push(searchCondition(ctx, query.search, query.accountId));
  if (query.filter === undefined) return () => out;
  const filter = await prepareFilterExpression({
    db: ctx.db,
    engine: ctx.engine,
    accountId: query.accountId,
    table: 'contacts',
    catalogue: CONTACT_FILTER_CATALOGUE,
    payload: query.filter,
  });
  return (indexPrefilter) => [...out, filter(indexPrefilter)];
}

/** One page of the account's contacts (15), with the total count: index, search and filter. */
export async function findContacts(ctx: AppContext, query: ContactQuery): Promise<{ contacts: ContactRow[]; count: number }> {
  const scope = (where: Expression<SqlBool>[]) =>
    ctx.db
      .selectFrom('contacts')
      .where('contacts.account_id', '=', query.accountId)
      .where((eb) => eb.and(where));
  const where = await conditions(ctx, query);
  let base = scope(where());

  const raw = query.sort ?? '';
  const desc = raw.startsWith('-');
  const sortKey = desc ? raw.slice(1) : raw;
  const sort = Object.hasOwn(SORTS, sortKey) ? SORTS[sortKey] : undefined;
  const offset = (query.page - 1) * RESULTS_PER_PAGE;

  // Search alone (no labels, no filter): the search table holds exactly the account's resolved
  // contacts, so it gives the count, and the page in id order, without touching contacts.
  const searchOnly =
    query.search !== undefined && !(query.labels && query.labels.length > 0) && query.filter === undefined
      ? searchSource(ctx, query.accountId, query.search)
      : undefined;

  const count = searchOnly
    ? await searchCount(ctx, query.accountId, query.search!, searchOnly)
    : await listCount(ctx, base.select((eb) => eb.fn.countAll<number>().as('count')).compile());

  if (searchOnly && !sort) {
    return { contacts: await searchPage(ctx, query.accountId, query.search!, offset, count), count };
  }

  // PostgreSQL, a filter many contacts match: the page in id order is found by walking the
  // contacts in that order, within DENSE_WALK_ROWS rows; the filter's index condition (which
  // finds every match first, then sorts them) would keep the prepared statement's generic plan
  // from walking (18-50 ms a page at 100 000 contacts against 1-8 ms).
  if (query.filter !== undefined && !sort && (await densePage(ctx, 'contacts', offset, count))) base = scope(where(false));
  let page = base.selectAll('contacts');
  if (sort) {
    const nulls = sort.nullsLast || !desc ? 'NULLS LAST' : 'NULLS FIRST';
    page = page.orderBy(sql`${sort.expr(ctx)} ${sql.raw(desc ? 'DESC' : 'ASC')} ${sql.raw(nulls)}`);
  }
  page = page.orderBy('contacts.id', 'asc');
  const contacts = (await page.limit(RESULTS_PER_PAGE).offset(offset).execute()) as ContactRow[];
  return { contacts, count };
}
