import { expect } from 'chai';
import { TimeoutError } from '../../src/platform/errors/app-error';
import type { AppContext } from '../../src/platform/context/state';
import { requestTimeout } from '../../src/platform/http/timeout';
import { pipeline } from '../../src/platform/pipeline';

/**
 * The request deadline keeps in-flight requests in one queue (a linked list in arrival order).
 * Requests that finish leave from anywhere in it (first, middle, last), and only those still
 * running at their deadline get the 504; a request that finished is never timed out, and one that
 * timed out is never touched again.
 */
describe('request deadline queue (http/timeout.ts)', () => {
  const TIMEOUT_MS = 60;
  const deadline = pipeline([requestTimeout(TIMEOUT_MS)]);
  const ctx = {} as AppContext;

  function request() {
    let finish!: () => void;
    const inside = new Promise<void>((r) => (finish = r));
    const outcome = Promise.resolve(deadline(ctx, () => inside)).then(
      () => 'done' as const,
      (err: unknown) => (err instanceof TimeoutError ? ('timeout' as const) : ('other' as const)),
    );
    return { finish, outcome };
  }

  it('times out exactly the requests still running, whichever ones left the queue first', async () => {
    const reqs = Array.from({ length: 7 }, () => request());
    // Leave from the front, the middle and the back of the queue.
    for (const i of [0, 3, 6]) reqs[i]!.finish();
    const outcomes = await Promise.all(reqs.map((r) => r.outcome));
    expect(outcomes).to.deep.equal(['done', 'timeout', 'timeout', 'done', 'timeout', 'timeout', 'done']);
  });

  it('keeps working after the queue emptied, and a late finish changes nothing', async () => {
    const first = request();
    expect(await first.outcome).to.equal('timeout');
    first.finish(); // after its 504: must not disturb the queue
    const a = request();
    const b = request();
    a.finish();
    expect(await a.outcome).to.equal('done');
    expect(await b.outcome).to.equal('timeout');
  });

  it('a request that finishes in time is answered without waiting for the deadline', async () => {
    const r = request();
    const t0 = Date.now();
    r.finish();
    expect(await r.outcome).to.equal('done');
    expect(Date.now() - t0).to.be.below(TIMEOUT_MS);
  });
});
