import type { Db } from '../../context.js';
import type { Row } from '../../db/types.js';
import { parseJson, toJson } from '../../db/json.js';
import { now } from '../../db/time.js';
import { RecordErrors, asTaken, notFound } from '../../lib/errors.js';
import { recordId } from '../../lib/params.js';

export type CustomAttributeDefinitionRow = Row<'custom_attribute_definitions'>;

/** CustomAttributeDefinition's enums, in Chatwoot's integer order. */
export const ATTRIBUTE_MODELS = ['conversation_attribute', 'contact_attribute'] as const;
export type AttributeModel = (typeof ATTRIBUTE_MODELS)[number];
export const DISPLAY_TYPES = ['text', 'number', 'currency', 'percent', 'link', 'date', 'list', 'checkbox'] as const;
export type DisplayType = (typeof DISPLAY_TYPES)[number];

/** Keys a custom attribute may not take because filters and views already use them for standard fields. */
export const STANDARD_ATTRIBUTES: Record<AttributeModel, readonly string[]> = {
  conversation_attribute: [
    'status', 'priority', 'assignee_id', 'inbox_id', 'team_id', 'display_id', 'campaign_id', 'labels',
    'browser_language', 'country_code', 'referer', 'created_at', 'last_activity_at',
  ],
  contact_attribute: [
    'name', 'email', 'phone_number', 'identifier', 'country_code', 'city', 'created_at', 'last_activity_at', 'referer', 'blocked',
  ],
};

export const KEY_CONFLICT_MESSAGE = 'The provided key is not allowed as it might conflict with default attributes.';

export const attributeModelName = (n: number): AttributeModel => ATTRIBUTE_MODELS[n] ?? 'conversation_attribute';
export const displayTypeName = (n: number): DisplayType => DISPLAY_TYPES[n] ?? 'text';

/**
 * Rails enum assignment: the name ("contact_attribute") or the integer (1, "1").
 * Returns undefined for an absent value and -1 for one the enum does not know.
 */
export function castEnum(value: unknown, names: readonly string[]): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 && value < names.length ? value : -1;
  if (typeof value !== 'string') return -1;
  const byName = names.indexOf(value);
  if (byName >= 0) return byName;
  if (/^\d+$/.test(value)) {
    const n = Number(value);
    return n < names.length ? n : -1;
  }
  return -1;
}

export interface DefinitionInput {
  attribute_display_name?: string | null;
  attribute_description?: string | null;
  attribute_display_type?: string | number | null;
  attribute_key?: string | null;
  attribute_model?: string | number | null;
  regex_pattern?: string | null;
  regex_cue?: string | null;
  attribute_values?: unknown[] | null;
}

export const DEFINITION_FIELDS = [
  'attribute_display_name',
  'attribute_description',
  'attribute_display_type',
  'attribute_key',
  'attribute_model',
  'regex_pattern',
  'regex_cue',
  'attribute_values',
] as const;

/**
 * Chatwoot's `with_attribute_model` scope: a blank filter lists every definition; a name or
 * integer filters by it; anything else matches nothing (the cast value is NULL in SQL).
 */
export async function listDefinitions(db: Db, accountId: number, attributeModel?: unknown): Promise<CustomAttributeDefinitionRow[]> {
  let q = db.selectFrom('custom_attribute_definitions').selectAll().where('account_id', '=', accountId);
  const model = castEnum(attributeModel, ATTRIBUTE_MODELS);
  if (model === -1) return [];
  if (model !== undefined) q = q.where('attribute_model', '=', model);
  return q.orderBy('id').execute();
}

/** The account's definitions for one model, e.g. for a filter engine that needs each key's type. */
export function definitionsFor(db: Db, accountId: number, model: AttributeModel): Promise<CustomAttributeDefinitionRow[]> {
  return listDefinitions(db, accountId, model);
}

export async function findDefinition(db: Db, accountId: number, id: number | string): Promise<CustomAttributeDefinitionRow> {
  const n = recordId(id);
  const row = await db
    .selectFrom('custom_attribute_definitions')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('id', '=', n)
    .executeTakeFirst();
  if (!row) throw notFound();
  return row;
}

/** A regex_pattern as the dashboard stores it ("/^[a-z]+$/i") or a bare pattern; null if unusable. */
export function compilePattern(pattern: string | null | undefined): RegExp | null {
  if (!pattern) return null;
  const last = pattern.lastIndexOf('/');
  try {
    if (pattern.startsWith('/') && last > 0) {
      // g and y make RegExp#test stateful; a validation wants neither.
      const flags = pattern.slice(last + 1).replace(/[gy]/g, '');
      return new RegExp(pattern.slice(1, last), flags);
    }
    return new RegExp(pattern);
  } catch {
    return null;
  }
}

const scalar = (v: unknown): v is string | number | boolean => ['string', 'number', 'boolean'].includes(typeof v);

interface NormalizedDefinition {
  attribute_display_name: string | null;
  attribute_description: string | null;
  attribute_display_type: number;
  attribute_key: string | null;
  attribute_model: number;
  regex_pattern: string | null;
  regex_cue: string | null;
  attribute_values: (string | number | boolean)[];
}

/** The stored columns of a validated definition (create and update write the same ones). */
function definitionColumns(def: NormalizedDefinition) {
  return {
    attribute_display_name: def.attribute_display_name!,
    attribute_description: def.attribute_description,
    attribute_display_type: def.attribute_display_type,
    attribute_key: def.attribute_key!,
    attribute_model: def.attribute_model,
    regex_pattern: def.regex_pattern,
    regex_cue: def.regex_cue,
    attribute_values: toJson(def.attribute_values),
  };
}

function merge(base: NormalizedDefinition, input: DefinitionInput, errors: RecordErrors): NormalizedDefinition {
  const out = { ...base };
  if (input.attribute_display_name !== undefined) out.attribute_display_name = input.attribute_display_name;
  if (input.attribute_description !== undefined) out.attribute_description = input.attribute_description;
  if (input.attribute_key !== undefined) out.attribute_key = input.attribute_key;
  if (input.regex_pattern !== undefined) out.regex_pattern = input.regex_pattern;
  if (input.regex_cue !== undefined) out.regex_cue = input.regex_cue;
  if (input.attribute_values !== undefined) out.attribute_values = (input.attribute_values ?? []).filter(scalar);
  if (input.attribute_display_type !== undefined) {
    const t = castEnum(input.attribute_display_type, DISPLAY_TYPES);
    if (t === -1) errors.add('attribute_display_type', 'is not included in the list');
    else if (t === undefined) errors.add('attribute_display_type', "can't be blank");
    else out.attribute_display_type = t;
  }
  if (input.attribute_model !== undefined) {
    const m = castEnum(input.attribute_model, ATTRIBUTE_MODELS);
    if (m === -1) errors.add('attribute_model', 'is not included in the list');
    else if (m === undefined) errors.add('attribute_model', "can't be blank");
    else out.attribute_model = m;
  }
  return out;
}

async function validateDefinition(
  db: Db,
  accountId: number,
  def: NormalizedDefinition,
  errors: RecordErrors,
  options: { exceptId?: number; creating: boolean },
): Promise<void> {
  if (!def.attribute_display_name || def.attribute_display_name.trim() === '') errors.add('attribute_display_name', "can't be blank");
  if (!def.attribute_key || def.attribute_key.trim() === '') {
    errors.add('attribute_key', "can't be blank");
  } else {
    let q = db
      .selectFrom('custom_attribute_definitions')
      .select('id')
      .where('account_id', '=', accountId)
      .where('attribute_model', '=', def.attribute_model)
      .where('attribute_key', '=', def.attribute_key);
    if (options.exceptId !== undefined) q = q.where('id', '!=', options.exceptId);
    if (await q.executeTakeFirst()) errors.add('attribute_key', 'has already been taken');
  }
  if (def.regex_pattern && !compilePattern(def.regex_pattern)) errors.add('regex_pattern', 'is invalid');
  // Chatwoot checks the clash on create only, so an existing definition can keep its key.
  if (options.creating && def.attribute_key && STANDARD_ATTRIBUTES[attributeModelName(def.attribute_model)].includes(def.attribute_key)) {
    errors.add('attribute_key', KEY_CONFLICT_MESSAGE);
  }
}


export async function createDefinition(db: Db, accountId: number, input: DefinitionInput): Promise<CustomAttributeDefinitionRow> {
  const errors = new RecordErrors();
  const def = merge(
    {
      attribute_display_name: null,
      attribute_description: null,
      attribute_display_type: 0,
      attribute_key: null,
      attribute_model: 0,
      regex_pattern: null,
      regex_cue: null,
      attribute_values: [],
    },
    input,
    errors,
  );
  await validateDefinition(db, accountId, def, errors, { creating: true });
  errors.throwIfAny();
  const ts = now();
  try {
    return await db
      .insertInto('custom_attribute_definitions')
      .values({ ...definitionColumns(def), account_id: accountId, created_at: ts, updated_at: ts })
      .returningAll()
      .executeTakeFirstOrThrow();
  } catch (error) {
    throw asTaken(error, 'attribute_key');
  }
}

export async function updateDefinition(db: Db, row: CustomAttributeDefinitionRow, input: DefinitionInput): Promise<CustomAttributeDefinitionRow> {
  const errors = new RecordErrors();
  const def = merge(
    {
      attribute_display_name: row.attribute_display_name,
      attribute_description: row.attribute_description,
      attribute_display_type: row.attribute_display_type,
      attribute_key: row.attribute_key,
      attribute_model: row.attribute_model,
      regex_pattern: row.regex_pattern,
      regex_cue: row.regex_cue,
      attribute_values: parseJson<(string | number | boolean)[]>(row.attribute_values, []),
    },
    input,
    errors,
  );
  await validateDefinition(db, row.account_id, def, errors, { exceptId: row.id, creating: false });
  errors.throwIfAny();
  try {
    return await db
      .updateTable('custom_attribute_definitions')
      .set({ ...definitionColumns(def), updated_at: now() })
      .where('id', '=', row.id)
      .returningAll()
      .executeTakeFirstOrThrow();
  } catch (error) {
    throw asTaken(error, 'attribute_key');
  }
}

export async function deleteDefinition(db: Db, row: CustomAttributeDefinitionRow): Promise<void> {
  await db.deleteFrom('custom_attribute_definitions').where('id', '=', row.id).execute();
}

// ---- values written to contacts and conversations ----

const NUMERIC = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function isNumeric(v: unknown): boolean {
  if (typeof v === 'number') return Number.isFinite(v);
  return typeof v === 'string' && NUMERIC.test(v.trim());
}

function isUrl(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  try {
    const url = new URL(v.trim());
    return ['http:', 'https:', 'ftp:'].includes(url.protocol) && url.hostname !== '';
  } catch {
    return false;
  }
}

function isDate(v: unknown): boolean {
  if (typeof v !== 'string' || v.trim() === '') return false;
  return !Number.isNaN(Date.parse(v.trim()));
}

/** Why `value` breaks `def`, or null when it fits. Blank values (null, "") always fit: they clear the field. */
export function customAttributeValueError(def: Pick<CustomAttributeDefinitionRow, 'attribute_display_type' | 'attribute_values' | 'regex_pattern'>, value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null;
  const type = displayTypeName(def.attribute_display_type);
  switch (type) {
    case 'number':
    case 'currency':
    case 'percent':
      if (!isNumeric(value)) return 'must be a number';
      break;
    case 'link':
      if (!isUrl(value)) return 'must be a valid URL';
      break;
    case 'date':
      if (!isDate(value)) return 'must be a valid date';
      break;
    case 'checkbox':
      if (typeof value !== 'boolean' && value !== 'true' && value !== 'false') return 'must be true or false';
      return null;
    case 'list': {
      const allowed = parseJson<unknown[]>(def.attribute_values, []).map((v) => String(v));
      if (!scalar(value) || !allowed.includes(String(value))) return 'is not included in the list';
      return null;
    }
    case 'text':
      if (!scalar(value)) return 'must be text';
      break;
  }
  const pattern = compilePattern(def.regex_pattern);
  if (pattern && scalar(value) && !pattern.test(String(value))) return 'is invalid';
  return null;
}

/**
 * Checks custom attribute values against the account's definitions for `model`. Keys without a
 * definition pass (Chatwoot stores them as they are). Throws a 422 RecordErrors listing each
 * offending key: {"message":"Custom attributes price must be a number","attributes":["custom_attributes"]}.
 */
export async function validateCustomAttributeValues(
  db: Db,
  accountId: number,
  model: 'contact_attribute' | 'conversation_attribute',
  values: Record<string, unknown>,
): Promise<void> {
  const keys = Object.keys(values);
  if (keys.length === 0) return;
  const defs = await db
    .selectFrom('custom_attribute_definitions')
    .select(['attribute_key', 'attribute_display_type', 'attribute_values', 'regex_pattern', 'regex_cue'])
    .where('account_id', '=', accountId)
    .where('attribute_model', '=', ATTRIBUTE_MODELS.indexOf(model))
    .where('attribute_key', 'in', keys)
    .execute();
  const byKey = new Map(defs.map((d) => [d.attribute_key, d]));
  const errors = new RecordErrors();
  for (const key of keys) {
    const def = byKey.get(key);
    if (!def) continue;
    const problem = customAttributeValueError(def, values[def.attribute_key]);
    if (!problem) continue;
    const cue = problem === 'is invalid' && def.regex_cue ? ` (${def.regex_cue})` : '';
    errors.add('custom_attributes', `${def.attribute_key} ${problem}${cue}`);
  }
  errors.throwIfAny();
}
