import type { Kysely } from 'kysely';
import type { Database } from '../../db/types.js';
import { commitGeneration } from '../../db/epochs.js';
import { perDatabase } from '../../db/per-database.js';
import type { ConversationStamp } from './finder.js';

/**
 * Deep pages of the conversation list without walking their offset, while the list is unchanged.
 *
 * Neither engine can skip rows of an index: page 200 of an inbox steps 4 975 index entries before
 * its 25 (~170 µs of SQLite's time, the largest part of the request). A list read at one state of
 * the database leaves anchors: the sort key of the row just before its page and of its last row.
 * A later request for that page, or the next one (an agent scrolling), or any page below an
 * anchor, then seeks to the anchor through the same index (`sort key < anchor's`, in the list's
 * order) and steps only what lies between.
 *
 * An anchor is only ever used at the exact state it was read at, so an anchored page is the page
 * the offset would give:
 * - SQLite: the commit probe (db/epochs.ts, commitGeneration) is looked at before and after the
 *   statement, which runs synchronously; equal looks say nothing was committed, by any process,
 *   since the anchors were taken. Any commit drops them.
 * - PostgreSQL: the statement returns its own snapshot (`pg_current_snapshot()`). Two statements
 *   with the same snapshot see the same committed transactions, so a seek whose snapshot is the
 *   anchors' is exact; otherwise (something committed anywhere in the cluster) its rows are thrown
 *   away and the page is read with its offset, which leaves new anchors. After such a miss the next
 *   request of the list goes straight to the offset, so steady writes cost at most every other
 *   request one cheap seek.
 */

/** Orders a seek can follow: one timestamp column, then the id, in one direction. */
export interface Seekable {
  column: 'last_activity_at' | 'created_at';
  desc: boolean;
}

/** A page query's row with what anchors are taken from. */
export type AnchorRow = ConversationStamp & { sort_key: number | string; snap?: string };

/** The page's statements, compiled once with the plan (finder.ts, stampsPlan). */
export interface AnchoredPage {
  /** The list's identity without the page number: the viewer and the filters. */
  listKey: string;
  /** Rows skipped before the page. */
  offset: number;
  /** The page read with its offset, one row earlier: rows offset-1 … offset+24. */
  withOffset: (db: Kysely<Database>) => AnchorRow[] | Promise<AnchorRow[]>;
  /** The page from an anchor: rows after (key, id) in the list's order, `skip` of them skipped. */
  fromAnchor: (db: Kysely<Database>, key: number | string, id: number, skip: number) => AnchorRow[] | Promise<AnchorRow[]>;
}

/** Pages shallower than this read their offset: it costs less than keeping anchors. */
export const MIN_ANCHORED_OFFSET = 50;

/** Anchors are kept for this many lists per database, and this many positions per list. */
const MAX_LISTS = 1_000;
const MAX_POSITIONS = 64;

interface Anchor {
  key: number | string;
  id: number;
}

interface ListAnchors {
  /** The state the anchors hold at: the commit generation (SQLite) or snapshot (PostgreSQL). */
  view: number | string;
  /** Position in the list → the sort key and id of the row there. */
  at: Map<number, Anchor>;
  /** PostgreSQL: the last seek found the database changed; the next request reads its offset. */
  missed: boolean;
}

const anchorsOf = perDatabase(() => new Map<string, ListAnchors>());

/** How deep pages were read, per database: from an anchor, or with the offset after a seek found the database changed. */
export const anchorCounts = perDatabase(() => ({ seeks: 0, missedSeeks: 0 }));

/** The page's 25 stamps, from an anchor when one holds, else with the offset. */
export async function readAnchoredPage(db: Kysely<Database>, engine: 'sqlite' | 'postgres', page: AnchoredPage): Promise<AnchorRow[]> {
  const lists = anchorsOf(db);
  const sqlite = engine === 'sqlite';
  const before = sqlite ? commitGeneration(db) : null;
  let list = lists.get(page.listKey);
  if (list && sqlite && list.view !== before) {
    lists.delete(page.listKey);
    list = undefined;
  }
  if (list && !list.missed && (!sqlite || before !== null)) {
    const start = nearestAnchor(list, page.offset - 1);
    if (start) {
      const rows = await page.fromAnchor(db, start.anchor.key, start.anchor.id, page.offset - 1 - start.position);
      const view = sqlite ? commitGeneration(db) : rows[0]?.snap;
      if (view === list.view) {
        anchorCounts(db).seeks++;
        remember(list, page.offset, rows);
        return rows;
      }
      // PostgreSQL: something was committed since the anchors (SQLite: a commit during the read).
      list.missed = true;
      anchorCounts(db).missedSeeks++;
    }
  }
  const rows = await page.withOffset(db);
  const view = sqlite ? (before !== null && commitGeneration(db) === before ? before : null) : rows[0]?.snap;
  if (rows.length > 0 && view !== null && view !== undefined) {
    if (!list || list.view !== view) {
      if (lists.size >= MAX_LISTS && !lists.has(page.listKey)) lists.delete(lists.keys().next().value!);
      list = { view, at: new Map(), missed: false };
      lists.set(page.listKey, list);
    }
    list.missed = false;
    remember(list, page.offset - 1, rows);
  }
  return rows.slice(1);
}

/** The anchor at or nearest above `position` (it must not be past it). */
function nearestAnchor(list: ListAnchors, position: number): { position: number; anchor: Anchor } | null {
  let best = -1;
  for (const p of list.at.keys()) if (p <= position && p > best) best = p;
  return best < 0 ? null : { position: best, anchor: list.at.get(best)! };
}

/** Anchors at the first and last of `rows`, which start at `first`. */
function remember(list: ListAnchors, first: number, rows: AnchorRow[]): void {
  if (rows.length === 0) return;
  if (list.at.size + 2 > MAX_POSITIONS) list.at.clear();
  const head = rows[0];
  const last = rows[rows.length - 1];
  list.at.set(first, { key: head.sort_key, id: head.id });
  list.at.set(first + rows.length - 1, { key: last.sort_key, id: last.id });
}
