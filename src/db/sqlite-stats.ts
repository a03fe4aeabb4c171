import { sql, type Kysely } from 'kysely';

/**
 * Removes ANALYZE's sqlite_stat4 samples and reloads the statistics, keeping sqlite_stat1.
 *
 * better-sqlite3 builds SQLite with SQLITE_ENABLE_STAT4. With samples present, a statement whose
 * plan could depend on a bound value (`account_id = ?`, `status = ?`, `conversation_id = ?` on an
 * analysed index) is marked expired whenever that parameter is bound again, and better-sqlite3
 * binds on every run: SQLite then parses and plans the statement anew on every execution
 * (6–30 µs each, measured on the conversation counts, the flood check and the list stamps).
 * Our statements' plans are the same with the per-index averages of sqlite_stat1 alone (checked
 * on every SELECT of the benchmark's scenarios), so the samples only cost.
 * `ANALYZE sqlite_schema` makes the connection load the statistics again.
 */
export async function dropStat4Samples(db: Kysely<unknown>): Promise<void> {
  const table = await sql<{ n: number }>`SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table' AND name = 'sqlite_stat4'`.execute(db);
  if (Number(table.rows[0]?.n ?? 0) === 0) return;
  const samples = await sql<{ n: number }>`SELECT count(*) AS n FROM (SELECT 1 FROM sqlite_stat4 LIMIT 1)`.execute(db);
  if (Number(samples.rows[0]?.n ?? 0) === 0) return;
  await sql`DELETE FROM sqlite_stat4`.execute(db);
  await sql`ANALYZE sqlite_schema`.execute(db);
}
