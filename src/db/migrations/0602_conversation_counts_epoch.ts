import { sql, type Kysely } from 'kysely';
import type { Engine } from '../../config.js';

/**
 * SQLite: `cache_epochs` row 2 moves with every change of the conversation counters (0600), so
 * the list's counts can be reused until one changes (conversations/finder.ts). Reading the
 * epoch is a few µs in-process there; on PostgreSQL it would be a round trip like the counts
 * themselves, and a row every conversation change locks would serialise them: nothing there.
 */
export const COUNTS_EPOCH = 2;

export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  await sql`insert into cache_epochs (id, v) values (${COUNTS_EPOCH}, 0)`.execute(db);
  if (engine === 'postgres') return;
  const bump = `update cache_epochs set v = v + 1 where id = ${COUNTS_EPOCH};`;
  for (const table of ['conversation_counts', 'conversation_label_counts']) {
    for (const event of ['insert', 'update', 'delete']) {
      await sql.raw(`create trigger ${table}_epoch_${event} after ${event} on ${table} for each row begin ${bump} end`).execute(db);
    }
  }
}
