import { performance } from 'node:perf_hooks';
import { TimeoutError } from '../errors/app-error';
import type { Step } from '../pipeline';

interface Pending {
  readonly deadline: number;
  expire(): void;
}

/**
 * In-flight requests in deadline order, checked by one interval. Every request gets the same
 * timeout, so insertion order is deadline order and a tick stops at the first live entry.
 *
 * Why not a setTimeout + Promise.race per request: that is a timer, two extra promises and a
 * clearTimeout on every request to guard against the rare slow one; this is one Set insert and
 * delete. The price is resolution: a request times out up to one tick late (tick = timeout/10,
 * at most 100 ms), which no client can tell apart from network jitter on a multi-second deadline.
 */
class DeadlineQueue {
  private readonly pending = new Set<Pending>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly tickMs: number) {}

  add(p: Pending): void {
    this.pending.add(p);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.tick(), this.tickMs);
      this.timer.unref(); // a waiting request keeps the process alive through its socket, not us
    }
  }

  delete(p: Pending): void {
    this.pending.delete(p);
  }

  private tick(): void {
    const now = performance.now();
    for (const p of this.pending) {
      if (p.deadline > now) break;
      this.pending.delete(p);
      p.expire();
    }
    if (this.pending.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

/**
 * Answers 504 when a handler runs past REQUEST_TIMEOUT_MS. The handler cannot be cancelled and
 * keeps running; its late result is discarded (Koa ignores a body set after we answered).
 */
export function requestTimeout(timeoutMs: number): Step {
  const queue = new DeadlineQueue(Math.max(1, Math.min(100, Math.floor(timeoutMs / 10))));
  return {
    name: 'request timeout',
    around: (_ctx, inside) =>
      new Promise<void>((resolve, reject) => {
        const p: Pending = { deadline: performance.now() + timeoutMs, expire: () => reject(new TimeoutError()) };
        queue.add(p);
        inside().then(
          () => {
            queue.delete(p);
            resolve();
          },
          (err: unknown) => {
            queue.delete(p);
            reject(err);
          },
        );
      }),
  };
}
