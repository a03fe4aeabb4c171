import { sql } from 'kysely';
import type { Db } from '../../context.js';
import type { Engine } from '../../config.js';
import type { Row } from '../../db/types.js';
import { now } from '../../db/time.js';
import { RecordErrors, asTaken, notFound } from '../../lib/errors.js';
import { recordId } from '../../lib/params.js';

export type CannedResponseRow = Row<'canned_responses'>;

export interface CannedResponseInput {
  short_code?: string | null;
  content?: string | null;
}

export const CANNED_RESPONSE_FIELDS = ['short_code', 'content'] as const;

/** A LIKE pattern that matches `text` literally (%, _ and \ escaped). */
const likeLiteral = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * The account's canned responses. With `search`: those whose short code or content contains it
 * (case-insensitive), best first — short code starting with it, then short code containing it,
 * then content containing it (CannedResponse.order_by_search).
 */
export async function listCannedResponses(db: Db, engine: Engine, accountId: number, search?: string): Promise<CannedResponseRow[]> {
  const base = db.selectFrom('canned_responses').selectAll().where('account_id', '=', accountId);
  if (search === undefined) return base.orderBy('id').execute();
  const contains = `%${likeLiteral(search)}%`;
  const startsWith = `${likeLiteral(search)}%`;
  // SQLite's LIKE is already case-insensitive (ASCII); PostgreSQL needs ILIKE.
  const like = engine === 'postgres' ? sql`ILIKE` : sql`LIKE`;
  const m = (column: 'short_code' | 'content', pattern: string) => sql<boolean>`${sql.ref(column)} ${like} ${pattern} ESCAPE '\\'`;
  return base
    .where((eb) => eb.or([m('short_code', contains), m('content', contains)]))
    .orderBy(
      sql`CASE WHEN ${m('short_code', startsWith)} THEN 3 WHEN ${m('short_code', contains)} THEN 2 WHEN ${m('content', contains)} THEN 1 ELSE 0 END`,
      'desc',
    )
    .orderBy('id')
    .execute();
}

export async function findCannedResponse(db: Db, accountId: number, id: number | string): Promise<CannedResponseRow> {
  const n = recordId(id);
  const row = await db.selectFrom('canned_responses').selectAll().where('account_id', '=', accountId).where('id', '=', n).executeTakeFirst();
  if (!row) throw notFound();
  return row;
}

const blank = (v: string | null | undefined) => v === null || v === undefined || v.trim() === '';

async function validate(db: Db, accountId: number, shortCode: string | null | undefined, content: string | null | undefined, exceptId?: number) {
  const errors = new RecordErrors();
  if (blank(content)) errors.add('content', "can't be blank");
  if (blank(shortCode)) {
    errors.add('short_code', "can't be blank");
  } else {
    let q = db.selectFrom('canned_responses').select('id').where('account_id', '=', accountId).where('short_code', '=', shortCode!);
    if (exceptId !== undefined) q = q.where('id', '!=', exceptId);
    if (await q.executeTakeFirst()) errors.add('short_code', 'has already been taken');
  }
  errors.throwIfAny();
}


export async function createCannedResponse(db: Db, accountId: number, input: CannedResponseInput): Promise<CannedResponseRow> {
  await validate(db, accountId, input.short_code, input.content);
  const ts = now();
  try {
    return await db
      .insertInto('canned_responses')
      .values({ account_id: accountId, short_code: input.short_code!, content: input.content!, created_at: ts, updated_at: ts })
      .returningAll()
      .executeTakeFirstOrThrow();
  } catch (error) {
    throw asTaken(error, 'short_code');
  }
}

export async function updateCannedResponse(db: Db, row: CannedResponseRow, input: CannedResponseInput): Promise<CannedResponseRow> {
  const shortCode = input.short_code !== undefined ? input.short_code : row.short_code;
  const content = input.content !== undefined ? input.content : row.content;
  await validate(db, row.account_id, shortCode, content, row.id);
  try {
    return await db
      .updateTable('canned_responses')
      .set({ short_code: shortCode!, content: content!, updated_at: now() })
      .where('id', '=', row.id)
      .returningAll()
      .executeTakeFirstOrThrow();
  } catch (error) {
    throw asTaken(error, 'short_code');
  }
}

export async function deleteCannedResponse(db: Db, row: CannedResponseRow): Promise<void> {
  await db.deleteFrom('canned_responses').where('id', '=', row.id).execute();
}
