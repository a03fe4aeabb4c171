/**
 * Who is online, per account (Chatwoot's OnlineStatusTracker). A user counts as present for
 * PRESENCE_MS after their last authenticated request or cable ping in that account.
 * In-process for one Parley process; a Redis-backed tracker replaces it for several.
 */
export const PRESENCE_MS = 20_000;

const seen = new Map<string, number>();

const key = (accountId: number, type: 'User' | 'Contact', id: number) => `${accountId}:${type}:${id}`;

export function markPresent(accountId: number, type: 'User' | 'Contact', id: number, at = Date.now()): void {
  seen.set(key(accountId, type, id), at);
}

export function isPresent(accountId: number, type: 'User' | 'Contact', id: number, at = Date.now()): boolean {
  const last = seen.get(key(accountId, type, id));
  return last !== undefined && at - last < PRESENCE_MS;
}

export function clearPresence(): void {
  seen.clear();
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
}

export const PRESENCE_RULE = Symbol('presenceRule');

export function presenceValue(rule: PresenceRule): string {
  return rule.present === rule.absent || isPresent(rule.accountId, rule.type, rule.id) ? rule.present : rule.absent;
}

/** `holder.availability_status` decided by `rule`, with the rule kept beside it. */
export function withPresence<T extends object>(holder: T, rule: PresenceRule): T & { availability_status: string } {
  Object.defineProperty(holder, PRESENCE_RULE, { value: rule, enumerable: false });
  return Object.assign(holder, { availability_status: presenceValue(rule) });
}
