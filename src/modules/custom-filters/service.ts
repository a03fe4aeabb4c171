import type { Db } from '../../context.js';
import type { Row } from '../../db/types.js';
import { isPlainObject, parseJson, toJson, type JsonObject } from '../../db/json.js';
import { now } from '../../db/time.js';
import { RecordErrors, notFound } from '../../lib/errors.js';
import { recordId } from '../../lib/params.js';
import { castEnum } from '../custom-attributes/service.js';

export type CustomFilterRow = Row<'custom_filters'>;

/** CustomFilter's filter_type enum, in Chatwoot's integer order. */
export const FILTER_TYPES = ['conversation', 'contact', 'report'] as const;
export type FilterType = (typeof FILTER_TYPES)[number];
export const filterTypeName = (n: number): FilterType => FILTER_TYPES[n] ?? 'conversation';

/** Limits::MAX_CUSTOM_FILTERS_PER_USER */
export const MAX_CUSTOM_FILTERS_PER_USER = 1000;

export interface CustomFilterInput {
  name?: string | null;
  filter_type?: string | number | null;
  query?: unknown;
}

export const CUSTOM_FILTER_FIELDS = ['name', 'filter_type', 'query'] as const;

/** The user's own filters of one type (conversation when none is asked for); an unknown type lists nothing. */
export async function listCustomFilters(db: Db, accountId: number, userId: number, filterType?: unknown): Promise<CustomFilterRow[]> {
  const type = castEnum(filterType, FILTER_TYPES) ?? 0;
  if (type === -1) return [];
  return db
    .selectFrom('custom_filters')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('user_id', '=', userId)
    .where('filter_type', '=', type)
    .orderBy('id')
    .execute();
}

/** One of the user's own filters; someone else's, or another account's, is 404. */
export async function findCustomFilter(db: Db, accountId: number, userId: number, id: number | string): Promise<CustomFilterRow> {
  const n = recordId(id);
  const row = await db
    .selectFrom('custom_filters')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('user_id', '=', userId)
    .where('id', '=', n)
    .executeTakeFirst();
  if (!row) throw notFound();
  return row;
}

function applyInput(errors: RecordErrors, input: CustomFilterInput, base: { name: string | null; filter_type: number; query: JsonObject }) {
  const out = { ...base };
  if (input.name !== undefined) out.name = input.name;
  if (input.filter_type !== undefined) {
    const t = castEnum(input.filter_type, FILTER_TYPES);
    if (t === -1) errors.add('filter_type', 'is not included in the list');
    else if (t === undefined) errors.add('filter_type', "can't be blank");
    else out.filter_type = t;
  }
  if (input.query !== undefined) {
    if (isPlainObject(input.query)) out.query = input.query;
    else errors.add('query', 'must be an object');
  }
  if (out.name === null || out.name.trim() === '') errors.add('name', "can't be blank");
  return out;
}

export async function createCustomFilter(db: Db, accountId: number, userId: number, input: CustomFilterInput): Promise<CustomFilterRow> {
  const errors = new RecordErrors();
  const values = applyInput(errors, input, { name: null, filter_type: 0, query: {} });
  const { count } = await db
    .selectFrom('custom_filters')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('account_id', '=', accountId)
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  if (Number(count) >= MAX_CUSTOM_FILTERS_PER_USER) {
    errors.add('account_id', `Limit reached. The maximum number of allowed custom filters for a user per account is ${MAX_CUSTOM_FILTERS_PER_USER}.`);
  }
  errors.throwIfAny();
  const ts = now();
  return db
    .insertInto('custom_filters')
    .values({
      account_id: accountId,
      user_id: userId,
      name: values.name!,
      filter_type: values.filter_type,
      query: toJson(values.query),
      created_at: ts,
      updated_at: ts,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function updateCustomFilter(db: Db, row: CustomFilterRow, input: CustomFilterInput): Promise<CustomFilterRow> {
  const errors = new RecordErrors();
  const values = applyInput(errors, input, { name: row.name, filter_type: row.filter_type, query: parseJson<JsonObject>(row.query, {}) });
  errors.throwIfAny();
  return db
    .updateTable('custom_filters')
    .set({ name: values.name!, filter_type: values.filter_type, query: toJson(values.query), updated_at: now() })
    .where('id', '=', row.id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function deleteCustomFilter(db: Db, row: CustomFilterRow): Promise<void> {
  await db.deleteFrom('custom_filters').where('id', '=', row.id).execute();
}
