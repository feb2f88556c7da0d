/**
 * pg's Query for a prepared statement, reusing what pg builds from the statement's row description
 * instead of building it again on every execution.
 *
 * Why: pg asks for the row description on every execution, prepared or not, and from it builds
 * each result's type parsers and an empty row to copy rows from: an `Object.create(null)` grown key
 * by key, then spread into a plain object. Both are V8's slow paths (dictionary-mode objects, a
 * property copy through the runtime, inline caches reconfigured on every call): under perf, pg's
 * `_handleRowDescription` was 4 % of the service's CPU on GET /api/info (bench/README.md, "Ninth
 * round"). A prepared statement's result columns cannot change under its name (PostgreSQL answers
 * 0A000 instead, prepared.ts), so what pg built the first time serves every later execution whose
 * description has the same columns, names, types and formats; anything else is built afresh.
 *
 * This uses fields pg does not document (the Query's `_result` with its `_parsers` and
 * `_prebuiltEmptyResultObject`, and `_accumulateRows`). pg is pinned (package.json), and they are
 * checked before anything is kept: if a pg release renames them, nothing is kept and pg does its own
 * work, as before. test/integration/db.test.ts pins both the reuse and the rows it yields. A type
 * parser registered later with pg.types.setTypeParser would not reach a statement already run; the
 * service registers none.
 */
import pg from 'pg';

/** A column as pg's RowDescription message lists it. */
interface Field {
  name: string;
  dataTypeID: number;
  format: string;
}

/** What pg built from a row description, kept per statement name. */
export interface RowShape {
  readonly fields: readonly Field[];
  readonly parsers: readonly unknown[];
  readonly emptyRow: object;
}

/** pg's Query and Result fields this file reads (pg/lib/query.js, pg/lib/result.js). */
interface QueryInternals {
  name: string;
  _result: { command: unknown; fields: unknown; _parsers: unknown; _prebuiltEmptyResultObject: unknown };
  _accumulateRows: boolean;
  handleRowDescription(msg: { fields: Field[] }): void;
}

const pgHandleRowDescription = (pg.Query.prototype as unknown as QueryInternals).handleRowDescription;

function sameColumns(a: readonly Field[], b: readonly Field[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.name !== b[i]!.name || a[i]!.dataTypeID !== b[i]!.dataTypeID || a[i]!.format !== b[i]!.format) return false;
  }
  return true;
}

type Callback = (err: Error | null, res: pg.QueryResult) => void;

/**
 * A named statement as pg's own Query, built from the text with the name set on it rather than from
 * a `{ name, text, values }` config: pg 8.23 copies a config object through
 * Object.getOwnPropertyDescriptors and Object.defineProperties before reading it, V8's slow path,
 * ~2 µs a query (bench/README.md, "Eighth round"). The Query reads its `name` only when it is
 * submitted, so setting it here is the same as passing it in a config.
 */
export class NamedQuery extends pg.Query {
  constructor(
    name: string,
    text: string,
    values: readonly unknown[],
    callback: Callback,
    private readonly shapes: Map<string, RowShape>,
  ) {
    super(text, values as unknown[], callback as never);
    (this as unknown as QueryInternals).name = name;
  }

  /** Called by pg's client with the statement's RowDescription (not declared in @types/pg). */
  handleRowDescription(msg: { fields: Field[] }): void {
    const self = this as unknown as QueryInternals;
    const result = self._result;
    const known = this.shapes.get(self.name);
    // a second description in one query would be a second result set: pg's own path handles that
    if (known !== undefined && !result.command && sameColumns(known.fields, msg.fields)) {
      result.fields = msg.fields;
      result._parsers = known.parsers;
      result._prebuiltEmptyResultObject = known.emptyRow;
      self._accumulateRows = true; // pg's own answer when the query has a callback, as this one has
      return;
    }
    pgHandleRowDescription.call(this, msg);
    const { _parsers: parsers, _prebuiltEmptyResultObject: emptyRow } = self._result;
    if (Array.isArray(parsers) && typeof emptyRow === 'object' && emptyRow !== null && self._result.fields === msg.fields) {
      this.shapes.set(self.name, { fields: msg.fields, parsers, emptyRow });
    }
  }
}
