import type { FuncKeywordDefinition, SchemaValidateFunction } from 'ajv';
import { normalizePhone } from './phone';

/**
 * Sanitising keywords: `trim`, `lowercase` and `normalizePhone` (each `true`) rewrite a string in
 * place, so the handler receives the normalised value and every other keyword of the same schema
 * (format, minLength, enum, const) judges the normalised value, not the raw one. They run in the
 * order listed here, whatever the order in the schema.
 *
 * They are Ajv `modifying` keywords, untyped and inserted before `const`, so that Ajv runs them
 * ahead of const/enum (its first rule group) and of the string rules (format, lengths, pattern).
 * A value can only be replaced through its parent, so a schema whose root is a bare string is
 * checked but not rewritten. normalizePhone leaves a value it cannot place untouched, for
 * `format: 'phone'` to reject with a clear message.
 */
function sanitiser(keyword: string, fn: (value: string) => string): FuncKeywordDefinition {
  const validate: SchemaValidateFunction = (schema, data, _parentSchema, cxt) => {
    if (schema === true && typeof data === 'string' && cxt !== undefined) {
      const next = fn(data);
      if (next !== data) cxt.parentData[cxt.parentDataProperty] = next;
    }
    return true;
  };
  return { keyword, schemaType: 'boolean', modifying: true, errors: false, before: 'const', validate };
}

export const SANITISING_KEYWORDS: readonly FuncKeywordDefinition[] = [
  sanitiser('trim', (v) => v.trim()),
  sanitiser('lowercase', (v) => v.toLowerCase()),
  sanitiser('normalizePhone', (v) => normalizePhone(v) ?? v),
];
