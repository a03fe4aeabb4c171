import type { FilterCatalogue, FilterOperator } from '../filters/engine.js';

const TEXT_OPS: readonly FilterOperator[] = ['equal_to', 'not_equal_to', 'contains', 'does_not_contain'];
const EQUALITY_OPS: readonly FilterOperator[] = ['equal_to', 'not_equal_to'];
const DATE_OPS: readonly FilterOperator[] = ['is_greater_than', 'is_less_than', 'days_before'];

/** Contacts::FilterService's phone values: "+" followed by the digits given, with or without "+". */
const phoneValue = (v: unknown): unknown => (typeof v === 'string' || typeof v === 'number' ? `+${String(v).replace(/\+/g, '')}` : undefined);

/**
 * lib/filters/filter_keys.yml `contacts:` — what POST /contacts/filter accepts. Keys not listed
 * here are the account's contact custom attributes (attribute_model 1). Contacts compare with
 * the first value only, lower-cased (Contacts::FilterService#filter_values).
 */
export const CONTACT_FILTER_CATALOGUE: FilterCatalogue = {
  entity: 'Contact',
  values: 'first',
  customAttributes: { column: 'custom_attributes', attributeModel: 1 },
  attributes: {
    name: { source: { kind: 'column', column: 'name' }, dataType: 'text_case_insensitive', operators: TEXT_OPS },
    phone_number: {
      source: { kind: 'column', column: 'phone_number' },
      dataType: 'text',
      operators: [...TEXT_OPS, 'starts_with'],
      mapValue: phoneValue,
    },
    email: { source: { kind: 'column', column: 'email' }, dataType: 'text_case_insensitive', operators: TEXT_OPS },
    identifier: { source: { kind: 'column', column: 'identifier' }, dataType: 'text_case_insensitive', operators: EQUALITY_OPS },
    country_code: {
      source: { kind: 'json', column: 'additional_attributes', key: 'country_code' },
      dataType: 'text_case_insensitive',
      operators: EQUALITY_OPS,
    },
    city: { source: { kind: 'json', column: 'additional_attributes', key: 'city' }, dataType: 'text_case_insensitive', operators: TEXT_OPS },
    company: { source: { kind: 'json', column: 'additional_attributes', key: 'company' }, dataType: 'text_case_insensitive', operators: TEXT_OPS },
    labels: { source: { kind: 'labels' }, dataType: 'labels', operators: ['equal_to', 'not_equal_to', 'is_present', 'is_not_present'] },
    created_at: { source: { kind: 'column', column: 'created_at' }, dataType: 'date', operators: DATE_OPS },
    last_activity_at: { source: { kind: 'column', column: 'last_activity_at' }, dataType: 'date', operators: DATE_OPS },
    blocked: { source: { kind: 'column', column: 'blocked' }, dataType: 'boolean', operators: EQUALITY_OPS },
  },
};
