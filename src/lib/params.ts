import { isPlainObject } from '../db/json.js';
import { notFound } from './errors.js';

/**
 * Rails wraps a JSON body's root keys into `params[:resource]` (wrap_parameters), so Chatwoot
 * clients send either `{"agent": {...}}` or `{...}`. Both reach the service as one object.
 */
export function unwrap<T extends object>(body: unknown, key: string): Partial<T> {
  if (!isPlainObject(body)) return {};
  const inner = body[key];
  if (isPlainObject(inner)) return { ...body, ...inner } as Partial<T>;
  return body as Partial<T>;
}

/** Rails' `present?` for strings. */
export const present = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

/** Chatwoot pages are 1-based; anything not a positive integer is page 1. */
export function pageNumber(raw: unknown): number {
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? Math.min(n, 1_000_000) : 1;
}

/** Rails' boolean casting of a param ("true", "1", 1, true → true). */
export function castBoolean(v: unknown): boolean | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  const s = String(v).toLowerCase();
  return !['false', '0', 'f', 'off', 'no', 'n'].includes(s);
}

/** The largest value an id column holds: ids (and display ids) are 32-bit integers on PostgreSQL. */
export const MAX_RECORD_ID = 2_147_483_647;

/** Whether `n` can be a stored row's id or display id. */
export const isRecordId = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= MAX_RECORD_ID;

/**
 * An id from a path, as Rails' find reads it for Chatwoot: one that can name no stored row (not a
 * number, zero, negative, or beyond the id column) is 404 before any query. PostgreSQL would
 * refuse such a value rather than find nothing.
 */
export function recordId(raw: unknown): number {
  const n = Number(raw);
  if (!isRecordId(n)) throw notFound();
  return n;
}

/**
 * An id from a query or a body, as Rails' `where(id:)` and `find_by(id:)` read it: anything that can
 * name no stored row (not a number, zero, beyond the id column) finds nothing, null here.
 */
export function looseRecordId(raw: unknown): number | null {
  const n = Number(raw);
  return isRecordId(n) ? n : null;
}

/** A conversation's display id in a path: digits only (NaN otherwise, which finds nothing). */
export function pathDisplayId(raw: string): number {
  return /^\d{1,12}$/.test(raw) ? Number(raw) : Number.NaN;
}
