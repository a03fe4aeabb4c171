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
