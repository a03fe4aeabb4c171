import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A JSON-schema node of the swagger (OpenAPI 3); only the keywords the checker understands are typed. */
export interface Schema {
  $ref?: string;
  type?: string;
  nullable?: boolean;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  items?: Schema;
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  [key: string]: unknown;
}

export interface SwaggerDoc {
  paths: Record<string, Record<string, SwaggerOperation>>;
  components: { schemas: Record<string, Schema> };
}

export interface SwaggerOperation {
  operationId?: string;
  responses?: Record<string, { content?: Record<string, { schema?: Schema }> }>;
  requestBody?: unknown;
}

export interface Operation {
  operationId: string;
  method: string;
  path: string;
  /** Documented 2xx status codes. */
  successCodes: number[];
  /** Schema of the first documented 2xx JSON response, when there is one. */
  responseSchema?: Schema;
}

export const SWAGGER_PATH = join(import.meta.dirname, '..', '..', '..', 'shared', 'reference', 'chatwoot-swagger-4.9.1.json');

export function loadSwagger(path = SWAGGER_PATH): SwaggerDoc | null {
  if (!existsSync(path)) return null;
  return JSON.parse(readFileSync(path, 'utf8')) as SwaggerDoc;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

export function operationsOf(doc: SwaggerDoc): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.includes(method)) continue;
      const responses = op.responses ?? {};
      const successCodes = Object.keys(responses)
        .filter((c) => /^2\d\d$/.test(c))
        .map(Number);
      const first = successCodes.map((c) => responses[String(c)]).find((r) => r?.content?.['application/json']?.schema);
      ops.push({
        operationId: op.operationId ?? `${method} ${path}`,
        method: method.toUpperCase(),
        path,
        successCodes,
        responseSchema: first?.content?.['application/json']?.schema,
      });
    }
  }
  return ops;
}

/** Path segments with every parameter (`{x}` or `:x`) replaced by `*`; trailing slashes ignored. */
function segments(path: string): string[] {
  return path
    .replace(/\/+$/, '')
    .split('/')
    .map((s) => (/^\{.+\}$/.test(s) || s.startsWith(':') ? '*' : s));
}

/**
 * Whether a Parley route serves a swagger operation: same method, same literal segments, and
 * parameters in the same places (parameter names differ between the two and do not matter).
 */
export function matchesRoute(op: Pick<Operation, 'method' | 'path'>, route: { method: string; url: string }): boolean {
  if (op.method !== route.method) return false;
  const a = segments(op.path);
  const b = segments(route.url);
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

// ---------------------------------------------------------------------------------------------
// Structural checker

export interface Exception {
  reason: string;
  /** Only for these operationIds (the same component schema is rendered by several views). */
  ops?: string[];
  /** Replacement schema the jbuilder view actually follows; without it the property may be absent. */
  schema?: Schema;
}

export interface CheckResult {
  errors: string[];
  /** Exception keys that were consulted (so stale entries can be reported). */
  used: Set<string>;
}

/**
 * Validates `value` against `schema`: documented properties must be present with the documented
 * JSON type (extra properties are allowed). Keys of `exceptions` are `<schema>.<property path>`,
 * where <schema> is the nearest named component schema (or the operationId for inline response
 * schemas) and the property path uses `.` for properties and `[]` for array items.
 *
 * Null handling: Rails renders nil for unset attributes and the swagger marks few fields
 * `nullable`, so null is accepted for scalar properties and for `$ref`'d objects (associations
 * such as `assignee`); an inline `object` or `array` property must not be null unless `nullable`
 * (Chatwoot renders `{}`/`[]` for those).
 */
export function checkSchema(
  doc: SwaggerDoc,
  value: unknown,
  schema: Schema,
  operationId: string,
  exceptions: Record<string, Exception | Exception[]>,
): CheckResult {
  const rootName = operationId;
  const exceptionFor = (key: string): Exception | undefined => {
    const entries = exceptions[key];
    if (!entries) return undefined;
    return (Array.isArray(entries) ? entries : [entries]).find((e) => !e.ops || e.ops.includes(operationId));
  };
  const result: CheckResult = { errors: [], used: new Set() };
  walk(value, schema, { name: rootName, rel: '' }, '$', result.errors);
  return result;

  function resolve(s: Schema): { schema: Schema; name?: string } {
    let name: string | undefined;
    let cur = s;
    for (let i = 0; cur.$ref && i < 20; i++) {
      const m = /^#\/components\/schemas\/(.+)$/.exec(cur.$ref);
      if (!m) throw new Error(`unsupported $ref ${cur.$ref}`);
      name = m[1];
      cur = doc.components.schemas[name];
      if (!cur) throw new Error(`dangling $ref ${s.$ref}`);
    }
    return { schema: cur, name };
  }

  function join(rel: string, part: string) {
    return rel ? (part === '[]' ? `${rel}[]` : `${rel}.${part}`) : part;
  }

  function walk(v: unknown, raw: Schema, loc: { name: string; rel: string }, at: string, errors: string[]): void {
    const { schema: s, name } = resolve(raw);
    const here = name ? { name, rel: '' } : loc;
    if (v === null) {
      if (s.nullable || raw.$ref || at === '$') {
        if (at === '$' && !s.nullable) errors.push(`${at}: null response body`);
        return;
      }
      if (s.type === 'object' || s.type === 'array') errors.push(`${at}: null, expected ${s.type}`);
      return;
    }
    if (s.allOf) for (const part of s.allOf) walk(v, part, here, at, errors);
    for (const key of ['oneOf', 'anyOf'] as const) {
      const options = s[key];
      if (!options) continue;
      const attempts = options.map((o) => {
        const e: string[] = [];
        walk(v, o, here, at, e);
        return e;
      });
      if (!attempts.some((e) => e.length === 0)) errors.push(...attempts[0]);
    }
    if (s.type && !typeMatches(v, s.type)) {
      errors.push(`${at}: expected ${s.type}, got ${describe(v)}`);
      return;
    }
    if (s.enum && !s.enum.includes(v)) errors.push(`${at}: ${JSON.stringify(v)} not in enum ${JSON.stringify(s.enum)}`);
    if (s.properties && isObject(v)) {
      for (const [prop, propSchema] of Object.entries(s.properties)) {
        const key = `${here.name}.${join(here.rel, prop)}`;
        const exception = exceptionFor(key);
        if (exception) result.used.add(`${key}${exception.ops ? ` [${exception.ops.join(',')}]` : ''}`);
        const childAt = `${at}.${prop}`;
        if (!(prop in v)) {
          if (!exception) errors.push(`${childAt}: missing (${key})`);
          continue;
        }
        walk(v[prop], exception?.schema ?? propSchema, { name: here.name, rel: join(here.rel, prop) }, childAt, errors);
      }
    }
    if (s.items && Array.isArray(v)) {
      v.slice(0, 20).forEach((item, i) => walk(item, s.items!, { name: here.name, rel: join(here.rel, '[]') }, `${at}[${i}]`, errors));
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeMatches(v: unknown, type: string): boolean {
  switch (type) {
    case 'object':
      return isObject(v);
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    case 'boolean':
      return typeof v === 'boolean';
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'integer':
      return Number.isInteger(v);
    default:
      return true;
  }
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return `${typeof v} ${JSON.stringify(v)?.slice(0, 40)}`;
}
