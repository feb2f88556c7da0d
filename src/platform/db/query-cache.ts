import { LRUCache } from 'lru-cache';
import type { Instruments } from '../telemetry/instruments';

/**
 * A bounded, per-process TTL cache for read-mostly query results (tenant lookups, settings).
 * Per-process on purpose: a stale entry lives at most `ttlMs`, and writers call `invalidate`.
 */
export class QueryCache {
  private readonly lru: LRUCache<string, { value: unknown }>;
  private readonly inflight = new Map<string, Promise<unknown>>();

  constructor(
    opts: { max: number; ttlMs: number },
    private readonly instruments: Instruments,
  ) {
    this.lru = new LRUCache({ max: opts.max, ttl: opts.ttlMs });
  }

  /** Returns the cached value for `key`, or loads, stores and returns it. Concurrent misses share one load. */
  async get<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.lru.get(key);
    if (hit !== undefined) {
      this.instruments.queryCache.add(1, { 'cache.result': 'hit' });
      return hit.value as T;
    }
    this.instruments.queryCache.add(1, { 'cache.result': 'miss' });
    const pending = this.inflight.get(key);
    if (pending) return pending as Promise<T>;
    const p = load()
      .then((value) => {
        this.lru.set(key, { value });
        return value;
      })
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  invalidate(key: string): void {
    this.lru.delete(key);
  }

  clear(): void {
    this.lru.clear();
  }

  get size(): number {
    return this.lru.size;
  }
}
