import type { FilterCatalogue, FilterOperator } from './engine.js';

/** Conversation.statuses and Conversation.priorities (Chatwoot's enums). */
export const CONVERSATION_STATUSES: Readonly<Record<string, number>> = { open: 0, resolved: 1, pending: 2, snoozed: 3 };
export const CONVERSATION_PRIORITIES: Readonly<Record<string, number>> = { low: 0, medium: 1, high: 2, urgent: 3 };

const EQUALITY_OPS: readonly FilterOperator[] = ['equal_to', 'not_equal_to'];
const PRESENCE_OPS: readonly FilterOperator[] = ['equal_to', 'not_equal_to', 'is_present', 'is_not_present'];
const TEXT_OPS: readonly FilterOperator[] = ['equal_to', 'not_equal_to', 'contains', 'does_not_contain'];
const DATE_OPS: readonly FilterOperator[] = ['is_greater_than', 'is_less_than', 'days_before'];

const enumValue =
  (values: Readonly<Record<string, number>>, all: boolean) =>
  (v: unknown): unknown => {
    const key = String(v);
    if (all && key === 'all') return Object.values(values);
    if (Object.hasOwn(values, key)) return values[key];
    // Numbers already in stored form pass through.
    const n = Number(v);
    return typeof v !== 'boolean' && Number.isInteger(n) && Object.values(values).includes(n) ? n : undefined;
  };

/**
 * lib/filters/filter_keys.yml `conversations:` for the conversations module's
 * POST /conversations/filter: pass it to buildFilterExpression with the conversations table (or its
 * alias). Compares with every value (IN), as Chatwoot's FilterService does for conversations.
 * Keys not listed are conversation custom attributes (attribute_model 0).
 */
export const CONVERSATION_FILTER_CATALOGUE: FilterCatalogue = {
  entity: 'Conversation',
  values: 'all',
  customAttributes: { column: 'custom_attributes', attributeModel: 0 },
  attributes: {
    status: { source: { kind: 'column', column: 'status' }, dataType: 'number', operators: EQUALITY_OPS, mapValue: enumValue(CONVERSATION_STATUSES, true) },
    priority: {
      source: { kind: 'column', column: 'priority' },
      dataType: 'number',
      operators: EQUALITY_OPS,
      mapValue: enumValue(CONVERSATION_PRIORITIES, false),
    },
    assignee_id: { source: { kind: 'column', column: 'assignee_id' }, dataType: 'number', operators: PRESENCE_OPS },
    inbox_id: { source: { kind: 'column', column: 'inbox_id' }, dataType: 'number', operators: PRESENCE_OPS },
    team_id: { source: { kind: 'column', column: 'team_id' }, dataType: 'number', operators: PRESENCE_OPS },
    display_id: { source: { kind: 'column', column: 'display_id' }, dataType: 'number', operators: TEXT_OPS },
    campaign_id: { source: { kind: 'column', column: 'campaign_id' }, dataType: 'number', operators: PRESENCE_OPS },
    labels: { source: { kind: 'labels' }, dataType: 'labels', operators: PRESENCE_OPS },
    browser_language: { source: { kind: 'json', column: 'additional_attributes', key: 'browser_language' }, dataType: 'text', operators: EQUALITY_OPS },
    conversation_language: {
      source: { kind: 'json', column: 'additional_attributes', key: 'conversation_language' },
      dataType: 'text',
      operators: EQUALITY_OPS,
    },
    country_code: { source: { kind: 'json', column: 'additional_attributes', key: 'country_code' }, dataType: 'text', operators: EQUALITY_OPS },
    referer: { source: { kind: 'json', column: 'additional_attributes', key: 'referer' }, dataType: 'text', operators: TEXT_OPS },
    mail_subject: { source: { kind: 'json', column: 'additional_attributes', key: 'mail_subject' }, dataType: 'text', operators: TEXT_OPS },
    created_at: { source: { kind: 'column', column: 'created_at' }, dataType: 'date', operators: DATE_OPS },
    last_activity_at: { source: { kind: 'column', column: 'last_activity_at' }, dataType: 'date', operators: DATE_OPS },
  },
};
