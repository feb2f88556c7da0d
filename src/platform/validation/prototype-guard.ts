import type { Step } from '../pipeline';
import { ValidationError, type FieldError } from '../errors/app-error';
import type { AppContext } from '../context/state';
import { pointerSegment } from './messages';

/** Keys that reach Object.prototype or a constructor when a body is merged or assigned somewhere. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const FORBIDDEN_MESSAGE = 'is a reserved key and not allowed';
/** Enough to tell a client what is wrong; an attack body may repeat the key thousands of times. */
const MAX_REPORTED = 20;

/**
 * True when a forbidden key occurs anywhere in `value`. The per-request path: no strings or
 * tuples are built, so a clean body costs one Object.keys per object. Uses Object.keys, which sees
 * the own `__proto__` property JSON.parse creates for `{"__proto__": …}`. Iterative, so a deeply
 * nested body cannot overflow the stack; bounded by the body size limit.
 */
export function hasForbiddenKey(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  const stack: object[] = [value];
  while (stack.length > 0) {
    const v = stack.pop()!;
    if (Array.isArray(v)) {
      for (const item of v) if (item !== null && typeof item === 'object') stack.push(item as object);
      continue;
    }
    for (const key of Object.keys(v)) {
      if (FORBIDDEN_KEYS.has(key)) return true;
      const child = (v as Record<string, unknown>)[key];
      if (child !== null && typeof child === 'object') stack.push(child);
    }
  }
  return false;
}

/** Every occurrence of a forbidden key, in document order, as `{ path, message }` (only run once one is known to exist). */
export function findForbiddenKeys(value: unknown, basePath: string): FieldError[] {
  if (!hasForbiddenKey(value)) return [];
  const found: FieldError[] = [];
  const stack: Array<[unknown, string]> = [[value, basePath]];
  while (stack.length > 0 && found.length < MAX_REPORTED) {
    const [v, path] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    const children: Array<[unknown, string]> = [];
    if (Array.isArray(v)) {
      v.forEach((item, i) => children.push([item, `${path}/${i}`]));
    } else {
      for (const key of Object.keys(v)) {
        const child = `${path}/${pointerSegment(key)}`;
        if (FORBIDDEN_KEYS.has(key)) found.push({ path: child, message: FORBIDDEN_MESSAGE });
        else children.push([(v as Record<string, unknown>)[key], child]);
      }
    }
    // reversed so that the stack visits children in document order
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
  return found;
}

/**
 * Refuses any parsed body (JSON or form) holding a forbidden key, on every route, schema or not:
 * 400 VALIDATION_ERROR naming each offending path. Sits right after the body parser.
 */
export function rejectPrototypeKeys(): Step {
  return {
    name: 'prototype keys',
    before(ctx: AppContext): void {
      const body: unknown = ctx.request.body;
      if (hasForbiddenKey(body)) throw new ValidationError('Request validation failed', findForbiddenKeys(body, '/body'));
    },
  };
}
