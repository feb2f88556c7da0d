import { expect } from 'chai';
import { createHook } from 'node:async_hooks';
import compose from 'koa-compose';
import { composeSettling } from '../../src/platform/pipeline/compose';
import { SETTLED } from '../../src/platform/pipeline';

type Ctx = { log: string[] };
type Mw = (ctx: Ctx, next: () => Promise<unknown>) => unknown;

/** What a chain did: its log, and how its promise ended (value or error message). */
async function outcome(composed: (ctx: Ctx, next?: () => Promise<unknown>) => Promise<unknown>, last?: () => Promise<unknown>) {
  const ctx: Ctx = { log: [] };
  let result: string;
  try {
    result = `value ${String(await composed(ctx, last))}`;
  } catch (error) {
    result = `error ${(error as Error).message}`;
  }
  return { log: ctx.log, result };
}

/** Chains of every shape a route takes, each run through koa-compose and ours. */
const CHAINS: Record<string, Mw[]> = {
  'synchronous, each calling next': [
    (ctx, next) => (ctx.log.push('a'), next()),
    (ctx, next) => (ctx.log.push('b'), next()),
    (ctx) => void ctx.log.push('handler'),
  ],
  'async around next': [
    async (ctx, next) => {
      ctx.log.push('>a');
      await next();
      ctx.log.push('<a');
    },
    async (ctx) => {
      await new Promise((r) => setImmediate(r));
      ctx.log.push('handler');
    },
  ],
  'a handler that returns a value': [(ctx, next) => next(), () => 42],
  'a synchronous throw, caught by an async middleware': [
    async (ctx, next) => {
      try {
        await next();
      } catch (error) {
        ctx.log.push(`caught ${(error as Error).message}`);
      }
    },
    () => {
      throw new Error('sync');
    },
  ],
  'a synchronous throw, seen through next().catch': [
    (ctx, next) => next().catch((error: Error) => void ctx.log.push(`caught ${error.message}`)),
    () => {
      throw new Error('sync');
    },
  ],
  'a synchronous throw, uncaught': [
    (ctx, next) => next(),
    () => {
      throw new Error('sync');
    },
  ],
  'an async rejection': [
    (ctx, next) => next(),
    async () => {
      throw new Error('async');
    },
  ],
  'next() called twice': [
    async (ctx, next) => {
      await next();
      await next();
    },
    (ctx) => void ctx.log.push('handler'),
  ],
  'next().then after a synchronous downstream': [(ctx, next) => next().then(() => void ctx.log.push('then')), (ctx) => void ctx.log.push('handler')],
  'no middleware': [],
};

describe('composeSettling (koa-compose, answering a synchronous chain with one shared settled promise)', () => {
  for (const [name, chain] of Object.entries(CHAINS)) {
    it(`${name}: the same order, value and error as koa-compose`, async () => {
      const last = async () => undefined;
      const theirs = await outcome(compose(chain as compose.Middleware<Ctx>[]) as never, last);
      const ours = await outcome(composeSettling(chain) as never, last);
      expect(ours).to.deep.equal(theirs);
    });
  }

  it('calls the outer next after the last middleware, as koa-compose does', async () => {
    const chain: Mw[] = [(ctx, next) => next(), (ctx, next) => next()];
    const last = async () => 'outer';
    expect(await outcome(composeSettling(chain) as never, last)).to.deep.equal(await outcome(compose(chain as never) as never, last));
    let called = 0;
    await composeSettling(chain)({ log: [] }, () => (called++, SETTLED));
    expect(called).to.equal(1);
  });

  it('answers a chain that finished synchronously with SETTLED, making no promise', () => {
    let promises = 0;
    const hook = createHook({ init: (_id, type) => void (type === 'PROMISE' && promises++) });
    const composed = composeSettling(CHAINS['synchronous, each calling next']!);
    hook.enable();
    let out: unknown;
    try {
      out = composed({ log: [] });
    } finally {
      hook.disable();
    }
    expect(out).to.equal(SETTLED);
    expect(promises).to.equal(0);
  });

  it('hands back the promise of a middleware that waits', () => {
    const pending = new Promise(() => undefined);
    expect(composeSettling([(_ctx, next) => next(), () => pending])({ log: [] })).to.equal(pending);
  });
});
