import type { Next } from 'koa';
import type { AppContext } from '../context/state';

/** What a step's `before` may say: nothing (go on), or that it wrote the response itself. */
export type BeforeOutcome = void | 'answered';

/** An error on its way out through the steps (wrapped, so that `throw undefined` is still one). */
export interface Failure {
  readonly error: unknown;
}

/**
 * One job on the way in and/or out of a request, as a Koa middleware would do it around
 * `await next()`, but with no promise of its own:
 * - `before` runs in list order. It returns nothing on the common path, a promise only when it
 *   really waits (a body to read, a token to verify), `'answered'` when it wrote the response
 *   itself (a redirect, a preflight: later steps and the route are skipped), or throws to refuse.
 * - `recover` turns an error thrown further in into a response (the error envelope).
 * - `after` runs in reverse list order once the inside has settled, on success and on error, for
 *   every step whose `before` ran. It sees the error still on its way out, if any, and may wait
 *   (the audit journal). Throwing replaces that error.
 * - `around` is for the rare step that must hold the inside as a whole (the request deadline
 *   races it): it gets the rest of the list and the route as one function, like Koa's `next`.
 */
export interface Step {
  readonly name: string;
  before?(ctx: AppContext): BeforeOutcome | Promise<BeforeOutcome>;
  recover?(ctx: AppContext, error: unknown): void;
  after?(ctx: AppContext, failure: Failure | undefined): void | Promise<void>;
  around?(ctx: AppContext, inside: () => Promise<void>): Promise<void>;
}

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * Runs `steps` as one Koa middleware, with koa-compose's onion order and error semantics.
 *
 * Why by hand rather than one koa-compose middleware per step: with AsyncLocalStorage on (the
 * OpenTelemetry context), every promise a request creates runs Node's async-hook init, and a step
 * that wraps `next()` in `.then()` or an async function makes one or more promises per request
 * (bench/README.md: 22 per GET /api/ping before this runner, 7 after). Here the whole list costs
 * one `.then` on the way out when some step has an `after`, none otherwise, plus what `around`
 * steps and waiting `before`s make. Steps stay small objects with one job each, listed in order in
 * app.ts.
 */
export function pipeline(steps: readonly Step[]) {
  const n = steps.length;
  // unwindsFrom[i]: whether any step at i or later has something to do on the way out.
  const unwindsFrom: boolean[] = [];
  for (let i = n - 1, any = false; i >= 0; i--) {
    const s = steps[i]!;
    any ||= s.after !== undefined || s.recover !== undefined;
    unwindsFrom[i] = any;
  }

  // From step `from` down to `base`: recover, then after. Returns a promise only when an `after`
  // waits; throws the error that is left, if any.
  function unwind(ctx: AppContext, from: number, base: number, failure: Failure | undefined): void | Promise<void> {
    for (let i = from; i >= base; i--) {
      const step = steps[i]!;
      if (failure !== undefined && step.recover !== undefined) {
        try {
          step.recover(ctx, failure.error);
          failure = undefined;
        } catch (error) {
          failure = { error };
        }
      }
      if (step.after === undefined) continue;
      let waiting: void | Promise<void>;
      try {
        waiting = step.after(ctx, failure);
      } catch (error) {
        failure = { error };
        continue;
      }
      if (waiting !== undefined) {
        const kept = failure;
        return waiting.then(
          () => unwind(ctx, i - 1, base, kept),
          (error: unknown) => unwind(ctx, i - 1, base, { error }),
        );
      }
    }
    if (failure !== undefined) throw failure.error;
  }

  // `before` of every step from `from` on, then the rest of the app, then back down to `base`.
  function enter(ctx: AppContext, next: Next, from: number, base: number): void | Promise<void> {
    for (let i = from; i < n; i++) {
      const step = steps[i]!;
      if (step.around !== undefined) return surround(ctx, next, i, base);
      if (step.before === undefined) continue;
      let outcome: BeforeOutcome | Promise<BeforeOutcome>;
      try {
        outcome = step.before(ctx);
      } catch (error) {
        return unwind(ctx, i - 1, base, { error });
      }
      if (outcome === undefined) continue;
      if (outcome === 'answered') return unwind(ctx, i, base, undefined);
      const at = i;
      return outcome.then(
        (o) => (o === 'answered' ? unwind(ctx, at, base, undefined) : enter(ctx, next, at + 1, base)),
        (error: unknown) => unwind(ctx, at - 1, base, { error }),
      );
    }
    if (base >= n || !unwindsFrom[base]) return next();
    return next().then(
      () => unwind(ctx, n - 1, base, undefined),
      (error: unknown) => unwind(ctx, n - 1, base, { error }),
    );
  }

  function surround(ctx: AppContext, next: Next, at: number, base: number): Promise<void> {
    const inside = (): Promise<void> => {
      try {
        return enter(ctx, next, at + 1, at + 1) ?? RESOLVED;
      } catch (error) {
        return Promise.reject(error);
      }
    };
    let held: Promise<void>;
    try {
      held = steps[at]!.around!(ctx, inside);
    } catch (error) {
      return Promise.resolve(unwind(ctx, at - 1, base, { error }));
    }
    if (!unwindsFrom[base]) return held;
    return held.then(
      () => unwind(ctx, at, base, undefined),
      (error: unknown) => unwind(ctx, at, base, { error }),
    );
  }

  return function pipelineMiddleware(ctx: AppContext, next: Next): void | Promise<void> {
    return enter(ctx, next, 0, 0);
  };
}

/**
 * A Koa middleware that does nothing after `next()` (a guard: it refuses, answers, or sets
 * something and goes on), run as a step's `before`. For libraries written as middleware
 * (@koa/cors, @koa/bodyparser) and the rate limiters; never for one that acts after `next()`,
 * whose "after" part would run before the route.
 */
export function guardStep(name: string, middleware: (ctx: AppContext, next: Next) => unknown): Step {
  return {
    name,
    before(ctx) {
      let passed = false;
      const result = middleware(ctx, () => {
        passed = true;
        return RESOLVED;
      });
      if (passed && (result === RESOLVED || result === undefined)) return undefined;
      return Promise.resolve(result).then(() => (passed ? undefined : 'answered'));
    },
  };
}
