import { parseJson } from '../../db/json.js';
import { isoTime } from '../../db/time.js';
import { attributeModelName, displayTypeName, type CustomAttributeDefinitionRow } from './service.js';

/** api/v1/models/_custom_attribute_definition.json.jbuilder */
export function presentCustomAttributeDefinition(row: CustomAttributeDefinitionRow): Record<string, unknown> {
  return {
    id: row.id,
    attribute_display_name: row.attribute_display_name,
    attribute_display_type: displayTypeName(row.attribute_display_type),
    attribute_description: row.attribute_description,
    attribute_key: row.attribute_key,
    regex_pattern: row.regex_pattern,
    regex_cue: row.regex_cue,
    attribute_values: parseJson<unknown[]>(row.attribute_values, []),
    attribute_model: attributeModelName(row.attribute_model),
    // Chatwoot's column is an integer its API never writes; it is always null on the wire.
    default_value: row.default_value === null ? null : Number.isFinite(Number(row.default_value)) ? Number(row.default_value) : null,
    created_at: isoTime(row.created_at),
    updated_at: isoTime(row.updated_at),
  };
}
