import { SETTLED } from './index';

/** A Koa-style middleware of any context: it may call `next` once, and return anything. */
export type ChainMiddleware<C> = (ctx: C, next: () => Promise<unknown>) => unknown;

/**
 * koa-compose, except that a middleware which returns `undefined` (it finished synchronously)
 * is answered with SETTLED instead of a new resolved promise. A route whose handler and guards are
 * synchronous (GET /api/ping) then finishes without any promise, and the pipeline's deadline, seeing
 * SETTLED come back from `next()`, needs no race either: two promises fewer per such request, each
 * of which runs Node 20's async-hook init and reaction hooks while the OpenTelemetry context is on
 * (bench/README.md, "Fourteenth round").
 *
 * Why by hand: koa-compose (4.x) always wraps a middleware's result in `Promise.resolve`, and it
 * has no option not to. Everything else is its semantics, pinned against it by
 * test/unit/compose.test.ts: order, values, a synchronous throw turned into a rejection, a second
 * `next()` rejected, the outer `next` called after the last middleware.
 */
export function composeSettling<C>(middleware: readonly ChainMiddleware<C>[]) {
  const n = middleware.length;
  return function composed(ctx: C, next?: () => Promise<unknown>): Promise<unknown> {
    let index = -1;
    function dispatch(i: number): Promise<unknown> {
      if (i <= index) return Promise.reject(new Error('next() called multiple times'));
      index = i;
      const fn = i === n ? next : middleware[i];
      if (fn === undefined) return SETTLED;
      try {
        const result = fn(ctx, dispatch.bind(null, i + 1));
        return result === undefined ? SETTLED : Promise.resolve(result);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return dispatch(0);
  };
}
