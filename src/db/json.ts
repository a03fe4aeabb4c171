/**
 * JSON columns are TEXT on SQLite and JSONB on PostgreSQL: pg hands back parsed values,
 * SQLite hands back strings. Every read goes through parseJson so callers see one shape.
 */
export function parseJson<T>(value: unknown, fallback: T): T {
  if (value === null || value === undefined) return fallback;
  if (typeof value === 'string') {
    if (value === '') return fallback;
    // Most JSON columns hold an empty object (a message's content_attributes, a contact's attributes).
    if (value === '{}') return {} as T;
    try {
      return JSON.parse(value) as T;
    } catch {
      return fallback;
    }
  }
  return value as T;
}

export function toJson(value: unknown): string {
  return JSON.stringify(value ?? {});
}

export type JsonObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
