import { isoTime } from '../../db/time.js';
import type { CannedResponseRow } from './service.js';

/** CannedResponse#as_json (the controller renders the record itself): columns in table order. */
export function presentCannedResponse(row: CannedResponseRow): Record<string, unknown> {
  return {
    id: row.id,
    account_id: row.account_id,
    short_code: row.short_code,
    content: row.content,
    created_at: isoTime(row.created_at),
    updated_at: isoTime(row.updated_at),
  };
}
