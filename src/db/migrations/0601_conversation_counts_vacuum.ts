import { sql, type Kysely } from 'kysely';
import type { Engine } from '../../config.js';

/**
 * PostgreSQL: the counter tables of 0600 are a few hundred rows updated by every conversation
 * write, so each update leaves a dead row version behind. Left to the default autovacuum
 * thresholds (20 % of a tiny table, checked once a minute) a bulk load leaves tens of thousands
 * of dead versions that every count then reads (3 ms instead of 0.1 ms). Half-empty pages keep
 * updates HOT (no index entry per update) and a fixed threshold has autovacuum clean up soon.
 * SQLite updates in place: nothing to do.
 */
export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  if (engine !== 'postgres') return;
  for (const table of ['conversation_counts', 'conversation_label_counts']) {
    await sql`alter table ${sql.table(table)} set (fillfactor = 50, autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 1000)`.execute(db);
  }
}
