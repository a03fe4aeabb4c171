import { sql, type Kysely } from 'kysely';
import { readEpoch } from '../db/epochs.js';
import { coalescedRead } from '../db/coalesce.js';
import { precompiled } from '../db/precompiled.js';
import { AUTH_EPOCH } from '../db/migrations/0010_auth_cache_epoch.js';
import { COUNTS_EPOCH } from '../db/migrations/0602_conversation_counts_epoch.js';
import type { Database } from '../db/types.js';
import type { Engine } from '../config.js';

/**
 * The auth epoch (migration 0010): moves with every change of accounts, users, memberships,
 * access tokens and agent bots, by whichever process. Read once per request.
 */
export const readAuthEpoch = (db: Kysely<Database>): number | Promise<number> => readEpoch(db, 'cache_epochs', AUTH_EPOCH);

/** The epochs a request reads before anything it caches. `counts` is undefined where it is read later (SQLite). */
export interface RequestEpochs {
  auth: number;
  /** The conversation counts epoch (0602, striped on PostgreSQL by 0730). */
  counts: number | undefined;
}

// PostgreSQL: both in one statement, so the counts epoch costs no round trip of its own.
const requestEpochsQuery = precompiled((db) =>
  db.selectNoFrom([
    sql<number>`(select v from cache_epochs where id = ${sql.lit(AUTH_EPOCH)})`.as('auth'),
    sql<number | null>`(select sum(v)::integer from cache_epoch_stripes where epoch = ${sql.lit(COUNTS_EPOCH)})`.as('counts'),
  ]),
);

/**
 * The epochs read at the start of a token-authenticated request. On PostgreSQL, for a route that
 * shows conversation counts (`countsEpoch` in its config), the auth epoch and the counts epoch come
 * together, one read shared by the requests that ask while it is unsent (db/coalesce.ts): the
 * list's and meta's counts are then served from their cache at that epoch without a second round
 * trip. Other routes read the auth epoch alone: summing the counts' stripes in every request's
 * statement made the profile route 25 % dearer there. On SQLite reading an epoch costs no round
 * trip: the counts epoch is read when the counts are (conversations/finder.ts).
 */
export function readRequestEpochs(db: Kysely<Database>, engine: Engine, withCounts: boolean): RequestEpochs | Promise<RequestEpochs> {
  if (engine === 'sqlite' || !withCounts) {
    const auth = readAuthEpoch(db);
    return typeof auth === 'number' ? { auth, counts: undefined } : auth.then((v) => ({ auth: v, counts: undefined }));
  }
  return coalescedRead(db, 'epochs:request', async () => {
    const [row] = await requestEpochsQuery(db);
    // No stripes (a database this code did not migrate): the counts are then read every time.
    return { auth: row?.auth ?? 0, counts: row?.counts ?? undefined };
  });
}
