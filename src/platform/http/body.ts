import { bodyParser } from '@koa/bodyparser';
import { guardStep, type Step } from '../pipeline';
import { ValidationError } from '../errors/app-error';
import type { AppContext } from '../context/state';

/**
 * JSON and urlencoded bodies up to BODY_LIMIT_BYTES. Parse failures and oversize bodies are thrown
 * as they are and mapped to 400 / 413 by errors/to-app-error.ts. Multipart (uploads) is parsed
 * by the routes that accept it, with their own streaming limits.
 */
export function parseBody(limitBytes: number): Step {
  const parser = guardStep(
    'body parser',
    bodyParser({
      parsedMethods: [...PARSED_METHODS],
      enableTypes: ['json', 'form'],
      jsonLimit: limitBytes,
      formLimit: limitBytes,
      jsonStrict: true,
      encoding: 'utf-8',
    }),
  );
  // The parser itself passes every other method straight on, but from inside an async function
  // (a promise per request): the same test, made before entering it.
  return {
    name: 'body parser',
    before: (ctx) => (PARSED_METHODS.has(ctx.method) ? parser.before!(ctx) : undefined),
  };
}

/** Methods whose body is parsed (@koa/bodyparser's default list, stated here because we test it first). */
const PARSED_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH']);

export interface ShapeLimits {
  /** Deepest nesting of objects and arrays (the body itself is depth 1). */
  maxDepth: number;
  /** Object keys plus array elements, summed over the whole body. */
  maxNodes: number;
}

/** No real request of this API nests deeper than a handful of levels or holds thousands of fields. */
export const BODY_SHAPE: ShapeLimits = { maxDepth: 32, maxNodes: 10_000 };

/**
 * Where a parsed value breaks the limits, or undefined. Walks with an explicit stack: the point is
 * to refuse a 6 KB body of 3,000 nested arrays before any recursive code (validation, redaction,
 * canonical JSON, the anomaly scan) meets it and overflows the call stack.
 */
export function shapeViolation(value: unknown, limits: ShapeLimits = BODY_SHAPE): 'depth' | 'size' | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const stack: Array<[unknown, number]> = [[value, 1]];
  let nodes = 0;
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (depth > limits.maxDepth) return 'depth';
    const children = Array.isArray(v) ? v : Object.values(v as object);
    nodes += children.length;
    if (nodes > limits.maxNodes) return 'size';
    for (const c of children) if (c !== null && typeof c === 'object') stack.push([c, depth + 1]);
  }
  return undefined;
}

/** 400 for a parsed JSON or form body deeper or larger than BODY_SHAPE; every route, webhooks included. */
export function boundBodyShape(limits: ShapeLimits = BODY_SHAPE): Step {
  return {
    name: 'body shape',
    before(ctx: AppContext): void {
      const why = shapeViolation(ctx.request.body, limits);
      if (why === 'depth')
        throw new ValidationError('Request validation failed', [{ path: '/body', message: `must not nest deeper than ${limits.maxDepth} levels` }]);
      if (why === 'size')
        throw new ValidationError('Request validation failed', [{ path: '/body', message: `must not hold more than ${limits.maxNodes} fields and items` }]);
    },
  };
}
