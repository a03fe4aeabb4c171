import { PostgresAdapter, sql, type Expression, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from './types.js';

/**
 * SQLite: a row's values packed into one JSON array text (`json_array`), for pages of many rows
 * on hot paths.
 *
 * better-sqlite3 hands each value of a row to JavaScript through calls of its own (a value costs
 * about 0.3–0.5 µs on this project's machine, more than SQLite takes to find the row); one text
 * per row and JSON.parse build the same values for less. The messages page, 16 values for each
 * of up to 20 rows, spent 66 µs in its statement that way against 51 µs packed
 * (bench/README.md, "Packed rows").
 *
 * Only for columns holding integers, text or null: SQLite writes a REAL with 15 significant
 * digits (a double needs 17) and cannot put a BLOB in JSON. PostgreSQL's rows come as text over
 * the wire anyway: there the query selects its columns as usual (`packs` says which).
 */
export const PACKED = 'packed_row';

/** Whether statements on `db` pack their rows (SQLite). */
export function packs(db: Kysely<Database>): boolean {
  return !(db.getExecutor().adapter instanceof PostgresAdapter);
}

/** `json_array(values…) as packed_row`: the select item of a packed statement, values in the order `unpackRows` names them. */
export function packedRow(values: readonly Expression<unknown>[]): RawBuilder<string> {
  return sql<string>`json_array(${sql.join(values)})`;
}

/** The packed statement's rows as objects: each array's values under `names`, in order (one hidden class for all). */
export function unpackRows<R>(rows: readonly Record<string, unknown>[], names: readonly string[]): R[] {
  const out = new Array<R>(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const values = JSON.parse(rows[r][PACKED] as string) as unknown[];
    const row: Record<string, unknown> = {};
    for (let i = 0; i < names.length; i++) row[names[i]] = values[i];
    out[r] = row as R;
  }
  return out;
}
