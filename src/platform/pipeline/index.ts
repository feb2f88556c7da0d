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
 * - `within` runs the rest (later steps, the route and the way back out to this step) inside a
 *   synchronous scope, the request span's OpenTelemetry context: it must call `rest` once and
 *   return what it returns.
 * - `deadline` arms something that may stop the wait for the inside early (the request
 *   timeout): calling `expire(error)` unwinds this step and those before it with that error while
 *   the inside keeps running (its own steps unwind when it settles). It returns the disarm
 *   function, called once the inside settled in time. `expire` must not be called synchronously.
 */
export type Step = {
  readonly name: string;
  before?(ctx: AppContext): BeforeOutcome | Promise<BeforeOutcome>;
  recover?(ctx: AppContext, error: unknown): void;
  after?(ctx: AppContext, failure: Failure | undefined): void | Promise<void>;
} & (
  | { within?: undefined; deadline?: undefined }
  | { within(ctx: AppContext, rest: () => Inside): Inside; deadline?: undefined }
  | { deadline(ctx: AppContext, expire: (error: unknown) => void): () => void; within?: undefined }
);

/** What the rest of the pipeline returns: nothing when it settled synchronously, else a promise. */
export type Inside = void | Promise<void>;

/**
 * The one promise that stands for "already done": what a `next()` hands back when everything
 * after it finished synchronously (guardStep, compose.ts), so that the code that called it can
 * tell by identity that there is nothing to wait for, and no promise is made to say so.
 */
export const SETTLED: Promise<void> = Promise.resolve();

/** Whether the inside finished synchronously (nothing to wait for). */
const settledNow = (inside: Inside): inside is void => inside === undefined || inside === SETTLED;

/**
 * Runs `steps` as one Koa middleware, with koa-compose's onion order and error semantics.
 *
 * Why by hand rather than one koa-compose middleware per step: with AsyncLocalStorage on (the
 * OpenTelemetry context), every promise a request creates runs Node's async-hook init, and every
 * reaction its before and after hooks; a step that wraps `next()` in `.then()` or an async
 * function makes one or more promises per request (bench/README.md: 22 per GET /api/ping before
 * this runner). Here the whole list costs one `.then` on the way out when some step has an
 * `after` and the inside waits, none otherwise; a `deadline` step makes that two (the promise it
 * may settle early and the `.then` on the inside) when the inside waits, none when it finished
 * synchronously (`next()` came back undefined or SETTLED), and `within` none. Steps stay small
 * objects with one job each, listed in order in app.ts.
 */
export function pipeline(steps: readonly Step[]) {
  const n = steps.length;
  // Each hook in an array of its own, read by index and called with its step as `this`. The steps
  // are object literals of as many shapes as there are steps, so reading `step.before` at one site
  // went megamorphic: a stub-cache lookup on every read, ~5 k instructions per request
  // (bench/README.md, twelfth round). An array of functions is one shape.
  const befores = steps.map((s) => s.before);
  const recovers = steps.map((s) => s.recover);
  const afters = steps.map((s) => s.after);
  const withins = steps.map((s) => s.within);
  const deadlines = steps.map((s) => s.deadline);
  const holds = steps.map((s) => s.within !== undefined || s.deadline !== undefined);
  // unwindsFrom[i]: whether any step at i or later has something to do on the way out.
  const unwindsFrom: boolean[] = [];
  for (let i = n - 1, any = false; i >= 0; i--) {
    any ||= afters[i] !== undefined || recovers[i] !== undefined;
    unwindsFrom[i] = any;
  }

  // From step `from` down to `base`: recover, then after. Returns a promise only when an `after`
  // waits; throws the error that is left, if any.
  function unwind(ctx: AppContext, from: number, base: number, failure: Failure | undefined): Inside {
    for (let i = from; i >= base; i--) {
      const recover = recovers[i];
      if (failure !== undefined && recover !== undefined) {
        try {
          recover.call(steps[i], ctx, failure.error);
          failure = undefined;
        } catch (error) {
          failure = { error };
        }
      }
      const after = afters[i];
      if (after === undefined) continue;
      let waiting: void | Promise<void>;
      try {
        waiting = after.call(steps[i], ctx, failure);
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
  function enter(ctx: AppContext, next: Next, from: number, base: number): Inside {
    for (let i = from; i < n; i++) {
      const before = befores[i];
      if (before !== undefined) {
        let outcome: BeforeOutcome | Promise<BeforeOutcome>;
        try {
          outcome = before.call(steps[i], ctx);
        } catch (error) {
          return unwind(ctx, i - 1, base, { error });
        }
        if (outcome === 'answered') return unwind(ctx, i, base, undefined);
        if (outcome !== undefined) {
          const at = i;
          return outcome.then(
            (o) => (o === 'answered' ? unwind(ctx, at, base, undefined) : holdOrEnter(ctx, next, at, base)),
            (error: unknown) => unwind(ctx, at - 1, base, { error }),
          );
        }
      }
      if (holds[i]) return hold(ctx, next, i, base);
    }
    if (base >= n || !unwindsFrom[base]) return next();
    let inside: Inside;
    try {
      inside = next();
    } catch (error) {
      return unwind(ctx, n - 1, base, { error }); // koa-compose's next never throws; a bare function might
    }
    if (settledNow(inside)) return unwind(ctx, n - 1, base, undefined);
    return inside.then(
      () => unwind(ctx, n - 1, base, undefined),
      (error: unknown) => unwind(ctx, n - 1, base, { error }),
    );
  }

  // After step `at`'s before has passed: its scope or deadline, if it has one, around the rest.
  function holdOrEnter(ctx: AppContext, next: Next, at: number, base: number): Inside {
    return holds[at] ? hold(ctx, next, at, base) : enter(ctx, next, at + 1, base);
  }

  function hold(ctx: AppContext, next: Next, at: number, base: number): Inside {
    const within = withins[at];
    if (within !== undefined) {
      // Synchronous: the scope holds the rest while it runs, and the promises the rest makes carry
      // it into their reactions, the way back out included.
      let entered = false;
      try {
        return within.call(steps[at], ctx, () => {
          entered = true;
          return enter(ctx, next, at + 1, base);
        });
      } catch (error) {
        // Thrown by the rest: it has unwound every step entered, this one included, and this is
        // what was left. Thrown by the scope before the rest ran: as from a before.
        if (entered) throw error;
        return unwind(ctx, at - 1, base, { error });
      }
    }
    return race(ctx, next, at, base);
  }

  // The inside (its own steps unwinding inside it, when it settles), or the deadline, whichever
  // comes first; then this step and those before it. An inside that finished synchronously (a
  // synchronous route: GET /api/ping) cannot have been overtaken, since `expire` is never called
  // synchronously: it is disarmed and unwound at once, with no promise for a race that did not run.
  function race(ctx: AppContext, next: Next, at: number, base: number): Inside {
    let open = true;
    let disarm: () => void;
    // Ends the race once it waits (set before any expiry can come: see above).
    let end!: (from: number, failure: Failure | undefined) => void;
    const settle = (failure: Failure | undefined): void => {
      if (!open) return;
      open = false;
      disarm();
      end(at, failure);
    };
    try {
      disarm = deadlines[at]!.call(steps[at], ctx, (error) => settle({ error }));
    } catch (error) {
      return unwind(ctx, at - 1, base, { error }); // as from a before: this step did not arm
    }
    let inside: Inside = undefined;
    let thrown: Failure | undefined;
    try {
      inside = enter(ctx, next, at + 1, at + 1);
    } catch (error) {
      thrown = { error };
    }
    // Finished, or failed, synchronously: closed and unwound now, with or without the error.
    if (thrown !== undefined || settledNow(inside)) {
      open = false;
      disarm();
      return unwind(ctx, at, base, thrown);
    }
    return new Promise<void>((resolve, reject) => {
      end = (from, failure) => {
        try {
          resolve(unwind(ctx, from, base, failure));
        } catch (error) {
          reject(error);
        }
      };
      inside.then(
        () => settle(undefined),
        (error: unknown) => settle({ error }),
      );
    });
  }

  return function pipelineMiddleware(ctx: AppContext, next: Next): Inside {
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
        return SETTLED;
      });
      if (passed && (result === SETTLED || result === undefined)) return undefined;
      return Promise.resolve(result).then(() => (passed ? undefined : 'answered'));
    },
  };
}
