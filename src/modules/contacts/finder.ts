import { sql, type Expression, type RawBuilder, type SqlBool } from 'kysely';
import type { AppContext } from '../../context.js';
import { buildFilterExpression } from '../filters/engine.js';
import { CONTACT_FILTER_CATALOGUE } from './filter-catalogue.js';
import type { ContactRow } from './presenter.js';
import { contactSearchText } from '../../db/migrations/0200_contacts.js';

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
 * ContactsController#search: name, email, phone number, identifier or company name contains `q`
 * (case-insensitive). Matches the lower-cased search text the 0200 migration indexes: an FTS5
 * trigram table on SQLite (queries without LIKE wildcards; 1–2 characters scan that table), a pg_trgm GIN
 * expression index on PostgreSQL.
 */
export function searchCondition(ctx: AppContext, q: string): Expression<SqlBool> {
  const needle = q.trim().toLowerCase();
  if (ctx.engine === 'sqlite' && !/[%_\\]/.test(needle)) {
    return sql<SqlBool>`contacts.id IN (SELECT rowid FROM contacts_search WHERE contacts_search.body LIKE ${`%${needle}%`})`;
  }
  const text = sql.raw(contactSearchText(ctx.engine, 'contacts'));
  return sql<SqlBool>`${text} LIKE ${`%${likeEscape(needle)}%`} ESCAPE '\\'`;
}

async function conditions(ctx: AppContext, query: ContactQuery): Promise<Expression<SqlBool>[]> {
  const out: Expression<SqlBool>[] = [resolved];
  if (query.labels && query.labels.length > 0) {
    const names = query.labels.map((l) => l.toLowerCase());
    out.push(
      sql<SqlBool>`EXISTS (SELECT 1 FROM taggings WHERE taggings.taggable_type = 'Contact' AND taggings.taggable_id = contacts.id AND LOWER(taggings.name) IN (${sql.join(names)}))`,
    );
  }
  if (query.search !== undefined) out.push(searchCondition(ctx, query.search));
  if (query.filter !== undefined) {
    out.push(
      await buildFilterExpression({
        db: ctx.db,
        engine: ctx.engine,
        accountId: query.accountId,
        table: 'contacts',
        catalogue: CONTACT_FILTER_CATALOGUE,
        payload: query.filter,
      }),
    );
  }
  return out;
}

/** One page of the account's contacts (15), with the total count: index, search and filter. */
export async function findContacts(ctx: AppContext, query: ContactQuery): Promise<{ contacts: ContactRow[]; count: number }> {
  const where = await conditions(ctx, query);
  const base = ctx.db
    .selectFrom('contacts')
    .where('contacts.account_id', '=', query.accountId)
    .where((eb) => eb.and(where));

  const countRow = await base.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();

  let page = base.selectAll('contacts');
  const raw = query.sort ?? '';
  const desc = raw.startsWith('-');
  const sortKey = desc ? raw.slice(1) : raw;
  const sort = Object.hasOwn(SORTS, sortKey) ? SORTS[sortKey] : undefined;
  if (sort) {
    const nulls = sort.nullsLast || !desc ? 'NULLS LAST' : 'NULLS FIRST';
    page = page.orderBy(sql`${sort.expr(ctx)} ${sql.raw(desc ? 'DESC' : 'ASC')} ${sql.raw(nulls)}`);
  }
  page = page.orderBy('contacts.id', 'asc');
  const contacts = (await page
    .limit(RESULTS_PER_PAGE)
    .offset((query.page - 1) * RESULTS_PER_PAGE)
    .execute()) as ContactRow[];
  return { contacts, count: Number(countRow.count) };
}
