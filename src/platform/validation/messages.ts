import type { ErrorObject } from 'ajv';
import type { FieldError } from '../errors/app-error';
import { PRODUCT_FORMATS } from './formats';

/** Where a value came from; the first segment of every error path. */
export type InputSource = 'body' | 'query' | 'params';

/** A client gets at most this many field errors; a body of 10 000 bad items must not answer with 10 000. */
export const MAX_FIELD_ERRORS = 50;

/** JSON pointer escaping (RFC 6901) for a property name. */
export function pointerSegment(key: string | number): string {
  return String(key).replace(/~/g, '~0').replace(/\//g, '~1');
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

function typeMessage(type: unknown): string {
  const types = (Array.isArray(type) ? type : String(type).split(',')).map((t) => TYPE_NAMES[String(t)] ?? String(t));
  return `must be ${types.join(' or ')}`;
}

function list(values: readonly unknown[]): string {
  const shown = values.slice(0, 20).map((v) => JSON.stringify(v));
  return values.length > 20 ? `${shown.join(', ')}, …` : shown.join(', ');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** One Ajv error as a readable sentence. Ajv's own wording ("must NOT have fewer than 1 characters") is the fallback. */
function messageOf(err: ErrorObject): string {
  const p = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not an allowed field';
    case 'type':
      return typeMessage(p.type);
    case 'format': {
      const known = PRODUCT_FORMATS[p.format as keyof typeof PRODUCT_FORMATS];
      return known ? known.message : `must be a valid ${String(p.format)}`;
    }
    case 'minLength':
      return `must be at least ${plural(Number(p.limit), 'character')} long`;
    case 'maxLength':
      return Number(p.limit) === 0 ? 'must be empty' : `must be at most ${plural(Number(p.limit), 'character')} long`;
    case 'minimum':
      return `must be greater than or equal to ${String(p.limit)}`;
    case 'maximum':
      return `must be less than or equal to ${String(p.limit)}`;
    case 'exclusiveMinimum':
      return `must be greater than ${String(p.limit)}`;
    case 'exclusiveMaximum':
      return `must be less than ${String(p.limit)}`;
    case 'multipleOf':
      return `must be a multiple of ${String(p.multipleOf)}`;
    case 'enum':
      return `must be one of: ${list(p.allowedValues as unknown[])}`;
    case 'const':
      return `must be ${JSON.stringify(p.allowedValue)}`;
    case 'minItems':
      return `must have at least ${plural(Number(p.limit), 'item')}`;
    case 'maxItems':
      return `must have at most ${plural(Number(p.limit), 'item')}`;
    case 'uniqueItems':
      return 'must not contain duplicate items';
    case 'minProperties':
      return `must have at least ${plural(Number(p.limit), 'field')}`;
    case 'maxProperties':
      return `must have at most ${plural(Number(p.limit), 'field')}`;
    case 'pattern':
      return 'has an invalid format';
    case 'anyOf':
    case 'oneOf':
      return 'must match exactly one of the allowed forms';
    default:
      return err.message ?? 'is invalid';
  }
}

function pathOf(source: InputSource, err: ErrorObject): string {
  const p = err.params as Record<string, unknown>;
  const base = `/${source}${err.instancePath}`;
  if (err.keyword === 'required') return `${base}/${pointerSegment(String(p.missingProperty))}`;
  if (err.keyword === 'additionalProperties') return `${base}/${pointerSegment(String(p.additionalProperty))}`;
  return base;
}

/**
 * Ajv errors → field errors. Errors inside the branches of a failed anyOf/oneOf are folded into
 * the one anyOf/oneOf error (the branches' complaints contradict each other and help nobody), and
 * if/then plumbing errors are dropped in favour of the errors of the branch that applied.
 */
export function toFieldErrors(source: InputSource, errors: readonly ErrorObject[]): FieldError[] {
  const alternatives = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => `${e.schemaPath}/`);
  const out: FieldError[] = [];
  for (const err of errors) {
    if (err.keyword === 'if') continue;
    if (alternatives.some((prefix) => err.schemaPath.startsWith(prefix))) continue;
    out.push({ path: pathOf(source, err), message: messageOf(err) });
  }
  return out;
}
