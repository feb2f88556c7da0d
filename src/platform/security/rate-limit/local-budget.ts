import { LRUCache } from 'lru-cache';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { decimal } from '../../response-head/lines';
import { resetHeader, type NamedLimiter } from './enforce';

/**
 * The API budget answered from a slice reserved in the shared store, so that a request far from
 * its bucket's limit costs no store round trip (a Redis command per /api/* request otherwise).
 *
 * How exactness across replicas is kept: a reservation is one `consume(key, slice)` on the store,
 * an atomic INCRBY of the window's counter (rate-limiter-flexible's own Lua script on Redis), so
 * the counter counts points handed out, in one order for all replicas. A reservation whose counter
 * went from `before` to `after` owns the points `before + 1 … after`, and only those up to `points`
 * are granted: `min(slice, points - before)`, possibly 0. So the points granted in one window never
 * add up to more than `points`, whatever the number of replicas and however they interleave: no
 * over-admission. The partial grant needs no script of our own: the store's answer to a consume
 * that passes the limit (a rejection) still carries the counter, which is all the arithmetic needs.
 *
 * What it costs: points a replica reserved and did not spend die with the window (or with an
 * eviction from the local map), so a bucket admits at least `points - replicas × slice` requests
 * in a window where more arrive. Once fewer than EXACT_SLICES slices are left in the store, a
 * bucket stops reserving and takes one point per request from the store, as the other limiters
 * do: the last requests before 429 are decided one by one, in the store's order.
 *
 * X-RateLimit-Remaining on a locally answered request is what the store had left at this
 * replica's last reservation plus what this replica still holds: exact with one replica; with
 * several it does not see what the others admitted since, so it may overstate the remainder (by
 * about one of their slices each when the replicas share the traffic evenly, more for a replica
 * that gets little of it). From EXACT_SLICES slices before the limit on, it is the store's
 * answer to each request, as before.
 */

/** Share of the budget one reservation takes: 1/64 of it, at most 50 points. */
export function sliceOf(points: number): number {
  return Math.max(1, Math.min(Math.floor(points / 64), 50));
}

/** Below this many slices left in the store, a bucket takes its points one request at a time. */
export const EXACT_SLICES = 4;

/** Rounds of waiting for reservations before a request takes its point from the store itself. */
const MAX_ROUNDS = 8;

/** Local buckets kept by default: a flood of distinct addresses evicts the oldest, never grows memory. */
export const DEFAULT_LOCAL_KEYS = 10_000;

/** One bucket's local state for the current store window. */
export class Bucket {
  /** Points reserved here and not yet spent. */
  left = 0;
  /** `points` minus the store's counter at this replica's last reservation. */
  storeRemaining = 0;
  /**
   * When the window ends, on this process's monotonic clock (`performance.now()`, immune to wall
   * clock steps): the time the reservation was sent plus the store's time to live, so never later
   * than the store's own end (a reserved point is never spent in the next window). 0: no
   * reservation yet.
   */
  resetAt = 0;
  /** X-RateLimit-Reset of this window, computed once per reservation. */
  resetHeader = '';
  /** Fewer than EXACT_SLICES slices left: no more reservations in this window. */
  exact = false;
  /**
   * A reservation of this replica took the counter past `points`: the window's first rejection is
   * this replica's to report (one RATE_LIMIT_EXCEEDED audit event per bucket and window). Lost if
   * the bucket is evicted before that rejection (a flood of other keys in between).
   */
  auditOwed = false;
  /** The reservation in flight (its error, if the store failed): concurrent requests wait for it. */
  reserving: Promise<Error | undefined> | undefined;
}

/** The slow path's answer: a point, a rejection from the store, or the store failed (serve). */
export type Answer =
  | { allowed: true; remaining: number; resetHeader: string }
  | { allowed: false; res: RateLimiterRes; firstOfWindow: boolean }
  | { allowed: undefined; error: Error };

export class LocalBudget {
  readonly slice: number;
  private readonly exactBelow: number;
  private readonly buckets: LRUCache<string, Bucket>;

  constructor(
    private readonly l: NamedLimiter,
    maxKeys = DEFAULT_LOCAL_KEYS,
  ) {
    this.slice = sliceOf(l.points);
    this.exactBelow = EXACT_SLICES * this.slice;
    // ttl: a bucket is dropped with its window (or evicted first under a flood of keys); its
    // points are still counted in the store, so dropping one can under-admit, never over-admit.
    // ttlResolution 0: read the clock on each check instead of caching it behind a 1 ms timer,
    // which made a timer (and its async-hook init) for most requests under load.
    this.buckets = new LRUCache<string, Bucket>({ max: maxKeys, ttl: l.windowS * 1000, ttlResolution: 0 });
  }

  /** Buckets held in this process (bounded by maxKeys). */
  get size(): number {
    return this.buckets.size;
  }

  /** Synchronous: spends a point reserved here for `key`, or returns undefined (ask `take`). */
  takeLocal(key: string): Bucket | undefined {
    const b = this.buckets.get(key);
    if (b === undefined || b.left === 0 || performance.now() >= b.resetAt) return undefined;
    b.left--;
    return b;
  }

  /** The slow path: reserves a slice (or, near the limit, one point) from the store. */
  async take(key: string): Promise<Answer> {
    let b = this.bucketFor(key);
    // Each round spends a point, or waits for a reservation that grants at least one point or
    // marks the bucket exact; the bound only guards against a store answering windows already over.
    for (let round = 0; round < MAX_ROUNDS; round++) {
      if (b.resetAt !== 0 && performance.now() >= b.resetAt) b = this.bucketFor(key);
      if (b.left > 0) {
        b.left--;
        return { allowed: true, remaining: b.storeRemaining + b.left, resetHeader: b.resetHeader };
      }
      if (b.exact) return this.consumeOne(key, b);
      if (b.reserving === undefined) {
        const bucket = b;
        bucket.reserving = this.reserve(key, bucket).finally(() => (bucket.reserving = undefined));
      }
      // Every request waiting here shares the one reservation; those it does not cover go round again.
      const error = await b.reserving;
      if (error) return { allowed: undefined, error };
    }
    return this.consumeOne(key, b);
  }

  /** The live bucket of `key`, or a fresh one when there is none or its window has ended. */
  private bucketFor(key: string): Bucket {
    let b = this.buckets.get(key);
    if (b === undefined || (b.resetAt !== 0 && performance.now() >= b.resetAt)) {
      b = new Bucket();
      this.buckets.set(key, b);
    }
    return b;
  }

  /** One reservation; the error when the store (and its insurance) failed. */
  private async reserve(key: string, b: Bucket): Promise<Error | undefined> {
    const sent = performance.now();
    const sentWall = Date.now();
    let res: RateLimiterRes;
    try {
      res = await this.l.limiter.consume(key, this.slice);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) return err as Error;
      res = err; // past the limit: still a (partial or empty) grant, from the counter it carries
    }
    const { points } = this.l;
    const after = res.consumedPoints;
    const before = after - this.slice;
    b.left += Math.min(this.slice, Math.max(0, points - before));
    b.storeRemaining = Math.max(0, points - after);
    const ttl = Math.max(0, res.msBeforeNext);
    b.resetAt = sent + ttl;
    b.resetHeader = decimal(Math.ceil((sentWall + ttl) / 1000));
    if (points - after < this.exactBelow) b.exact = true;
    if (before <= points && after > points) b.auditOwed = true;
    return undefined;
  }

  /** One point from the store, as the exact limiters take it. */
  private async consumeOne(key: string, b: Bucket): Promise<Answer> {
    try {
      const res = await this.l.limiter.consume(key, 1);
      return { allowed: true, remaining: res.remainingPoints, resetHeader: resetHeader(res.msBeforeNext) };
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) return { allowed: undefined, error: err as Error };
      // The window's first rejection: this consume took the counter past the limit, or one of
      // this replica's reservations did (then no consume of anyone's will, so it is reported here).
      let firstOfWindow = err.consumedPoints === this.l.points + 1;
      if (b.auditOwed) {
        b.auditOwed = false;
        firstOfWindow = true;
      }
      return { allowed: false, res: err, firstOfWindow };
    }
  }
}
