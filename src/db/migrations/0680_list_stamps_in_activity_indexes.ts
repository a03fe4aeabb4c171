import { sql, type Kysely } from 'kysely';
import type { Engine } from '../../config.js';

/**
 * PostgreSQL: the list's activity indexes carry its stamps (render_version, team_id) as INCLUDE
 * columns, as conversations_list_stamps does, so a page of an inbox's or the whole account's list,
 * however deep, is one index-only walk instead of the walk plus 25 row reads
 * (conversations/finder.ts, stampsPlan). It costs writes nothing: every change of render_version
 * already writes a new version of the row into every index (it is in list_stamps), and INCLUDE
 * columns are outside the order. SQLite keeps its indexes: there a stamp in the key would move
 * the entry on every render-version bump.
 */
export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  if (engine !== 'postgres') return;
  const indexes: [string, string[]][] = [
    ['conversations_account_activity', ['account_id', 'last_activity_at', 'id']],
    ['conversations_inbox_activity', ['account_id', 'inbox_id', 'last_activity_at', 'id']],
    ['conversations_inbox_status_activity', ['account_id', 'inbox_id', 'status', 'last_activity_at', 'id']],
  ];
  for (const [name, keys] of indexes) {
    await sql`drop index ${sql.ref(name)}`.execute(db);
    await sql.raw(`create index ${name} on conversations (${keys.join(', ')}) include (label_bits, render_version, team_id)`).execute(db);
  }
  await sql`analyze conversations`.execute(db);
}
