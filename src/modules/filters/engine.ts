/**
 * The filter engine behind `POST …/contacts/filter` and `POST …/conversations/filter`
 * (Chatwoot's FilterService + Filters::FilterHelper + lib/filters/filter_keys.yml).
 *
 * A caller describes WHAT can be filtered with a catalogue, and the engine turns Chatwoot's
 * payload into one parameterised Kysely expression. No SQL is ever built from user strings:
 * user values and JSON keys are bound parameters; table aliases and column names come only from
 * the catalogue (code, not input).
 *
 * Payload (the request body's `payload`):
 *   [{ "attribute_key": "name", "filter_operator": "contains", "values": ["jo"], "query_operator": "AND" }, …]
 * Conditions are chained in order by each condition's `query_operator` (the last one's is
 * ignored). As in Chatwoot's flat SQL string, AND binds tighter than OR:
 *   a AND b OR c  ==  (a AND b) OR c
 *
 * Catalogue format (`FilterCatalogue`):
 *   {
 *     entity: 'Contact',                    // taggable_type used by `labels` sources
 *     values: 'first',                      // 'first': compare with values[0] (Chatwoot's contact filter),
 *                                           // 'all':   compare with every value, IN (…) (conversation filter)
 *     customAttributes: { column: 'custom_attributes', attributeModel: 1 },
 *                                           // keys not in `attributes` are looked up in the account's
 *                                           // custom_attribute_definitions with this attribute_model
 *                                           // (0 conversation, 1 contact); omit to disable
 *     attributes: {
 *       name:    { source: { kind: 'column', column: 'name' }, dataType: 'text_case_insensitive',
 *                  operators: ['equal_to', 'not_equal_to', 'contains', 'does_not_contain'] },
 *       city:    { source: { kind: 'json', column: 'additional_attributes', key: 'city' }, … },
 *       labels:  { source: { kind: 'labels' }, dataType: 'labels', operators: [...] },
 *       status:  { source: { kind: 'column', column: 'status' }, dataType: 'number',
 *                  mapValue: (v) => ({ open: 0, resolved: 1 })[String(v)], … },
 *     },
 *   }
 *
 * Data types and how values compare:
 *   text                   case-sensitive equality; contains/does_not_contain are case-insensitive (ILIKE)
 *   text_case_insensitive  LOWER(target) compared with lower-cased values
 *   number                 numeric comparison; values must be numbers (or numeric strings)
 *   boolean                0/1 columns or JSON true/false; values true/false/"true"/"false"
 *   date                   a 'column' source holds epoch milliseconds, a 'json' source an ISO date
 *                          string; values are dates (YYYY-MM-DD …) compared by UTC day;
 *                          days_before N means "before today − N days"
 *   labels                 acts_as_taggable: EXISTS a tagging (taggings.taggable_type = entity)
 * Operators: equal_to, not_equal_to, contains, does_not_contain, is_present, is_not_present,
 * is_greater_than, is_less_than, days_before, starts_with.
 *
 * Errors are Chatwoot's 422 `{"error": "…"}` (render_could_not_create_error) with the
 * CustomExceptions::CustomFilter messages.
 */
import { sql, type Expression, type RawBuilder, type SqlBool } from 'kysely';
import type { Engine } from '../../config.js';
import type { Db } from '../../context.js';
import { isPlainObject } from '../../db/json.js';
import { unprocessable } from '../../lib/errors.js';
import { LOWER_PAIRS_FUNCTION, LOWER_PAIRS_INDEXED } from '../../db/migrations/0700_contacts_custom_attributes_lower.js';

export const FILTER_OPERATORS = [
  'equal_to',
  'not_equal_to',
  'contains',
  'does_not_contain',
  'is_present',
  'is_not_present',
  'is_greater_than',
  'is_less_than',
  'days_before',
  'starts_with',
] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

export type FilterDataType = 'text' | 'text_case_insensitive' | 'number' | 'boolean' | 'date' | 'labels';

/** Where an attribute's value lives, relative to the filtered table's alias. */
export type FilterSource =
  /** A column of the filtered table. */
  | { kind: 'column'; column: string }
  /** A key of a JSON column of the filtered table (additional_attributes ->> 'browser_language'). */
  | { kind: 'json'; column: string; key: string }
  /** The row's labels: taggings with taggable_type = catalogue.entity and taggable_id = alias.id. */
  | { kind: 'labels' };

export interface FilterAttribute {
  source: FilterSource;
  dataType: FilterDataType;
  /** The operators this attribute accepts; any other is a 422 listing these. */
  operators: readonly FilterOperator[];
  /**
   * Turns one user value into the stored value (e.g. conversation status 'open' → 0), or into
   * several (status 'all' → every status). Return undefined for a value that has no stored
   * form: the condition answers 422 Invalid value.
   */
  mapValue?: (value: unknown) => unknown;
  /** Overrides the catalogue's `values` mode for this attribute. */
  values?: 'first' | 'all';
}

export interface FilterCatalogue {
  entity: 'Contact' | 'Conversation';
  values: 'first' | 'all';
  attributes: Readonly<Record<string, FilterAttribute>>;
  customAttributes?: { column: string; attributeModel: 0 | 1 };
}

/** One element of the payload, as Chatwoot's clients send it. */
export interface FilterCondition {
  attribute_key: string;
  filter_operator: string;
  values?: unknown;
  query_operator?: string | null;
}

export interface BuildFilterOptions {
  db: Db;
  engine: Engine;
  accountId: number;
  /** Alias (or table name) the catalogue's columns belong to in the caller's query. */
  table: string;
  catalogue: FilterCatalogue;
  /** The request's `payload`; anything but an array of conditions is a 422. */
  payload: unknown;
  /** "Today" for days_before (epoch ms); defaults to now. */
  now?: number;
}

const DAY_MS = 86_400_000;

export const filterErrors = {
  invalidAttribute: (key: string, allowed: string[]) =>
    unprocessable(
      `Invalid attribute key - [${key}]. The key should be one of [${allowed.join(',')}] or a custom attribute defined in the account.`,
    ),
  invalidOperator: (key: string, allowed: readonly string[]) =>
    unprocessable(`Invalid operator. The allowed operators for ${key} are [${allowed.join(',')}].`),
  invalidQueryOperator: () => unprocessable('Query operator must be either "AND" or "OR".'),
  invalidValue: (key: string) => unprocessable(`Invalid value. The values provided for ${key} are invalid`),
  invalidPayload: () => unprocessable('Invalid filter payload. Send {"payload": [{"attribute_key", "filter_operator", "values", "query_operator"}, …]}'),
};

/** custom_attribute_definitions.attribute_display_type → the engine's data type. */
const CUSTOM_DISPLAY_TYPES: Record<number, FilterDataType> = {
  0: 'text_case_insensitive', // text
  1: 'number',
  2: 'number', // currency
  3: 'number', // percent
  4: 'text_case_insensitive', // link
  5: 'date',
  6: 'text_case_insensitive', // list
  7: 'boolean', // checkbox
};

const CUSTOM_OPERATORS: Record<FilterDataType, readonly FilterOperator[]> = {
  text_case_insensitive: ['equal_to', 'not_equal_to', 'contains', 'does_not_contain', 'is_present', 'is_not_present', 'starts_with'],
  text: ['equal_to', 'not_equal_to', 'contains', 'does_not_contain', 'is_present', 'is_not_present', 'starts_with'],
  number: ['equal_to', 'not_equal_to', 'contains', 'does_not_contain', 'is_present', 'is_not_present', 'is_greater_than', 'is_less_than'],
  date: ['equal_to', 'not_equal_to', 'is_present', 'is_not_present', 'is_greater_than', 'is_less_than', 'days_before'],
  boolean: ['equal_to', 'not_equal_to', 'is_present', 'is_not_present'],
  labels: ['equal_to', 'not_equal_to', 'is_present', 'is_not_present'],
};

/** A resolved condition: the attribute to filter, plus whether it is a custom attribute. */
interface Resolved {
  key: string;
  attribute: FilterAttribute;
  custom: boolean;
}

function isOperator(value: string): value is FilterOperator {
  return (FILTER_OPERATORS as readonly string[]).includes(value);
}

function parseConditions(payload: unknown): FilterCondition[] {
  if (!Array.isArray(payload)) throw filterErrors.invalidPayload();
  return payload.map((raw) => {
    if (!isPlainObject(raw) || typeof raw.attribute_key !== 'string' || typeof raw.filter_operator !== 'string') {
      throw filterErrors.invalidPayload();
    }
    const qo = raw.query_operator;
    if (qo !== undefined && qo !== null && typeof qo !== 'string') throw filterErrors.invalidQueryOperator();
    if (typeof qo === 'string' && qo !== '' && !['AND', 'OR'].includes(qo.toUpperCase())) throw filterErrors.invalidQueryOperator();
    return { attribute_key: raw.attribute_key, filter_operator: raw.filter_operator, values: raw.values, query_operator: qo as string | null | undefined };
  });
}

/** Reads the definitions of every key the payload names that the catalogue does not know. */
async function loadCustomAttributes(opts: BuildFilterOptions, keys: string[]): Promise<Map<string, FilterAttribute>> {
  const out = new Map<string, FilterAttribute>();
  const custom = opts.catalogue.customAttributes;
  if (!custom || keys.length === 0) return out;
  const defs = await opts.db
    .selectFrom('custom_attribute_definitions')
    .select(['attribute_key', 'attribute_display_type'])
    .where('account_id', '=', opts.accountId)
    .where('attribute_model', '=', custom.attributeModel)
    .where('attribute_key', 'in', keys)
    .execute();
  for (const def of defs) {
    const dataType = CUSTOM_DISPLAY_TYPES[def.attribute_display_type] ?? 'text_case_insensitive';
    out.set(def.attribute_key, {
      source: { kind: 'json', column: custom.column, key: def.attribute_key },
      dataType,
      operators: CUSTOM_OPERATORS[dataType],
    });
  }
  return out;
}

// ---- value handling ----

function valueList(condition: FilterCondition): unknown[] {
  const v = condition.values;
  if (Array.isArray(v)) return v;
  if (v === undefined || v === null || v === '') return [];
  return [v];
}

/** Chatwoot's `values.blank?`: nothing, or only blank strings/nulls. */
const isBlankValues = (values: unknown[]): boolean =>
  values.length === 0 || values.every((v) => v === null || v === undefined || (typeof v === 'string' && v.trim() === ''));

/** A payload value's scalar form: label/select options arrive as {"id": …, "name": …}. */
function scalar(v: unknown): unknown {
  if (isPlainObject(v)) return 'id' in v ? v.id : 'name' in v ? v.name : undefined;
  return v;
}

function toNumber(key: string, v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  if (!Number.isFinite(n)) throw filterErrors.invalidValue(key);
  return n;
}

function toBooleanInt(key: string, v: unknown): number {
  if (v === true || v === 1 || v === 'true' || v === '1' || v === 't') return 1;
  if (v === false || v === 0 || v === 'false' || v === '0' || v === 'f') return 0;
  throw filterErrors.invalidValue(key);
}

/** A date value → midnight UTC of that day (epoch ms). */
function toDayStart(key: string, v: unknown): number {
  const s = typeof v === 'number' ? new Date(v).toISOString() : typeof v === 'string' ? v.trim() : '';
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(s);
  let ms: number;
  if (m) ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  else {
    const parsed = Date.parse(s);
    if (Number.isNaN(parsed)) throw filterErrors.invalidValue(key);
    ms = Math.floor(parsed / DAY_MS) * DAY_MS;
  }
  if (Number.isNaN(ms)) throw filterErrors.invalidValue(key);
  return ms;
}

const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** Escapes LIKE wildcards so a user's "%" or "_" matches itself. */
const likeEscape = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

// ---- SQL pieces ----

type Sql = RawBuilder<unknown>;

class ConditionBuilder {
  constructor(
    private readonly opts: BuildFilterOptions,
    private readonly resolved: Resolved,
    private readonly condition: FilterCondition,
    /** PostgreSQL: narrow through the lowered-pairs index (prepareFilterExpression). */
    private readonly indexPrefilter: boolean,
  ) {}

  private get engine(): Engine {
    return this.opts.engine;
  }

  private col(column: string): Sql {
    return sql.ref(`${this.opts.table}.${column}`);
  }

  private jsonPath(key: string): string {
    return `$."${key}"`;
  }

  /** The JSON value as SQL text (NULL when missing or JSON null). */
  private jsonText(column: string, key: string): Sql {
    if (this.engine === 'postgres') return sql`(${this.col(column)} ->> ${key})`;
    return sql`(CASE json_type(${this.col(column)}, ${this.jsonPath(key)}) WHEN 'null' THEN NULL WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST(json_extract(${this.col(column)}, ${this.jsonPath(key)}) AS TEXT) END)`;
  }

  /** The JSON value as a number when it is one (or a numeric string), else NULL. */
  private jsonNumber(column: string, key: string): Sql {
    if (this.engine === 'postgres') {
      const c = this.col(column);
      return sql`(CASE jsonb_typeof(${c} -> ${key}) WHEN 'number' THEN (${c} ->> ${key})::numeric WHEN 'string' THEN (CASE WHEN (${c} ->> ${key}) ~ '^\\s*-?[0-9]+(\\.[0-9]+)?\\s*$' THEN trim(${c} ->> ${key})::numeric END) END)`;
    }
    const c = this.col(column);
    const p = this.jsonPath(key);
    return sql`(CASE json_type(${c}, ${p}) WHEN 'integer' THEN json_extract(${c}, ${p}) WHEN 'real' THEN json_extract(${c}, ${p}) WHEN 'text' THEN (CASE WHEN json_extract(${c}, ${p}) GLOB '*[0-9]*' AND json_extract(${c}, ${p}) NOT GLOB '*[^0-9.-]*' THEN CAST(json_extract(${c}, ${p}) AS REAL) END) END)`;
  }

  /** The JSON value as 1/0 when it is a boolean, else NULL. */
  private jsonBoolean(column: string, key: string): Sql {
    if (this.engine === 'postgres') return sql`(CASE (${this.col(column)} ->> ${key}) WHEN 'true' THEN 1 WHEN 'false' THEN 0 END)`;
    return sql`(CASE json_type(${this.col(column)}, ${this.jsonPath(key)}) WHEN 'true' THEN 1 WHEN 'false' THEN 0 END)`;
  }

  /** The expression compared with the values, in the form the data type needs. */
  private target(): Sql {
    const { source, dataType } = this.resolved.attribute;
    if (source.kind === 'labels') throw new Error('labels have no scalar target');
    if (source.kind === 'column') return this.col(source.column);
    if (dataType === 'number') return this.jsonNumber(source.column, source.key);
    if (dataType === 'boolean') return this.jsonBoolean(source.column, source.key);
    if (dataType === 'date') return sql`substr(${this.jsonText(source.column, source.key)}, 1, 10)`;
    return this.jsonText(source.column, source.key);
  }

  private get key(): string {
    return this.resolved.key;
  }

  /**
   * The values the condition compares with; 'first' mode keeps values[0]. `mapped` applies the
   * attribute's mapValue (equality and ordering compare stored forms; contains matches raw text,
   * as Chatwoot's values_for_ilike does).
   */
  private values(mapped = true): unknown[] {
    const { attribute } = this.resolved;
    let list = valueList(this.condition).map(scalar);
    if ((attribute.values ?? this.opts.catalogue.values) === 'first') list = list.slice(0, 1);
    if (mapped && attribute.mapValue) {
      list = list.flatMap((v) => {
        const stored = attribute.mapValue!(v);
        if (stored === undefined) throw filterErrors.invalidValue(this.key);
        return Array.isArray(stored) ? stored : [stored];
      });
    }
    if (list.length === 0 || list.some((v) => v === undefined || v === null)) throw filterErrors.invalidValue(this.key);
    return list;
  }

  private textValues(lower: boolean, mapped = true): string[] {
    return this.values(mapped).map((v) => {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw filterErrors.invalidValue(this.key);
      return lower ? String(v).toLowerCase() : String(v);
    });
  }

  build(): Sql {
    const op = this.condition.filter_operator as FilterOperator;
    const { attribute } = this.resolved;
    if (attribute.dataType === 'labels') return this.labels(op);
    const target = this.target();

    if (op === 'is_present') return sql`${target} IS NOT NULL`;
    if (op === 'is_not_present') return sql`${target} IS NULL`;
    if (op === 'contains' || op === 'does_not_contain' || op === 'starts_with') return this.like(op, target);

    switch (attribute.dataType) {
      case 'number':
        return this.compare(op, target, this.values().map((v) => toNumber(this.key, v)));
      case 'boolean':
        return this.compare(op, target, this.values().map((v) => toBooleanInt(this.key, v)));
      case 'date':
        return this.date(op, target);
      case 'text_case_insensitive':
        return this.withPrefilter(op, this.compare(op, sql`LOWER(${target})`, this.textValues(true)), this.textValues(true));
      default:
        return this.withPrefilter(op, this.compare(op, target, this.textValues(false)), this.textValues(false));
    }
  }

  /** equal_to on a text value inside a JSON column: a cheap test that finds the candidate rows first. */
  private withPrefilter(op: FilterOperator, condition: Sql, values: string[]): Sql {
    return this.engine === 'postgres' ? this.withLowerPairsIndex(op, condition, values) : this.withRawTextPrefilter(op, condition, values);
  }

  /**
   * PostgreSQL: the lowered-pairs index (migration 0700) answers which rows hold the value under
   * the key, case aside; the exact condition stays beside it. Both `LOWER(v) = x` (x lower-cased)
   * and `v = x` imply that the row's pair is `"key":lower(x)`, so no matching row is left out.
   */
  private withLowerPairsIndex(op: FilterOperator, condition: Sql, values: string[]): Sql {
    const { source } = this.resolved.attribute;
    if (op !== 'equal_to' || source.kind !== 'json' || !this.indexPrefilter || !LOWER_PAIRS_INDEXED.has(`${this.opts.table}.${source.column}`)) {
      return condition;
    }
    const pairs = sql`${sql.raw(LOWER_PAIRS_FUNCTION)}(${this.col(source.column)})`;
    // Built and lowered by PostgreSQL, as the index's pairs were (JavaScript's lowering differs outside ASCII).
    const wanted = values.map((v) => sql`to_jsonb(${source.key}::text)::text || ':' || lower(${v}::text)`);
    return sql`(${pairs} && ARRAY[${sql.join(wanted)}]) AND ${condition}`;
  }

  /**
   * SQLite, equal_to on a text value inside a JSON column: extracting the value costs a JSON
   * parse per row, so first test (cheaply) that the row's raw JSON text contains the value at
   * all. A row whose value equals v (ASCII case aside) holds v verbatim in its JSON text, as
   * long as v needs no JSON escaping and cannot be the text form of a non-string (number,
   * infinity, object, array): only those values get the prefilter, so the result is unchanged.
   */
  private withRawTextPrefilter(op: FilterOperator, condition: Sql, values: string[]): Sql {
    const { source } = this.resolved.attribute;
    if (this.engine !== 'sqlite' || op !== 'equal_to' || source.kind !== 'json') return condition;
    // eslint-disable-next-line no-control-regex
    const verbatim = (v: string) => v !== '' && /[^0-9.eE+-]/.test(v) && !/^[-+]?(inf|nan)/i.test(v) && !/^[[{]/.test(v) && !/["\\\u0000-\u001f\u2028\u2029]/.test(v) && !/[\ud800-\udfff]/.test(v);
    if (!values.every(verbatim)) return condition;
    const col = this.col(source.column);
    const any = values.map((v) => sql`${col} LIKE ${`%${likeEscape(v)}%`} ESCAPE '\\'`);
    return sql`(${sql.join(any, sql` OR `)}) AND ${condition}`;
  }

  /** equal_to / not_equal_to / is_greater_than / is_less_than against plain values. */
  private compare(op: FilterOperator, target: Sql, values: unknown[]): Sql {
    const list = sql.join(values.map((v) => sql`${v}`));
    switch (op) {
      case 'equal_to':
        return values.length === 1 ? sql`${target} = ${values[0]}` : sql`${target} IN (${list})`;
      case 'not_equal_to': {
        const cond = values.length === 1 ? sql`${target} <> ${values[0]}` : sql`${target} NOT IN (${list})`;
        // Chatwoot's not_in_custom_attr_query: a custom attribute that is not set also differs.
        return this.resolved.custom ? sql`(${cond} OR ${target} IS NULL)` : cond;
      }
      case 'is_greater_than':
        return sql`${target} > ${values[0]}`;
      case 'is_less_than':
        return sql`${target} < ${values[0]}`;
      default:
        throw filterErrors.invalidOperator(this.key, this.resolved.attribute.operators);
    }
  }

  /** contains → ILIKE ANY(%v%), does_not_contain → NOT ILIKE ALL(%v%), starts_with → LIKE v%. */
  private like(op: FilterOperator, target: Sql): Sql {
    const text = this.resolved.attribute.dataType === 'text' || this.resolved.attribute.dataType === 'text_case_insensitive';
    const subject = text ? sql`LOWER(${target})` : sql`LOWER(CAST(${target} AS TEXT))`;
    const patterns = this.textValues(true, false).map((v) => (op === 'starts_with' ? `${likeEscape(v.trim())}%` : `%${likeEscape(v.trim())}%`));
    const each = patterns.map((p) => sql`${subject} LIKE ${p} ESCAPE '\\'`);
    if (op === 'does_not_contain') return sql`NOT (${sql.join(each, sql` OR `)})`;
    return sql`(${sql.join(each, sql` OR `)})`;
  }

  private date(op: FilterOperator, target: Sql): Sql {
    const { source } = this.resolved.attribute;
    let day: number;
    if (op === 'days_before') {
      const n = toNumber(this.key, this.values()[0]);
      const today = Math.floor((this.opts.now ?? Date.now()) / DAY_MS) * DAY_MS;
      day = today - Math.trunc(n) * DAY_MS;
    } else {
      day = toDayStart(this.key, this.values()[0]);
    }
    if (source.kind === 'column') {
      // Epoch-ms column compared by UTC day, like Chatwoot's (column)::date.
      switch (op) {
        case 'equal_to':
          return sql`(${target} >= ${day} AND ${target} < ${day + DAY_MS})`;
        case 'not_equal_to':
          return sql`(${target} < ${day} OR ${target} >= ${day + DAY_MS})`;
        case 'is_greater_than':
          return sql`${target} >= ${day + DAY_MS}`;
        case 'is_less_than':
        case 'days_before':
          return sql`${target} < ${day}`;
        default:
          throw filterErrors.invalidOperator(this.key, this.resolved.attribute.operators);
      }
    }
    const iso = isoDay(day);
    const realOp: FilterOperator = op === 'days_before' ? 'is_less_than' : op;
    return this.compare(realOp, target, [iso]);
  }

  private labels(op: FilterOperator): Sql {
    const base = sql`SELECT 1 FROM taggings WHERE taggings.taggable_type = ${this.opts.catalogue.entity} AND taggings.taggable_id = ${this.col('id')}`;
    switch (op) {
      case 'is_present':
        return sql`EXISTS (${base})`;
      case 'is_not_present':
        return sql`NOT EXISTS (${base})`;
      case 'equal_to':
      case 'not_equal_to': {
        const names = this.textValues(true);
        const exists = sql`EXISTS (${base} AND LOWER(taggings.name) IN (${sql.join(names.map((n) => sql`${n}`))}))`;
        return op === 'equal_to' ? exists : sql`NOT ${exists}`;
      }
      default:
        throw filterErrors.invalidOperator(this.key, this.resolved.attribute.operators);
    }
  }
}

/**
 * Turns a filter payload into one boolean expression over `options.table`. Throws 422 (Chatwoot's
 * messages) for an unknown attribute, an operator the attribute does not allow, a missing or
 * ill-typed value, or a query operator other than AND/OR. An empty payload matches everything.
 */
export async function buildFilterExpression(options: BuildFilterOptions): Promise<Expression<SqlBool>> {
  return (await prepareFilterExpression(options))();
}

/**
 * buildFilterExpression with the account's custom attributes read once, built as often as needed:
 * `indexPrefilter` false leaves out PostgreSQL's lowered-pairs index condition (withLowerPairsIndex),
 * for a page whose matches are many and that a walk in id order finds sooner (contacts/finder.ts).
 * The first build throws what buildFilterExpression would.
 */
export async function prepareFilterExpression(options: BuildFilterOptions): Promise<(indexPrefilter?: boolean) => Expression<SqlBool>> {
  const conditions = parseConditions(options.payload);
  if (conditions.length === 0) return () => sql<SqlBool>`1 = 1`;
  const { catalogue } = options;
  const unknownKeys = [...new Set(conditions.map((c) => c.attribute_key).filter((k) => !Object.hasOwn(catalogue.attributes, k)))];
  const custom = await loadCustomAttributes(options, unknownKeys.filter((k) => !k.includes('"')));

  return (indexPrefilter = true) => {
    // OR-groups of AND-ed conditions: Chatwoot's flat "a AND b OR c" under SQL precedence.
    const groups: Sql[][] = [[]];
    conditions.forEach((condition, index) => {
      const key = condition.attribute_key;
      const known = Object.hasOwn(catalogue.attributes, key) ? catalogue.attributes[key] : undefined;
      const attribute = known ?? custom.get(key);
      if (!attribute) throw filterErrors.invalidAttribute(key, Object.keys(catalogue.attributes));
      const op = condition.filter_operator;
      if (!isOperator(op) || !attribute.operators.includes(op)) throw filterErrors.invalidOperator(key, attribute.operators);
      if (op !== 'is_present' && op !== 'is_not_present' && isBlankValues(valueList(condition))) throw filterErrors.invalidValue(key);

      const expr = new ConditionBuilder(options, { key, attribute, custom: !known }, condition, indexPrefilter).build();
      groups[groups.length - 1].push(sql`(${expr})`);
      const joiner = (condition.query_operator ?? '').toUpperCase();
      if (index < conditions.length - 1 && joiner === 'OR') groups.push([]);
    });
    const ored = groups.map((g) => sql`(${sql.join(g, sql` AND `)})`);
    return sql<SqlBool>`(${sql.join(ored, sql` OR `)})`;
  };
}

/** The allowed operators per attribute of a catalogue (for error messages and documentation). */
export function catalogueOperators(catalogue: FilterCatalogue): Record<string, readonly FilterOperator[]> {
  return Object.fromEntries(Object.entries(catalogue.attributes).map(([k, a]) => [k, a.operators]));
}
