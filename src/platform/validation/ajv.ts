import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { PRODUCT_FORMATS } from './formats';
import { SANITISING_KEYWORDS } from './keywords';

/**
 * The one Ajv instance every route schema is compiled with (at registration, never per request).
 *
 * - allErrors: a client learns every problem in one round trip.
 * - coerceTypes off: JSON bodies are typed, so `"5"`, `true`, `[]` and `""` are not numbers.
 *   Query strings, route params and form bodies are converted beforehand, strictly and only where
 *   the schema asks for a number, integer or boolean (see coerce.ts); Ajv's own coercion would turn
 *   `'0x10'`, `' 1'`, `'Infinity'` and `''` into numbers.
 * - strict: an unknown keyword or a misplaced one (format without type: 'string') is a startup
 *   error, not a check that silently never runs. Union types stay allowed for nullable fields.
 * - ownProperties: inherited properties are never validated or read.
 * - useDefaults: defaults in the schema land in the validated input (pagination limit …).
 */
export const ajv = new Ajv({
  allErrors: true,
  coerceTypes: false,
  useDefaults: true,
  removeAdditional: false,
  strict: true,
  allowUnionTypes: true,
  ownProperties: true,
});

// ajv-formats is CommonJS with `exports.default`; under node16 module resolution its default import
// is the module object itself, hence `.default`.
addFormats.default(ajv, { mode: 'full' });
// The product's formats replace ajv-formats' looser ones of the same name (url, uuid, date …).
for (const [name, { validate }] of Object.entries(PRODUCT_FORMATS)) ajv.addFormat(name, { type: 'string', validate });
for (const keyword of SANITISING_KEYWORDS) ajv.addKeyword(keyword);
