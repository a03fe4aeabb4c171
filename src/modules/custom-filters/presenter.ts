import { parseJson, type JsonObject } from '../../db/json.js';
import { isoTime } from '../../db/time.js';
import { filterTypeName, type CustomFilterRow } from './service.js';

/** api/v1/models/_custom_filter.json.jbuilder */
export function presentCustomFilter(row: CustomFilterRow): Record<string, unknown> {
  return {
    id: row.id,
    name: row.name,
    filter_type: filterTypeName(row.filter_type),
    query: parseJson<JsonObject>(row.query, {}),
    created_at: isoTime(row.created_at),
    updated_at: isoTime(row.updated_at),
  };
}
