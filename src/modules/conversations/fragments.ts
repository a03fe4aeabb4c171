import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Db } from '../../context.js';
import type { Database, Row } from '../../db/types.js';
import { precompiled } from '../../db/precompiled.js';
import { readEpoch } from '../../db/epochs.js';
import { perDatabase } from '../../db/per-database.js';
import { PRESENCE_RULE, presenceValue, type PresenceRule } from '../../realtime/presence.js';
import type { ConversationStamp } from './finder.js';
import { CLOCK_DEPENDENT, presentConversations } from './presenter.js';

/**
 * The conversation list's items, rendered once and reused while nothing they show has changed.
 *
 * An item is cached as JSON text under (conversation id, whether the viewer is in its team) and
 * is served only while the conversation's `render_version` and the database's render epoch are
 * the ones it was rendered at; triggers move those on every change the item shows (migration
 * 0610), whichever process writes, so a reused item is exactly what a fresh render would give.
 * What is not data is decided when served: each `availability_status` is a hole filled from
 * presence, and items whose `can_reply` depends on the clock are never kept.
 * Per process and per database, bounded; a miss renders with presentConversations.
 */

interface Fragment {
  /** UTF-8 JSON text around the holes: texts.length === rules.length + 1. */
  texts: Buffer[];
  rules: PresenceRule[];
}

interface Entry extends Fragment {
  version: number;
  epoch: number;
}

const MAX_ENTRIES = 10_000;

// A hole's mark carries a per-process random nonce, so no stored text can imitate one.
const NONCE = randomBytes(12).toString('hex');
const MARK = `\u0001${NONCE}:`;
const HOLE = new RegExp(`"\\\\u0001${NONCE}:\\d+"`);

const viewerTeamsQuery = precompiled((db, userId: number) => db.selectFrom('team_members').select('team_id').where('user_id', '=', userId));

/** One map per database: items of two databases say nothing about each other. */
const cacheOf = perDatabase(() => new Map<string, Entry>());

/**
 * JSON text of a rendered item, cut where presence decides a value, kept as UTF-8 bytes: a page
 * is then sent as the concatenation of its items' bytes, instead of a 70 KB string that the
 * response would measure (Buffer.byteLength) and encode again.
 */
export function toFragment(item: object): Fragment {
  const rules: PresenceRule[] = [];
  const json = JSON.stringify(item, function (this: Record<PropertyKey, unknown>, key: string, value: unknown) {
    if (key !== 'availability_status') return value;
    const rule = this[PRESENCE_RULE] as PresenceRule | undefined;
    if (!rule || rule.present === rule.absent) return value;
    rules.push(rule);
    return `${MARK}${rules.length - 1}`;
  });
  return { texts: json.split(HOLE).map((text) => Buffer.from(text)), rules };
}

/** Presence values are a handful of words: each one's JSON bytes are made once. */
const quotedValues = new Map<string, Buffer>();
function quoted(value: string): Buffer {
  let bytes = quotedValues.get(value);
  if (!bytes) {
    bytes = Buffer.from(JSON.stringify(value));
    if (quotedValues.size < 64) quotedValues.set(value, bytes);
  }
  return bytes;
}

/** The item's bytes as served now (presence filled in), appended to `out`. */
export function fillFragment(fragment: Fragment, out: Buffer[] = [], at = Date.now()): Buffer[] {
  out.push(fragment.texts[0]);
  for (let i = 0; i < fragment.rules.length; i++) out.push(quoted(presenceValue(fragment.rules[i], at)), fragment.texts[i + 1]);
  return out;
}

const OPEN = Buffer.from('['), COMMA = Buffer.from(','), CLOSE = Buffer.from(']');

/** The page's items as the pieces of a JSON array, in the stamps' order (conversations deleted meanwhile are left out). */
export async function renderConversationList(db: Db, stamps: ConversationStamp[], viewerUserId: number | null, authEpoch?: number): Promise<Buffer[]> {
  const items = await renderConversationItems(db, stamps, viewerUserId, { authEpoch });
  const out: Buffer[] = [OPEN];
  items.forEach((item, i) => {
    if (i > 0) out.push(COMMA);
    for (const piece of item) out.push(piece);
  });
  out.push(CLOSE);
  return out;
}

/**
 * Each stamped conversation's item as JSON text, in order (conversations deleted meanwhile are
 * left out). Stamps that are whole rows, read by this request, are rendered as they are.
 */
export async function renderConversationItems(
  db: Db,
  stamps: (ConversationStamp | Row<'conversations'>)[],
  viewerUserId: number | null,
  /** renderEpoch: when the caller read it (before the rows' reads below); authEpoch: the request's (presentConversations). */
  known: { renderEpoch?: number; authEpoch?: number } = {},
): Promise<Buffer[][]> {
  if (stamps.length === 0) return [];
  const root = db as Kysely<Database>;
  const cache = cacheOf(root);
  const needsTeams = viewerUserId !== null && stamps.some((s) => s.team_id !== null);
  const knownEpoch = known.renderEpoch ?? (stamps[0] as ConversationStamp).render_epoch;
  const [epoch, teamRows] = await Promise.all([knownEpoch ?? readEpoch(root, 'render_epochs', 1), needsTeams ? viewerTeamsQuery(root, viewerUserId) : []]);
  const viewerTeams = new Set(teamRows.map((t) => t.team_id));
  const keyOf = (s: Pick<ConversationStamp, 'id' | 'team_id'>) => (s.team_id !== null && viewerTeams.has(s.team_id) ? `${s.id}:m` : `${s.id}`);

  const fragments = new Map<number, Fragment>();
  const missing: number[] = [];
  for (const stamp of stamps) {
    const hit = cache.get(keyOf(stamp));
    if (hit && hit.version === stamp.render_version && hit.epoch === epoch) fragments.set(stamp.id, hit);
    else missing.push(stamp.id);
  }
  if (missing.length > 0) {
    const loaded = stamps.filter((s): s is Row<'conversations'> => 'display_id' in s && missing.includes(s.id));
    const rows = loaded.length === missing.length ? loaded : await db.selectFrom('conversations').selectAll().where('id', 'in', missing).execute();
    const items = await presentConversations(db, rows, viewerUserId, known.authEpoch);
    rows.forEach((row, i) => {
      const fragment = toFragment(items[i]);
      fragments.set(row.id, fragment);
      if ((items[i] as Record<PropertyKey, unknown>)[CLOCK_DEPENDENT]) return;
      // Under the version read with the row (what was rendered is at least that new), and keyed
      // by the membership the rendering shows (it read team_members itself).
      const isMember = (items[i].meta as { team?: { is_member?: boolean } }).team?.is_member === true;
      if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!);
      cache.set(isMember ? `${row.id}:m` : `${row.id}`, { ...fragment, version: row.render_version, epoch });
    });
  }
  const items: Buffer[][] = [];
  const at = Date.now();
  for (const stamp of stamps) {
    const fragment = fragments.get(stamp.id);
    if (fragment) items.push(fillFragment(fragment, [], at));
  }
  return items;
}
