import type { FilterCatalogue, FilterOperator } from '../filters/engine.js';
import { MAX_RECORD_ID } from '../../lib/params.js';
import { PRIORITIES, STATUSES } from './presenter.js';

const EQUALITY: readonly FilterOperator[] = ['equal_to', 'not_equal_to'];
const PRESENCE: readonly FilterOperator[] = ['equal_to', 'not_equal_to', 'is_present', 'is_not_present'];
const TEXT: readonly FilterOperator[] = ['equal_to', 'not_equal_to', 'contains', 'does_not_contain'];
const DATES: readonly FilterOperator[] = ['is_greater_than', 'is_less_than', 'days_before'];

const enumValue =
  (names: readonly string[]) =>
  (v: unknown): number | undefined => {
    const i = names.indexOf(String(v));
    return i < 0 ? undefined : i;
  };

/**
 * An id attribute's value. One beyond the id columns names no row, as 0 does: the same answer to
 * every operator these attributes take (equality and presence), where PostgreSQL would refuse it.
 */
const idValue = (v: unknown): number | undefined => {
  const n = Number(v);
  if (!Number.isInteger(n)) return undefined;
  return Math.abs(n) <= MAX_RECORD_ID ? n : 0;
};

const json = (key: string) => ({ kind: 'json' as const, column: 'additional_attributes', key });

/**
 * lib/filters/filter_keys.yml `conversations:` — what POST /conversations/filter accepts. Keys not
 * listed are the account's conversation custom attributes (attribute_model 0). Conversation
 * conditions compare with every value given (IN …).
 */
export const CONVERSATION_FILTER_CATALOGUE: FilterCatalogue = {
  entity: 'Conversation',
  values: 'all',
  customAttributes: { column: 'custom_attributes', attributeModel: 0 },
  attributes: {
    status: { source: { kind: 'column', column: 'status' }, dataType: 'number', operators: EQUALITY, mapValue: enumValue(STATUSES) },
    assignee_id: { source: { kind: 'column', column: 'assignee_id' }, dataType: 'number', operators: PRESENCE, mapValue: idValue },
    inbox_id: { source: { kind: 'column', column: 'inbox_id' }, dataType: 'number', operators: PRESENCE, mapValue: idValue },
    team_id: { source: { kind: 'column', column: 'team_id' }, dataType: 'number', operators: PRESENCE, mapValue: idValue },
    priority: { source: { kind: 'column', column: 'priority' }, dataType: 'number', operators: EQUALITY, mapValue: enumValue(PRIORITIES) },
    display_id: { source: { kind: 'column', column: 'display_id' }, dataType: 'number', operators: EQUALITY, mapValue: idValue },
    campaign_id: { source: { kind: 'column', column: 'campaign_id' }, dataType: 'number', operators: PRESENCE, mapValue: idValue },
    labels: { source: { kind: 'labels' }, dataType: 'labels', operators: PRESENCE },
    browser_language: { source: json('browser_language'), dataType: 'text', operators: EQUALITY },
    conversation_language: { source: json('conversation_language'), dataType: 'text', operators: EQUALITY },
    country_code: { source: json('country_code'), dataType: 'text_case_insensitive', operators: EQUALITY },
    referer: { source: json('referer'), dataType: 'text', operators: TEXT },
    mail_subject: { source: json('mail_subject'), dataType: 'text', operators: TEXT },
    created_at: { source: { kind: 'column', column: 'created_at' }, dataType: 'date', operators: DATES },
    last_activity_at: { source: { kind: 'column', column: 'last_activity_at' }, dataType: 'date', operators: DATES },
  },
};

/** Filters::FilterHelper#conversation_status_values: "all" stands for every status. */
export function expandStatusAll(payload: unknown): unknown {
  if (!Array.isArray(payload)) return payload;
  return payload.map((c: unknown) => {
    if (c && typeof c === 'object' && (c as { attribute_key?: unknown }).attribute_key === 'status') {
      const values = (c as { values?: unknown }).values;
      if (Array.isArray(values) && values.includes('all')) return { ...(c as object), values: [...STATUSES] };
    }
    return c;
  });
}
