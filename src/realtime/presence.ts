/**
 * Who is online, per account (Chatwoot's OnlineStatusTracker). A user counts as present for
 * PRESENCE_MS after their last authenticated request or cable ping in that account.
 * Kept in this process, where presenters read it synchronously. With several processes
 * (REDIS_URL), each process tells the others its marks through Redis (realtime/presence-redis.ts):
 * a key's first mark at once, then at most one every SHARE_MS while it is marked again.
 */
export const PRESENCE_MS = 20_000;
/** How often a key that keeps being marked is told to the other processes again. */
export const SHARE_MS = 5_000;

const seen = new Map<string, number>();
/** When each key was last told to the other processes. */
const shared = new Map<string, number>();
/** Who is told of marks made here (the Redis sharer, when there is one). */
const listeners = new Set<(key: string, at: number) => void>();

const key = (accountId: number, type: 'User' | 'Contact', id: number) => `${accountId}:${type}:${id}`;

export function markPresent(accountId: number, type: 'User' | 'Contact', id: number, at = Date.now()): void {
  const k = key(accountId, type, id);
  seen.set(k, at);
  if (listeners.size === 0) return;
  const last = shared.get(k);
  if (last !== undefined && at - last < SHARE_MS) return;
  shared.set(k, at);
  for (const listener of listeners) listener(k, at);
}

/** A mark another process made (its key as markPresent builds it); an older one than known changes nothing. */
export function notePresenceElsewhere(presenceKey: string, at: number): void {
  const known = seen.get(presenceKey);
  if (known === undefined || known < at) seen.set(presenceKey, at);
}

/** Calls `listener` with the marks made in this process that the other processes should hear of; returns the way to stop. */
export function onPresenceShared(listener: (key: string, at: number) => void): () => void {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) shared.clear();
  };
}

export function isPresent(accountId: number, type: 'User' | 'Contact', id: number, at = Date.now()): boolean {
  return presentAt(key(accountId, type, id), at);
}

function presentAt(presenceKey: string, at: number): boolean {
  const last = seen.get(presenceKey);
  return last !== undefined && at - last < PRESENCE_MS;
}

export function clearPresence(): void {
  seen.clear();
  shared.clear();
}

/**
 * How an `availability_status` is decided from presence: `present` while the user or contact
 * counts as present, else `absent`. Presenters attach it (under PRESENCE_RULE, invisible to
 * JSON) to the object they render it in, so a cached rendering can decide it again when served.
 */
export interface PresenceRule {
  accountId: number;
  type: 'User' | 'Contact';
  id: number;
  present: string;
  absent: string;
  /**
   * The presence key, made at the rule's first decision and kept with it: a cached list item's
   * rules are decided at every request, and making the key each time (a new string, hashed again
   * for the lookup) was ~5 % of a list page's CPU.
   */
  key?: string;
}

export const PRESENCE_RULE = Symbol('presenceRule');

/** `at`: the time to decide at (a caller deciding many rules reads the clock once). */
export function presenceValue(rule: PresenceRule, at = Date.now()): string {
  if (rule.present === rule.absent) return rule.present;
  return presentAt((rule.key ??= key(rule.accountId, rule.type, rule.id)), at) ? rule.present : rule.absent;
}

/** `holder.availability_status` decided by `rule`, with the rule kept beside it. */
export function withPresence<T extends object>(holder: T, rule: PresenceRule): T & { availability_status: string } {
  Object.defineProperty(holder, PRESENCE_RULE, { value: rule, enumerable: false });
  return Object.assign(holder, { availability_status: presenceValue(rule) });
}
