import { sql, type Kysely } from 'kysely';
import type { Engine } from '../../config.js';
import { COUNTS_EPOCH } from './0602_conversation_counts_epoch.js';
import { EPOCH_STRIPES } from './0720_striped_contact_epochs.js';

/** Epochs striped on PostgreSQL by this migration (db/epochs.ts reads their sum). */
export const STRIPED_EPOCHS_0730: readonly number[] = [COUNTS_EPOCH];

/**
 * PostgreSQL: the conversation counts epoch (0602, SQLite only until now) moves in stripes like the
 * contact epochs (0720), so the list's and meta's counts are reused until a counter changes, and the
 * epoch is read in the same statement as the auth epoch at the start of a request (auth/cache.ts):
 * the meta route then needs no second round trip. Measured with the counts' read left out, the meta
 * went from 0.23-0.24 to 0.45-0.46 of the baseline.
 *
 * The bump is a deferred constraint trigger: it runs at commit, after every other lock of the
 * transaction is taken. An immediate bump would take the stripe's lock between two counter rows'
 * (a key change moves two, a bulk action more), and two transactions whose ids share a stripe
 * could then each hold what the other waits for. Taken last, a stripe's holder waits for nothing.
 * The stripes start past the single row's value, so nothing cached under it is taken as current.
 */
export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  if (engine !== 'postgres') return;
  await sql`insert into cache_epoch_stripes (epoch, stripe, v) select ${COUNTS_EPOCH}, s, case when s = 0 then coalesce((select v from cache_epochs where id = ${COUNTS_EPOCH}), 0) + 1 else 0 end from generate_series(0, ${EPOCH_STRIPES - 1}) s`.execute(
    db,
  );
  // Once a transaction: a bulk write queues one event per counter row, and updating one row again
  // and again in a transaction slows each update down (the generator's 200 000 conversations took
  // minutes in their commit). The setting is the transaction's own (set_config's is_local).
  const bump = `update cache_epoch_stripes set v = v + 1 where epoch = ${COUNTS_EPOCH} and stripe = (txid_current() % ${EPOCH_STRIPES})::integer;`;
  const once = `if current_setting('parley.counts_epoch_bumped', true) = txid_current()::text then return null; end if; perform set_config('parley.counts_epoch_bumped', txid_current()::text, true);`;
  await sql
    .raw(`create function conversation_counts_epoch_bump() returns trigger language plpgsql set search_path from current as $$ begin ${once} ${bump} return null; end $$`)
    .execute(db);
  for (const table of ['conversation_counts', 'conversation_label_counts']) {
    await sql
      .raw(
        `create constraint trigger ${table}_epoch after insert or update or delete on ${table}
         deferrable initially deferred for each row execute function conversation_counts_epoch_bump()`,
      )
      .execute(db);
  }
}
