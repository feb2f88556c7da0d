import type { SchemaObject } from 'ajv';

/**
 * Query strings, route params and urlencoded form bodies carry only text. Where the schema of a
 * top-level property says number, integer or boolean (and does not also allow string), its text is
 * converted here, before Ajv runs; JSON bodies are never converted.
 *
 * The conversions are deliberately narrower than Ajv's `coerceTypes` (which accepts `''`, `' 1'`,
 * `'0x10'`, `'1e999'` and `'Infinity'` as numbers):
 *   integer  /^-?(0|[1-9]\d*)$/ and a safe integer
 *   number   JSON number grammar, finite
 *   boolean  exactly 'true' or 'false'
 * Text that does not convert is left as it is, so Ajv reports "must be a number" on it.
 * An array property converts each item, and a single value becomes a one-item array
 * (`?tag=a` and `?tag=a&tag=b` both give an array). Nested objects are not converted.
 */

type Scalar = 'number' | 'integer' | 'boolean' | 'text';
interface PropertyPlan {
  scalar: Scalar;
  array: boolean;
}
/** Built once per schema at route registration. */
export type CoercionPlan = ReadonlyMap<string, PropertyPlan>;

const INTEGER = /^-?(?:0|[1-9]\d*)$/;
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

function typesOf(schema: unknown): string[] {
  if (schema === null || typeof schema !== 'object') return [];
  const t = (schema as SchemaObject).type;
  return typeof t === 'string' ? [t] : Array.isArray(t) ? t.map(String) : [];
}

function scalarOf(types: readonly string[]): Scalar {
  if (types.includes('string')) return 'text';
  if (types.includes('integer')) return 'integer';
  if (types.includes('number')) return 'number';
  if (types.includes('boolean')) return 'boolean';
  return 'text';
}

export function coercionPlan(schema: SchemaObject): CoercionPlan {
  const plan = new Map<string, PropertyPlan>();
  const properties = (schema.properties ?? {}) as Record<string, unknown>;
  for (const [name, sub] of Object.entries(properties)) {
    const types = typesOf(sub);
    if (types.includes('array')) {
      const items = (sub as SchemaObject).items;
      plan.set(name, { array: true, scalar: scalarOf(typesOf(items)) });
    } else {
      const scalar = scalarOf(types);
      if (scalar !== 'text') plan.set(name, { array: false, scalar });
    }
  }
  return plan;
}

function convert(value: unknown, scalar: Scalar): unknown {
  if (typeof value !== 'string') return value;
  switch (scalar) {
    case 'integer': {
      if (!INTEGER.test(value)) return value;
      const n = Number(value);
      return Number.isSafeInteger(n) ? n : value;
    }
    case 'number': {
      if (!NUMBER.test(value)) return value;
      const n = Number(value);
      return Number.isFinite(n) ? n : value;
    }
    case 'boolean':
      return value === 'true' ? true : value === 'false' ? false : value;
    case 'text':
      return value;
  }
}

/**
 * A fresh object with the planned properties converted; `source` (Koa's cached query, the router's
 * params) is never modified. Keys named __proto__, constructor or prototype must have been refused
 * before this runs: assigning `out['__proto__']` would set a prototype, not a property.
 */
export function coerce(source: Readonly<Record<string, unknown>>, plan: CoercionPlan): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(source)) {
    const value = source[key];
    const p = plan.get(key);
    if (p === undefined) out[key] = value;
    else if (p.array) out[key] = (Array.isArray(value) ? value : [value]).map((v) => convert(v, p.scalar));
    else out[key] = convert(value, p.scalar);
  }
  return out;
}
