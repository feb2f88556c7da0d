import { expect } from 'chai';
import type { AppContext } from '../../src/platform/context/state';
import { guardStep, pipeline, type Step } from '../../src/platform/pipeline';

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

  it('around holds the rest as one: steps inside unwind inside it, and its own answer is what steps outside see', async () => {
    const { log, step } = recorder();
    const deadline: Step = {
      name: 'deadline',
      // Answers before the inside settles, as the request timeout does.
      around: (_ctx, inside) => {
        void inside().catch(() => undefined);
        return Promise.reject(new Error('timed out'));
      },
    };
    let release!: () => void;
    const route = new Promise<void>((r) => (release = r));
    const err = await Promise.resolve(run(pipeline([step('outer'), deadline, step('inner')]), fakeCtx(), () => route)).catch((e: Error) => e);
    expect((err as Error).message).to.equal('timed out');
    expect(log).to.deep.equal(['>outer', '>inner', '<outer!timed out']);
    release();
    await new Promise((r) => setImmediate(r));
    expect(log.at(-1)).to.equal('<inner');
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
