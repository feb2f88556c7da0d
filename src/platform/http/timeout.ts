import { AsyncResource } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { TimeoutError } from '../errors/app-error';
import type { Step } from '../pipeline';

interface Pending {
  readonly deadline: number;
  readonly expire: (error: unknown) => void;
  /** Neighbours in the queue; both undefined and not the head once out of it. */
  prev: Pending | undefined;
  next: Pending | undefined;
}

/**
 * In-flight requests in deadline order, checked by one interval. Every request gets the same
 * timeout, so insertion order is deadline order and a tick stops at the first live entry.
 *
 * Why not a setTimeout + Promise.race per request: that is a timer, two extra promises and a
 * clearTimeout on every request to guard against the rare slow one; this is one append and one
 * unlink. The price is resolution: a request times out up to one tick late (tick = timeout/10,
 * at most 100 ms), which no client can tell apart from network jitter on a multi-second deadline.
 *
 * Why a linked list and not a Set: unlinking drops the queue's references to a finished request
 * at once, with no hash table to grow, rehash or leave holes in. (It was first measured as the cure
 * for old-space promotion on GET /api/info, but that came from V8's pretenuring, which the Set
 * build happened to trigger in every run: see lifecycle/runtime-flags.ts.)
 */
class DeadlineQueue {
  private head: Pending | undefined;
  private tail: Pending | undefined;
  private timer: NodeJS.Timeout | undefined;
  // Started in the context the queue was made in (start-up), not inside the request that found
  // it idle: a timer keeps the OpenTelemetry context it was armed in (that request's span), here for
  // as long as traffic keeps the interval running.
  private readonly start = AsyncResource.bind((): NodeJS.Timeout => setInterval(() => this.tick(), this.tickMs));

  constructor(private readonly tickMs: number) {}

  add(p: Pending): void {
    p.prev = this.tail;
    if (this.tail === undefined) this.head = p;
    else this.tail.next = p;
    this.tail = p;
    if (this.timer === undefined) {
      this.timer = this.start();
      this.timer.unref(); // a waiting request keeps the process alive through its socket, not us
    }
  }

  /** Takes `p` out; a no-op when it already left (it expired). */
  delete(p: Pending): void {
    if (p.prev === undefined && this.head !== p) return;
    if (p.prev === undefined) this.head = p.next;
    else p.prev.next = p.next;
    if (p.next === undefined) this.tail = p.prev;
    else p.next.prev = p.prev;
    p.prev = p.next = undefined;
  }

  private tick(): void {
    const now = performance.now();
    for (let p = this.head; p !== undefined && p.deadline <= now; p = this.head) {
      this.delete(p);
      p.expire(new TimeoutError());
    }
    if (this.head === undefined && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

/**
 * Answers 504 when a handler runs past REQUEST_TIMEOUT_MS. The handler cannot be cancelled and
 * keeps running; its late result is discarded (Koa ignores a body set after we answered). The
 * pipeline holds the race (pipeline/index.ts, `deadline`): this step only arms and disarms.
 */
export function requestTimeout(timeoutMs: number): Step {
  const queue = new DeadlineQueue(Math.max(1, Math.min(100, Math.floor(timeoutMs / 10))));
  return {
    name: 'request timeout',
    deadline(_ctx, expire) {
      const p: Pending = { deadline: performance.now() + timeoutMs, expire, prev: undefined, next: undefined };
      queue.add(p);
      return () => queue.delete(p);
    },
  };
}
