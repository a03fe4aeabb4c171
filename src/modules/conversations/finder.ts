import { sql, type Compilable, type CompiledQuery, type Expression, type ExpressionBuilder, type SelectExpression, type SqlBool } from 'kysely';
import type { AppContext } from '../../context.js';
import type { Database, Row } from '../../db/types.js';
import { notFound } from '../../lib/errors.js';
import { looseRecordId, pageNumber } from '../../lib/params.js';
import { STATUSES } from './presenter.js';
import { EpochCache, readEpoch } from '../../db/epochs.js';
import { coalescedRead } from '../../db/coalesce.js';
import { perDatabase } from '../../db/per-database.js';
import { precompiled, precompiledVariants } from '../../db/precompiled.js';
import { MIN_ANCHORED_OFFSET, readAnchoredPage, type AnchoredPage, type AnchorRow, type Seekable } from './page-anchors.js';
import { COUNTS_EPOCH } from '../../db/migrations/0602_conversation_counts_epoch.js';
import { LABEL_BITS, labelMaskSql } from '../../db/migrations/0660_conversation_label_bits.js';

export const PER_PAGE = 25;

type Eb = ExpressionBuilder<Database, 'conversations'>;
export type Condition = (eb: Eb) => Expression<SqlBool>;

/** Who is looking: the account, the user, and the inboxes they may see (null = all). */
export interface Viewer {
  accountId: number;
  userId: number;
  inboxIds: number[] | null;
}

export interface ListParams {
  assignee_type?: string;
  status?: string;
  inbox_id?: number | string;
  team_id?: number | string;
  labels?: string[];
  q?: string;
  sort_by?: string;
  page?: number | string;
  source_id?: string;
  conversation_type?: string;
  updated_within?: number | string;
}

export interface Counts {
  mine_count: number;
  assigned_count: number;
  unassigned_count: number;
  all_count: number;
}

/** ConversationFinder::SORT_OPTIONS, as ORDER BY clauses (ids break ties so pages never overlap). */
const SORTS: Record<string, string> = {
  last_activity_at_asc: 'conversations.last_activity_at asc, conversations.id asc',
  last_activity_at_desc: 'conversations.last_activity_at desc, conversations.id desc',
  created_at_asc: 'conversations.created_at asc, conversations.id asc',
  created_at_desc: 'conversations.created_at desc, conversations.id desc',
  priority_asc: 'conversations.priority asc nulls last, conversations.last_activity_at desc, conversations.id desc',
  priority_desc: 'conversations.priority desc nulls last, conversations.last_activity_at desc, conversations.id desc',
  waiting_since_asc: 'conversations.waiting_since asc nulls last, conversations.created_at asc, conversations.id asc',
  waiting_since_desc: 'conversations.waiting_since desc nulls last, conversations.created_at asc, conversations.id asc',
};
SORTS.latest = SORTS.last_activity_at_desc;
SORTS.sort_on_created_at = SORTS.created_at_asc;
SORTS.sort_on_priority = SORTS.priority_desc;
SORTS.sort_on_waiting_since = SORTS.waiting_since_asc;

// Own keys only: `sort_by=__proto__` must not find Object.prototype (a 500 before).
const sortOf = (sortBy: string | undefined) => (sortBy !== undefined && Object.hasOwn(SORTS, sortBy) ? SORTS[sortBy] : SORTS.last_activity_at_desc);

/** The orders a deep page can seek in (page-anchors.ts): one timestamp column, then the id. */
const SEEKABLE = new Map<string, Seekable>([
  [SORTS.last_activity_at_desc, { column: 'last_activity_at', desc: true }],
  [SORTS.last_activity_at_asc, { column: 'last_activity_at', desc: false }],
  [SORTS.created_at_desc, { column: 'created_at', desc: true }],
  [SORTS.created_at_asc, { column: 'created_at', desc: false }],
]);

/** Rows after (key, id) in the order `s`: a range on the sort column's index, then the tie on ids. */
function afterAnchor(s: Seekable, key: unknown, id: unknown): Expression<SqlBool> {
  const column = sql.ref(`conversations.${s.column}`);
  const op = sql.raw(s.desc ? '<' : '>');
  return sql<SqlBool>`${column} ${op}= ${key} and (${column} ${op} ${key} or conversations.id ${op} ${id})`;
}
export const orderClause = (sortBy: string | undefined) => sql.raw(sortOf(sortBy));

/** Case-insensitive substring match on both engines (ILIKE / SQLite's LIKE). */
export function ilike(ctx: Pick<AppContext, 'engine'>, column: string, term: string) {
  const pattern = `%${term}%`;
  return ctx.engine === 'postgres' ? sql<SqlBool>`${sql.ref(column)} ilike ${pattern}` : sql<SqlBool>`${sql.ref(column)} like ${pattern}`;
}

/** Conversations.PermissionFilterService: agents see their inboxes' conversations only. */
export function permissionCondition(viewer: Viewer): Condition | null {
  if (viewer.inboxIds === null) return null;
  const ids = viewer.inboxIds;
  return (eb) => (ids.length ? eb('conversations.inbox_id', 'in', ids) : sql<SqlBool>`1 = 0`);
}

/** Message content (incoming/outgoing) or the contact's name, email or phone contains `q`. */
export function queryCondition(ctx: AppContext, accountId: number, q: string): Condition {
  return (eb) =>
    eb.or([
      eb(
        'conversations.id',
        'in',
        eb
          .selectFrom('messages')
          .select('messages.conversation_id')
          .where('messages.account_id', '=', accountId)
          .where('messages.message_type', 'in', [0, 1])
          .where(ilike(ctx, 'messages.content', q)),
      ),
      eb(
        'conversations.contact_id',
        'in',
        eb
          .selectFrom('contacts')
          .select('contacts.id')
          .where('contacts.account_id', '=', accountId)
          .where((c) => c.or([ilike(ctx, 'contacts.name', q), ilike(ctx, 'contacts.email', q), ilike(ctx, 'contacts.phone_number', q)])),
      ),
    ]);
}

/**
 * Conversations with any of `labels`. The bits of the names (label_names, migration 0660) are
 * checked on the walked index entry first; only entries whose bits match are looked up in
 * taggings, which decides.
 * PostgreSQL: taggings' names are compared with the label_names rows found for them (a tagging's
 * name is always there: its bits come from it), not with the parameters. With the parameters in
 * sight, a custom plan estimated the label from its statistics and the generic plan could not,
 * so the generic plan looked three times dearer for the same shape and PostgreSQL planned the
 * page's statement anew at every request: 0.3 ms of planning for 0.1 ms of execution.
 */
export function labelsCondition(engine: AppContext['engine'], labels: string[]): Condition {
  const mask = sql.raw(labelMaskSql(engine, 'label_names'));
  const names = sql.join(labels);
  return (eb) => {
    const tagged = eb.exists(
      eb
        .selectFrom('taggings')
        .select(sql`1`.as('one'))
        .where('taggings.taggable_type', '=', 'Conversation')
        .whereRef('taggings.taggable_id', '=', 'conversations.id')
        .where(
          engine === 'postgres'
            ? sql<SqlBool>`taggings.name = any (array(select label_names.name from label_names where label_names.name in (${names})))`
            : sql<SqlBool>`taggings.name in (${names})`,
        ),
    );
    return eb.and([
      sql<SqlBool>`(conversations.label_bits & (select ${mask} from label_names where name in (${names}))) <> 0`,
      // SQLite: while no two names share a bit (LABEL_BITS names or fewer, ever), the bits are
      // exact and taggings has nothing to add; SQLite evaluates the OR's constant side first, once
      // per statement, and skips the lookups (a filtered page's 25: ~31 of its ~90 µs of SQL).
      engine === 'sqlite' ? eb.or([sql<SqlBool>`(select max(id) from label_names) <= ${sql.lit(LABEL_BITS)}`, tagged]) : tagged,
    ]);
  };
}

/**
 * The list's four counts from the counters kept by triggers (migration 0600), when the filters
 * are only account, status, inboxes, team and at most one label: a few hundred counter rows
 * instead of tens of thousands of conversations.
 */
async function countersCounts(ctx: AppContext, viewer: Viewer, filters: CounterFilters, countsEpoch: number | undefined): Promise<Counts> {
  const key = JSON.stringify([viewer.accountId, viewer.userId, filters.status, filters.inboxId, filters.inboxIds, filters.teamId, filters.label]);
  if (ctx.engine === 'postgres') {
    // One read shared by the requests that ask for the same counts while it is unsent; reused until a
    // counter changes when the request read the counts epoch with its auth epoch (0730, auth/cache.ts).
    const read = () => coalescedRead(ctx.db, `counts:${key}`, () => readCounters(ctx, viewer, filters));
    return { ...(await (countsEpoch === undefined ? read() : countsCache.get(ctx.db, countsEpoch, key, read))) };
  }
  // SQLite: reused until a counter changes (migration 0602).
  const epoch = await readEpoch(ctx.db, 'cache_epochs', COUNTS_EPOCH);
  return { ...(await countsCache.get(ctx.db, epoch, key, () => readCounters(ctx, viewer, filters))) };
}

type CounterFilters = { status: number | null; inboxId: number | null; inboxIds: number[] | null; teamId: number | null; label: string | null };
const countsCache = new EpochCache<Counts>();

async function readCounters(ctx: AppContext, viewer: Viewer, filters: CounterFilters): Promise<Counts> {
  const db = ctx.db.withTables<{
    conversation_counts: CounterRow;
    conversation_label_counts: CounterRow & { label: string };
  }>();
  const sums = [
    sql<number | null>`sum(n)`.as('all_count'),
    sql<number | null>`sum(case when assignee_id = 0 then n else 0 end)`.as('unassigned_count'),
    sql<number | null>`sum(case when assignee_id = ${viewer.userId} then n else 0 end)`.as('mine_count'),
  ];
  const conds = [sql<SqlBool>`account_id = ${viewer.accountId}`];
  if (filters.status !== null) conds.push(sql<SqlBool>`status = ${filters.status}`);
  if (filters.inboxId !== null) conds.push(sql<SqlBool>`inbox_id = ${filters.inboxId}`);
  if (filters.inboxIds !== null) conds.push(sql<SqlBool>`inbox_id in (${sql.join(filters.inboxIds)})`);
  if (filters.teamId !== null) conds.push(sql<SqlBool>`team_id = ${filters.teamId}`);
  const where = sql<SqlBool>`${sql.join(conds, sql` and `)}`;
  const query =
    filters.label === null
      ? db.selectFrom('conversation_counts').select(sums).where(where)
      : db.selectFrom('conversation_label_counts').select(sums).where(where).where('label', '=', filters.label);
  const row = await query.executeTakeFirstOrThrow();
  const all = Number(row.all_count ?? 0);
  const unassigned = Number(row.unassigned_count ?? 0);
  return { mine_count: Number(row.mine_count ?? 0), assigned_count: all - unassigned, unassigned_count: unassigned, all_count: all };
}

interface CounterRow {
  account_id: number;
  status: number;
  inbox_id: number;
  team_id: number;
  assignee_id: number;
  n: number;
}

const ZERO_COUNTS: Counts = { mine_count: 0, assigned_count: 0, unassigned_count: 0, all_count: 0 };

/** What the list's cached rendering is checked against (conversations/fragments.ts). */
export type ConversationStamp = Pick<Row<'conversations'>, 'id' | 'render_version' | 'team_id'> & {
  /** The render epoch, read in the same statement as the page (saves a read, and a round trip on PostgreSQL). */
  render_epoch?: number;
};

/** ConversationFinder#perform: the page of conversations and the four counts. */
export async function findConversations(ctx: AppContext, viewer: Viewer, params: ListParams): Promise<{ rows: Row<'conversations'>[]; counts: Counts }> {
  const plan = await planConversations(ctx, viewer, params);
  const [counts, rows] = await Promise.all([
    plan.counts(),
    plan.ids ? ctx.db.selectFrom('conversations').selectAll('conversations').where('conversations.id', 'in', plan.ids).orderBy(plan.order).execute() : [],
  ]);
  return { rows, counts };
}

/** The same page as findConversations, as stamps only: the list renders them from its cache. */
export async function findConversationStamps(
  ctx: AppContext,
  viewer: Viewer,
  params: ListParams,
  countsEpoch?: number,
): Promise<{ stamps: ConversationStamp[]; counts: Counts }> {
  const { plan, page, anchored } = await stampsPlan(ctx, viewer, params);
  const stamps = anchored
    ? readAnchoredPage(ctx.db, ctx.engine, anchored)
    : page
      ? ctx.db.executeQuery(page).then((r) => r.rows)
      : [];
  const [counts, rows] = await Promise.all([plan.counts(countsEpoch), stamps]);
  return { stamps: rows, counts };
}

/**
 * The list's counts alone (the meta route), from the same kept plan as the list's page: planning
 * anew built the page's query with Kysely at every request, ~7 % of a meta request's CPU.
 */
export async function findConversationCounts(ctx: AppContext, viewer: Viewer, params: ListParams, countsEpoch?: number): Promise<Counts> {
  const { plan } = await stampsPlan(ctx, viewer, params);
  return plan.counts(countsEpoch);
}

type Plan = Awaited<ReturnType<typeof planConversations>>;
interface StampsPlan {
  plan: Plan;
  page: CompiledQuery<ConversationStamp> | null;
  /** A deep page in a seekable order: read through its anchors instead of `page`. */
  anchored: AnchoredPage | null;
}

const STAMP_COLUMNS = [
  'conversations.id',
  'conversations.render_version',
  'conversations.team_id',
  sql<number>`(select v from render_epochs where id = 1)`.as('render_epoch'),
] as const;

/**
 * The list's plan with its page query compiled, kept per viewer and parameters: the same list
 * asked again (agents polling their inbox view) skips building and compiling its SQL. Only
 * plans that are a function of those inputs alone are kept: a team filter looks the team up,
 * `updated_within` reads the clock, and a search `q` is rarely asked twice.
 */
const stampPlans = perDatabase(() => new Map<string, StampsPlan>());
const MAX_STAMP_PLANS = 1_000;

async function stampsPlan(ctx: AppContext, viewer: Viewer, params: ListParams): Promise<StampsPlan> {
  const reusable = (params.team_id === undefined || params.team_id === '') && params.updated_within === undefined && params.q === undefined;
  const key = reusable ? JSON.stringify([viewer.accountId, viewer.userId, viewer.inboxIds, params]) : null;
  const plans = stampPlans(ctx.db);
  const known = key === null ? undefined : plans.get(key);
  if (known) return known;
  const plan = await planConversations(ctx, viewer, params);
  // The first page reads its 25 rows straight from the index walk; deeper pages skip their
  // offset on the index alone, then read the 25. On PostgreSQL the activity indexes carry the
  // stamps (migration 0680), so a deep page in activity order whose filters they hold is one walk.
  const ids = plan.ids;
  const oneWalk = !plan.deep || (ctx.engine === 'postgres' && walkCarriesStamps(params));
  const stampsOf = <C extends SelectExpression<Database, 'conversations'>>(pageIds: NonNullable<Plan['ids']>, columns: readonly C[]) =>
    oneWalk
      ? pageIds.clearSelect().select(columns)
      : ctx.db.selectFrom('conversations').select(columns).where('conversations.id', 'in', pageIds).orderBy(plan.order);
  const page = ids ? stampsOf(ids, STAMP_COLUMNS).compile() : null;
  const seekable = SEEKABLE.get(sortOf(params.sort_by));
  const anchored =
    ids && key !== null && seekable && plan.offset >= MIN_ANCHORED_OFFSET
      ? anchoredPage(ctx, { listKey: JSON.stringify([viewer.accountId, viewer.userId, viewer.inboxIds, { ...params, page: null }]), ids, offset: plan.offset, seekable, stampsOf })
      : null;
  const entry = { plan, page, anchored };
  if (key !== null && key.length <= 2_000) {
    if (plans.size >= MAX_STAMP_PLANS) plans.delete(plans.keys().next().value!);
    plans.set(key, entry);
  }
  return entry;
}

const MAX_SKIP_VARIANTS = 16;

/**
 * A deep page's two statements (page-anchors.ts): with its offset, from one row earlier, and from
 * an anchor; both return each row's sort key, and on PostgreSQL the statement's snapshot.
 */
function anchoredPage(
  ctx: AppContext,
  p: {
    listKey: string;
    ids: NonNullable<Plan['ids']>;
    offset: number;
    seekable: Seekable;
    stampsOf: <C extends SelectExpression<Database, 'conversations'>>(ids: NonNullable<Plan['ids']>, columns: readonly C[]) => Compilable<unknown>;
  },
): AnchoredPage {
  const columns = [
    ...STAMP_COLUMNS,
    sql<number>`conversations.${sql.raw(p.seekable.column)}`.as('sort_key'),
    ...(ctx.engine === 'postgres' ? [sql<string>`pg_current_snapshot()::text`.as('snap')] : []),
  ];
  // One statement per number of rows skipped after the anchor (0 for the same or the next page):
  // OFFSET stays a literal, as everywhere (db/connection.ts, literalPaging).
  const fromAnchor = precompiledVariants(
    (skip: number) => String(skip),
    (skip) => (_db, key: number | string, id: number) =>
      p.stampsOf(p.ids.where(afterAnchor(p.seekable, key, id)).offset(skip).limit(PER_PAGE), columns) as Compilable<AnchorRow>,
    MAX_SKIP_VARIANTS,
  );
  return {
    listKey: p.listKey,
    offset: p.offset,
    withOffset: precompiled((_db) => p.stampsOf(p.ids.offset(p.offset - 1).limit(PER_PAGE + 1), columns) as Compilable<AnchorRow>),
    fromAnchor: (db, key, id, skip) => fromAnchor(skip, db, key, id),
  };
}

/**
 * Whether a deep page can be read in one index-only walk on PostgreSQL: activity order, and no
 * filter on a column the activity indexes lack (assignee, search, participants, contact inbox).
 */
function walkCarriesStamps(params: ListParams): boolean {
  const order = sortOf(params.sort_by);
  const assigneeFilter = params.assignee_type === 'me' || params.assignee_type === 'unassigned' || params.assignee_type === 'assigned';
  return (
    (order === SORTS.last_activity_at_desc || order === SORTS.last_activity_at_asc) &&
    !assigneeFilter &&
    params.q === undefined &&
    params.conversation_type === undefined &&
    params.source_id === undefined
  );
}

/** The list's filters as a count and as the page's ids (null: nothing can match). */
async function planConversations(ctx: AppContext, viewer: Viewer, params: ListParams) {
  const db = ctx.db;
  const conds: Condition[] = [];
  // What the counters can answer: set to false by any filter they do not know.
  let countable = true;
  let empty = false;
  let counterInbox: number | null = null;
  let counterStatus: number | null = null;
  let counterTeam: number | null = null;

  if (params.inbox_id !== undefined && params.inbox_id !== '') {
    const inboxId = looseRecordId(params.inbox_id);
    const visible = inboxId !== null && (viewer.inboxIds === null || viewer.inboxIds.includes(inboxId));
    if (visible) counterInbox = inboxId;
    else empty = true;
    conds.push((eb) => (visible ? eb('conversations.inbox_id', '=', inboxId!) : sql<SqlBool>`1 = 0`));
  }
  if (params.conversation_type === 'participating') {
    countable = false;
    conds.push((eb) =>
      eb(
        'conversations.id',
        'in',
        eb.selectFrom('conversation_participants').select('conversation_participants.conversation_id').where('conversation_participants.user_id', '=', viewer.userId),
      ),
    );
  } else {
    const perm = permissionCondition(viewer);
    if (perm) conds.push(perm);
    if (viewer.inboxIds !== null && viewer.inboxIds.length === 0) empty = true;
    if (params.conversation_type === 'mention') {
      empty = true;
      conds.push(() => sql<SqlBool>`1 = 0`);
    }
    if (params.conversation_type === 'unattended') {
      countable = false;
      conds.push((eb) => eb.or([eb('conversations.first_reply_created_at', 'is', null), eb('conversations.waiting_since', 'is not', null)]));
    }
  }
  const q = params.q;
  if (q === undefined && params.status !== 'all') {
    const status = STATUSES.indexOf((params.status ?? 'open') as (typeof STATUSES)[number]);
    if (status >= 0) counterStatus = status;
    else empty = true;
    conds.push((eb) => (status >= 0 ? eb('conversations.status', '=', status) : sql<SqlBool>`1 = 0`));
  }
  if (params.team_id !== undefined && params.team_id !== '') {
    const teamId = looseRecordId(params.team_id);
    const team = teamId === null ? undefined : await db.selectFrom('teams').select('id').where('id', '=', teamId).where('account_id', '=', viewer.accountId).executeTakeFirst();
    if (!team) throw notFound();
    counterTeam = team.id;
    conds.push((eb) => eb('conversations.team_id', '=', team.id));
  }
  const labels = (params.labels ?? []).filter((l) => typeof l === 'string' && l !== '');
  let counterLabel: string | null = null;
  if (labels.length) {
    const distinct = [...new Set(labels)];
    if (distinct.length === 1) counterLabel = distinct[0];
    else countable = false;
    conds.push(labelsCondition(ctx.engine, labels));
  }
  if (q !== undefined) {
    countable = false;
    conds.push(queryCondition(ctx, viewer.accountId, q));
  }
  if (params.source_id !== undefined) {
    countable = false;
    const sourceId = params.source_id;
    conds.push((eb) =>
      eb('conversations.contact_inbox_id', 'in', eb.selectFrom('contact_inboxes').select('contact_inboxes.id').where('contact_inboxes.source_id', '=', sourceId)),
    );
  }

  const where = (eb: Eb) => eb.and([eb('conversations.account_id', '=', viewer.accountId), ...conds.map((c) => c(eb))]);

  /** `countsEpoch`: the request's (RequestEpochs.counts), not the plan's: a plan serves many requests. */
  const countsQuery = async (countsEpoch?: number): Promise<Counts> => {
    if (empty) return { ...ZERO_COUNTS };
    if (countable) {
      return countersCounts(ctx, viewer, { status: counterStatus, inboxId: counterInbox, inboxIds: viewer.inboxIds, teamId: counterTeam, label: counterLabel }, countsEpoch);
    }
    const countRow = await db
      .selectFrom('conversations')
      .select([
        sql<number>`count(*)`.as('all_count'),
        sql<number>`coalesce(sum(case when conversations.assignee_id is null then 1 else 0 end), 0)`.as('unassigned_count'),
        sql<number>`coalesce(sum(case when conversations.assignee_id = ${viewer.userId} then 1 else 0 end), 0)`.as('mine_count'),
      ])
      .where(where)
      .executeTakeFirstOrThrow();
    const all = Number(countRow.all_count);
    const unassigned = Number(countRow.unassigned_count);
    return { mine_count: Number(countRow.mine_count), assigned_count: all - unassigned, unassigned_count: unassigned, all_count: all };
  };
  // The page's ids come from an index alone (however deep the page); then 25 rows are read.
  let ids = db.selectFrom('conversations').select('conversations.id').where(where);
  if (params.assignee_type === 'me') ids = ids.where('conversations.assignee_id', '=', viewer.userId);
  else if (params.assignee_type === 'unassigned') ids = ids.where('conversations.assignee_id', 'is', null);
  else if (params.assignee_type === 'assigned') ids = ids.where('conversations.assignee_id', 'is not', null);
  const order = orderClause(params.sort_by);
  ids = ids.orderBy(order);

  let page = 1;
  const within = Number(params.updated_within);
  if (params.updated_within !== undefined && params.updated_within !== '' && Number.isFinite(within)) {
    ids = ids.where('conversations.updated_at', '>', Date.now() - within * 1000);
  } else {
    page = pageNumber(params.page);
    ids = ids.limit(PER_PAGE).offset((page - 1) * PER_PAGE);
  }
  // Counts and page are independent: on PostgreSQL the callers run them on two connections at once.
  return { counts: countsQuery, ids: empty ? null : ids, order, deep: page > 1, offset: (page - 1) * PER_PAGE };
}
