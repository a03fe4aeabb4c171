import type pg from 'pg';
import { loadPg } from './engine-modules.js';

/**
 * A named prepared statement's query for node-postgres, which reuses the statement's row shape.
 *
 * node-postgres describes the result of every execution anew: from each RowDescription it builds
 * the field parsers and an empty row object (a dictionary-mode object spread into a new one),
 * which was a tenth of Parley's CPU on PostgreSQL (a 29-column `returning *` per reply). A named
 * statement's rows keep their shape, so the shape built on its first execution is kept for the
 * connection and reused while the description matches it field for field (name, type, format); a
 * statement whose shape changed (another process altered the table) is described afresh.
 */
export interface RowShape {
  fields: pg.FieldDef[];
  parsers: unknown[];
  prebuilt: Record<string, null>;
}
interface ResultInternals {
  fields: pg.FieldDef[];
  _parsers: unknown[];
  _prebuiltEmptyResultObject: Record<string, null>;
}
interface QueryInternals {
  name?: string;
  _result: ResultInternals;
  _accumulateRows: boolean;
  _checkForMultirow(): void;
}
type Callback = (error: Error | null, result: pg.QueryResult) => void;
export type NamedQueryClass = new (name: string, text: string, values: unknown[], shapes: Map<string, RowShape>, callback: Callback) => pg.Submittable;

let namedQuery: NamedQueryClass | undefined;

export function NamedQuery(): NamedQueryClass {
  if (namedQuery) return namedQuery;
  const Base = loadPg().Query as unknown as new (text: string, values: unknown[], callback: Callback) => object;
  class Named extends Base {
    constructor(
      name: string,
      text: string,
      values: unknown[],
      private readonly shapes: Map<string, RowShape>,
      callback: Callback,
    ) {
      // Text, values and callback as arguments: pg copies a config object property by property.
      super(text, values, callback);
      (this as unknown as QueryInternals).name = name;
    }

    handleRowDescription(message: { fields: pg.FieldDef[] }): void {
      const self = this as unknown as QueryInternals;
      const name = self.name!;
      const shape = this.shapes.get(name);
      if (shape && sameFields(shape.fields, message.fields)) {
        self._checkForMultirow();
        const result = self._result;
        result.fields = shape.fields;
        result._parsers = shape.parsers;
        result._prebuiltEmptyResultObject = shape.prebuilt;
        self._accumulateRows = true;
        return;
      }
      (Base.prototype as unknown as { handleRowDescription(m: unknown): void }).handleRowDescription.call(this, message);
      const result = self._result;
      this.shapes.set(name, { fields: result.fields, parsers: result._parsers, prebuilt: result._prebuiltEmptyResultObject });
    }
  }
  namedQuery = Named as unknown as NamedQueryClass;
  return namedQuery;
}

function sameFields(a: pg.FieldDef[], b: pg.FieldDef[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i].name !== b[i].name || a[i].dataTypeID !== b[i].dataTypeID || a[i].format !== b[i].format) return false;
  }
  return true;
}
