import { expect } from 'chai';
import { AsyncLocalStorage, createHook } from 'node:async_hooks';
import type { AppContext } from '../../src/platform/context/state';
import { guardStep, pipeline, SETTLED, type Step } from '../../src/platform/pipeline';

/** The pipeline only hands ctx to the steps: a plain object stands in for Koa's context. */
const fakeCtx = () => ({ state: {} }) as unknown as AppContext;

function recorder() {
  const log: string[] = [];
  const step = (name: string, extra: Partial<Step> = {}): Step => ({
    name,
    before: () => void log.push(`>${name}`),
    after: (_ctx, failure) => void log.push(failure ? `<${name}!${String((failure.error as Error).message)}` : `<${name}`),
    ...extra,
  });
  return { log, step };
}

const run = async (mw: ReturnType<typeof pipeline>, ctx: AppContext, next: () => Promise<void>) => mw(ctx, next);

describe('request pipeline (koa-compose semantics without a promise per step)', () => {
  it('runs before in order, the route, then after in reverse order', async () => {
    const { log, step } = recorder();
    await run(pipeline([step('a'), step('b'), step('c')]), fakeCtx(), async () => void log.push('route'));
    expect(log).to.deep.equal(['>a', '>b', '>c', 'route', '<c', '<b', '<a']);
  });

  it('a throwing before skips later steps and the route; only the steps already entered unwind, seeing the error', async () => {
    const { log, step } = recorder();
    const boom: Step = {
      name: 'boom',
      before: () => {
        throw new Error('refused');
      },
      after: () => void log.push('<boom'),
    };
    const mw = pipeline([step('a'), boom, step('c')]);
    const err = await Promise.resolve(run(mw, fakeCtx(), async () => void log.push('route'))).catch((e: Error) => e);
    expect((err as Error).message).to.equal('refused');
    expect(log).to.deep.equal(['>a', '<a!refused']);
  });

  it('recover turns the error into a response; steps outside it see success, steps inside see the error', async () => {
    const { log, step } = recorder();
    const envelope: Step = { name: 'envelope', recover: (ctx, e) => void (ctx.body = { error: (e as Error).message }) };
    const ctx = fakeCtx();
    await run(pipeline([step('outer'), envelope, step('inner')]), ctx, () => Promise.reject(new Error('route failed')));
    expect(ctx.body).to.deep.equal({ error: 'route failed' });
    expect(log).to.deep.equal(['>outer', '>inner', '<inner!route failed', '<outer']);
  });

  it("'answered' skips later steps and the route; the answering step and those before it unwind", async () => {
    const { log, step } = recorder();
    const redirect = step('redirect', { before: () => (log.push('>redirect'), 'answered') });
    await run(pipeline([step('a'), redirect, step('c')]), fakeCtx(), async () => void log.push('route'));
    expect(log).to.deep.equal(['>a', '>redirect', '<redirect', '<a']);
  });

  it('waits for a before that returns a promise, and for an after that does', async () => {
    const { log, step } = recorder();
    const slowIn = step('slowIn', { before: () => new Promise<void>((r) => setTimeout(() => (log.push('>slowIn'), r()), 5)) });
    const slowOut = step('slowOut', { after: () => new Promise<void>((r) => setTimeout(() => (log.push('<slowOut'), r()), 5)) });
    await run(pipeline([step('a'), slowOut, slowIn, step('d')]), fakeCtx(), async () => void log.push('route'));
    expect(log).to.deep.equal(['>a', '>slowOut', '>slowIn', '>d', 'route', '<d', '<slowIn', '<slowOut', '<a']);
  });

  it('an after that throws replaces the error on its way out', async () => {
    const { log, step } = recorder();
    const failing = step('failing', {
      after: () => {
        throw new Error('flush failed');
      },
    });
    const err = await Promise.resolve(run(pipeline([step('a'), failing]), fakeCtx(), () => Promise.reject(new Error('route failed')))).catch((e: Error) => e);
    expect((err as Error).message).to.equal('flush failed');
    expect(log).to.deep.equal(['>a', '>failing', '<a!flush failed']);
  });

  it('a deadline that expires unwinds itself and the steps before it; the inside keeps running and unwinds its own steps when it settles', async () => {
    const { log, step } = recorder();
    const deadline: Step = {
      name: 'deadline',
      after: (_ctx, failure) => void log.push(`<deadline!${String((failure?.error as Error).message)}`),
      deadline: (_ctx, expire) => {
        const t = setTimeout(() => expire(new Error('timed out')), 5);
        return () => clearTimeout(t);
      },
    };
    let release!: () => void;
    const route = new Promise<void>((r) => (release = r));
    const err = await Promise.resolve(run(pipeline([step('outer'), deadline, step('inner')]), fakeCtx(), () => route)).catch((e: Error) => e);
    expect((err as Error).message).to.equal('timed out');
    expect(log).to.deep.equal(['>outer', '>inner', '<deadline!timed out', '<outer!timed out']);
    release();
    await new Promise((r) => setImmediate(r));
    expect(log.at(-1)).to.equal('<inner');
    expect(log).to.have.length(5); // and nothing before it unwinds twice
  });

  it('a deadline is disarmed once the inside settles in time, and a late expiry changes nothing', async () => {
    const { log, step } = recorder();
    let expireLater!: (error: unknown) => void;
    let disarmed = 0;
    const deadline: Step = {
      name: 'deadline',
      deadline: (_ctx, expire) => {
        expireLater = expire;
        return () => void disarmed++;
      },
    };
    await run(pipeline([step('outer'), deadline, step('inner')]), fakeCtx(), async () => void log.push('route'));
    expect(disarmed).to.equal(1);
    expireLater(new Error('too late'));
    await new Promise((r) => setImmediate(r));
    expect(log).to.deep.equal(['>outer', '>inner', 'route', '<inner', '<outer']);
  });

  it('within runs the rest inside its scope: later steps, the route, and the way back out', async () => {
    const als = new AsyncLocalStorage<string>();
    const seen: Array<string | undefined> = [];
    const look = (where: string) => void seen.push(`${where}:${als.getStore()}`);
    const scope: Step = { name: 'scope', within: (_ctx, rest) => als.run('request', rest), after: () => look('scope after') };
    const inner: Step = { name: 'inner', before: () => look('inner before'), after: () => look('inner after') };
    await run(pipeline([scope, inner]), fakeCtx(), async () => {
      await new Promise((r) => setTimeout(r, 1));
      look('route');
    });
    expect(seen).to.deep.equal(['inner before:request', 'route:request', 'inner after:request', 'scope after:request']);
    expect(als.getStore()).to.equal(undefined); // the scope does not leak out of the request
  });

  it('within: a step inside that throws unwinds each entered step once; a scope that throws before the rest is like a throwing before', async () => {
    const { log, step } = recorder();
    const scope = step('scope', { before: undefined, within: (_ctx, rest) => rest() });
    const boom: Step = {
      name: 'boom',
      before: () => {
        throw new Error('refused');
      },
    };
    const err = await Promise.resolve(run(pipeline([step('a'), scope, boom]), fakeCtx(), async () => void log.push('route'))).catch((e: Error) => e);
    expect((err as Error).message).to.equal('refused');
    expect(log).to.deep.equal(['>a', '<scope!refused', '<a!refused']);

    log.length = 0;
    const broken = step('broken', {
      before: undefined,
      within: () => {
        throw new Error('no scope');
      },
    });
    const err2 = await Promise.resolve(run(pipeline([step('a'), broken, step('c')]), fakeCtx(), async () => void log.push('route'))).catch((e: Error) => e);
    expect((err2 as Error).message).to.equal('no scope');
    expect(log).to.deep.equal(['>a', '<a!no scope']);
  });

  it('a scope costs no promise and a deadline two (the one it may settle early, the wait on the inside)', () => {
    let promises = 0;
    const hook = createHook({ init: (_id, type) => void (type === 'PROMISE' && promises++) });
    const inside = Promise.resolve();
    const mw = pipeline([
      { name: 'scope', within: (_ctx, rest) => rest(), after: () => undefined },
      { name: 'deadline', deadline: () => () => undefined },
      { name: 'check', before: () => undefined },
    ]);
    hook.enable();
    try {
      void mw(fakeCtx(), () => inside);
    } finally {
      hook.disable();
    }
    expect(promises).to.equal(2);
  });

  it('a deadline costs no promise when the inside settles synchronously, and is disarmed at once', () => {
    for (const settled of [undefined, SETTLED]) {
      const { log, step } = recorder();
      let promises = 0;
      let disarmed = 0;
      const hook = createHook({ init: (_id, type) => void (type === 'PROMISE' && promises++) });
      const mw = pipeline([step('outer'), { name: 'deadline', deadline: () => () => void disarmed++ }, step('inner')]);
      hook.enable();
      let out: unknown;
      try {
        out = mw(fakeCtx(), () => (log.push('route'), settled) as Promise<void>);
      } finally {
        hook.disable();
      }
      expect(out).to.equal(undefined);
      expect(promises).to.equal(0);
      expect(disarmed).to.equal(1);
      expect(log).to.deep.equal(['>outer', '>inner', 'route', '<inner', '<outer']);
    }
  });

  it('a deadline around a synchronous inside still waits for an after outside it that waits (the audit journal)', async () => {
    const { log, step } = recorder();
    let release!: () => void;
    const journal: Step = {
      name: 'journal',
      after: () => new Promise<void>((r) => (release = r)).then(() => void log.push('<journal')),
    };
    const mw = pipeline([step('outer'), journal, { name: 'deadline', deadline: () => () => undefined }, step('inner')]);
    const out = mw(fakeCtx(), () => (log.push('route'), SETTLED));
    expect(out).to.be.instanceOf(Promise);
    expect(log).to.deep.equal(['>outer', '>inner', 'route', '<inner']);
    release();
    await out;
    expect(log).to.deep.equal(['>outer', '>inner', 'route', '<inner', '<journal', '<outer']);
  });

  it('a deadline around an inside that throws synchronously unwinds it with the error, disarmed; a deadline that cannot arm is a throwing before', () => {
    const { log, step } = recorder();
    let disarmed = 0;
    const mw = pipeline([step('outer'), { name: 'deadline', deadline: () => () => void disarmed++ }, step('inner')]);
    expect(() =>
      mw(fakeCtx(), () => {
        throw new Error('route broke');
      }),
    ).to.throw('route broke');
    expect(disarmed).to.equal(1);
    expect(log).to.deep.equal(['>outer', '>inner', '<inner!route broke', '<outer!route broke']);

    const second = recorder();
    const unarmed = pipeline([
      second.step('outer'),
      {
        name: 'deadline',
        deadline: () => {
          throw new Error('no clock');
        },
      },
      second.step('inner'),
    ]);
    expect(() => unarmed(fakeCtx(), () => SETTLED)).to.throw('no clock');
    expect(second.log).to.deep.equal(['>outer', '<outer!no clock']);
  });

  it('makes no promise of its own when no step has anything to do on the way out', () => {
    const sentinel = Promise.resolve();
    const mw = pipeline([{ name: 'check', before: () => undefined }]);
    expect(mw(fakeCtx(), () => sentinel)).to.equal(sentinel);
  });

  it('guardStep runs a Koa guard middleware as a before: passing on, answering, refusing', async () => {
    const ctx = fakeCtx();
    const passes = guardStep('passes', (_c, next) => next());
    const answers = guardStep('answers', async () => undefined);
    const refuses = guardStep('refuses', async () => {
      throw new Error('no');
    });
    expect(passes.before!(ctx)).to.equal(undefined); // synchronous pass-through: no promise
    expect(await answers.before!(ctx)).to.equal('answered');
    const err = await Promise.resolve(refuses.before!(ctx)).catch((e: Error) => e);
    expect((err as Error).message).to.equal('no');
  });
});
