import type { RouterMiddleware } from '@koa/router';
import type { JSONSchemaType, SchemaObject, ValidateFunction } from 'ajv';
import { ValidationError, type FieldError } from '../errors/app-error';
import type { AppState } from '../context/state';
import { ajv } from './ajv';
import { closeObjects } from './close-objects';
import { coerce, coercionPlan, type CoercionPlan } from './coerce';
import { MAX_FIELD_ERRORS, toFieldErrors, type InputSource } from './messages';
import { findForbiddenKeys } from './prototype-guard';

/** The validated parts of a request a route declares, e.g. `{ body: Login; query: Pagination }`. */
export type InputShape = { body?: unknown; query?: unknown; params?: unknown };
/** One schema per declared part, checked by the compiler against the part's type. */
export type SchemasFor<I extends InputShape> = { [K in keyof I & InputSource]-?: JSONSchemaType<I[K]> };
/** What a handler receives: exactly the declared parts, validated and sanitised. */
export type ValidatedInput<I extends InputShape> = { [K in keyof I & InputSource]-?: I[K] };
/** ctx.state after validate(): `ctx.state.input.body` is typed and sanitised. */
export type ValidatedState<I extends InputShape> = AppState & { input: ValidatedInput<I> };

/** A request's parts as Koa and the router hold them. Nothing here is modified by the check. */
export interface RawInput {
  body?: unknown;
  query?: Readonly<Record<string, unknown>>;
  params?: Readonly<Record<string, unknown>>;
  /** An urlencoded form body carries only text and is converted like a query string; JSON never is. */
  bodyIsForm?: boolean;
}

export type CheckResult<I extends InputShape> = { ok: true; input: ValidatedInput<I> } | { ok: false; errors: FieldError[] };

interface SourceCheck {
  source: InputSource;
  check: ValidateFunction;
  plan: CoercionPlan;
}

/** Bodies and query strings are closed (unknown fields are errors); params are what the route path defines. */
function compileSource(source: InputSource, schema: SchemaObject): SourceCheck {
  const effective = source === 'params' ? schema : closeObjects(schema, `${source} schema`);
  return { source, check: ajv.compile(effective), plan: coercionPlan(effective) };
}

/**
 * The value Ajv will see (and sanitise): a fresh object for query and params, the parsed body
 * otherwise; null when the part holds a forbidden key (reported, and never copied: assigning
 * `copy['__proto__']` would set a prototype).
 */
function prepare(c: SourceCheck, raw: RawInput, errors: FieldError[]): { value: unknown } | null {
  const value = raw[c.source];
  const forbidden = findForbiddenKeys(value, `/${c.source}`);
  if (forbidden.length > 0) {
    errors.push(...forbidden);
    return null;
  }
  const isObject = value !== null && typeof value === 'object' && !Array.isArray(value);
  if (c.source === 'body') return { value: isObject && raw.bodyIsForm ? coerce(value as Record<string, unknown>, c.plan) : value };
  return { value: coerce(isObject ? (value as Record<string, unknown>) : {}, c.plan) };
}

function capped(errors: FieldError[]): FieldError[] {
  if (errors.length <= MAX_FIELD_ERRORS) return errors;
  const shown = errors.slice(0, MAX_FIELD_ERRORS - 1);
  shown.push({ path: '', message: `and ${errors.length - shown.length} more errors` });
  return shown;
}

/**
 * Compiles the schemas once and returns the checker: every problem of every part at once, or the
 * validated, sanitised input. Throws at once (route registration, i.e. startup) on a schema Ajv's
 * strict mode refuses, such as a misspelt keyword.
 */
export function compileInput<I extends InputShape>(schemas: SchemasFor<I>): (raw: RawInput) => CheckResult<I> {
  const given = schemas as Partial<Record<InputSource, SchemaObject>>;
  const checks = (['params', 'query', 'body'] as const).flatMap((s) => (given[s] === undefined ? [] : [compileSource(s, given[s])]));

  return function checkInput(raw) {
    const errors: FieldError[] = [];
    const input: Partial<Record<InputSource, unknown>> = {};
    for (const c of checks) {
      const prepared = prepare(c, raw, errors);
      if (prepared === null) continue;
      if (c.check(prepared.value)) input[c.source] = prepared.value;
      else errors.push(...toFieldErrors(c.source, c.check.errors ?? []));
    }
    return errors.length > 0 ? { ok: false, errors: capped(errors) } : { ok: true, input: input as ValidatedInput<I> };
  };
}

/**
 * Route-level validation of body, query and params. Failure is a 400 VALIDATION_ERROR whose
 * details list every problem as `{ path: '/body/email', message: 'must be a valid email address' }`.
 * On success the values are on `ctx.state.input` (typed), and `ctx.request.body` is the sanitised
 * body. Koa's cached `ctx.query` and the router's `ctx.params` are left as they were.
 *
 *   router.post('/things', validate<{ body: NewThing }>({ body: newThingSchema }), async (ctx) => {
 *     const { name } = ctx.state.input.body; // string, trimmed
 *   });
 */
export function validate<I extends InputShape>(schemas: SchemasFor<I>): RouterMiddleware<ValidatedState<I>> {
  const checkInput = compileInput<I>(schemas);
  const hasBody = (schemas as InputShape).body !== undefined;

  return async function validateInput(ctx, next) {
    const result = checkInput({
      body: ctx.request.body,
      query: ctx.query,
      params: ctx.params,
      bodyIsForm: hasBody && Boolean(ctx.request.is('application/x-www-form-urlencoded')),
    });
    if (!result.ok) throw new ValidationError('Request validation failed', result.errors);
    ctx.state.input = result.input;
    if (hasBody) ctx.request.body = (result.input as { body?: unknown }).body;
    await next();
  };
}
