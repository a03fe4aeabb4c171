/** Timestamps are stored as UTC epoch milliseconds (BIGINT / INTEGER) on both engines. */
export const now = (): number => Date.now();

/** Chatwoot renders most timestamps as Unix seconds. */
export function unixSeconds(ms: number | null | undefined): number | null {
  return ms === null || ms === undefined ? null : Math.floor(ms / 1000);
}

/** Rails' default JSON time format (ISO 8601 with milliseconds, UTC). */
export function isoTime(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

export const bool = (v: number | boolean | null | undefined): boolean => v === true || v === 1;
export const flag = (v: boolean | null | undefined): number => (v ? 1 : 0);
