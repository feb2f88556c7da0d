import type { SchemaObject } from 'ajv';

/**
 * Unknown-property policy: request objects are closed. Every object schema in a body or query
 * schema that lists `properties` and says nothing about extra ones gets `additionalProperties:
 * false`, so a misspelt or unexpected field is a 400 naming the field, never silently ignored
 * (rejecting tells the client; stripping would hide their typo). A schema that wants extras says
 * so with `additionalProperties: true` or a schema for them.
 *
 * Composition cannot be closed mechanically: an object schema combined with allOf or if/then/else
 * must state additionalProperties itself, and we refuse to compile it otherwise (closing each part
 * would reject the other parts' fields; leaving it open would break the policy silently).
 */
export function closeObjects(schema: SchemaObject, at = '#'): SchemaObject {
  const out: SchemaObject = { ...schema };
  const isObject = out.type === 'object' || (Array.isArray(out.type) && out.type.includes('object')) || out.properties !== undefined;
  const decided = 'additionalProperties' in out || 'unevaluatedProperties' in out;
  if (isObject && !decided) {
    if (out.allOf !== undefined || out.if !== undefined) {
      throw new Error(`schema at ${at} combines an object with allOf or if/then/else: state additionalProperties explicitly`);
    }
    out.additionalProperties = false;
  }
  if (out.properties) out.properties = mapValues(out.properties as Record<string, SchemaObject>, (s, k) => closeObjects(s, `${at}/properties/${k}`));
  if (out.patternProperties)
    out.patternProperties = mapValues(out.patternProperties as Record<string, SchemaObject>, (s, k) => closeObjects(s, `${at}/patternProperties/${k}`));
  if (isSchema(out.additionalProperties)) out.additionalProperties = closeObjects(out.additionalProperties, `${at}/additionalProperties`);
  if (isSchema(out.items)) out.items = closeObjects(out.items, `${at}/items`);
  else if (Array.isArray(out.items)) out.items = (out.items as unknown[]).map((s, i) => (isSchema(s) ? closeObjects(s, `${at}/items/${i}`) : s));
  for (const key of ['anyOf', 'oneOf'] as const) {
    if (Array.isArray(out[key])) out[key] = (out[key] as unknown[]).map((s, i) => (isSchema(s) ? closeObjects(s, `${at}/${key}/${i}`) : s));
  }
  return out;
}

function isSchema(v: unknown): v is SchemaObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function mapValues(obj: Record<string, SchemaObject>, fn: (s: SchemaObject, key: string) => SchemaObject): Record<string, SchemaObject> {
  const out: Record<string, SchemaObject> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = isSchema(v) ? fn(v, k) : v;
  return out;
}
