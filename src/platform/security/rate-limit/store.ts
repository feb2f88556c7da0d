import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract, type RateLimiterRes } from 'rate-limiter-flexible';
import type { Logger } from '../../logging/logger';

/** Where the counters live: this process, or Redis shared by every replica. */
export type RateLimitStore = { kind: 'memory' } | { kind: 'redis'; client: Redis };

const quitting = new WeakSet<Redis>();

/**
 * A Redis client tuned for rate limiting, where a late answer is worse than a local one: no
 * offline queue and no retries (a command fails at once while Redis is away, and the limiter's
 * insurance answers from memory), and a short command timeout for a Redis that hangs instead of
 * refusing. Reconnects in the background forever. A lost connection is logged once, its return
 * once; reconnect errors at most once per 30 s (ioredis reports every attempt).
 */
export function createRedisClient(url: string, logger: Logger): Redis {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 500,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
    connectionName: 'caly-api-ratelimit',
  });
  let lastErrorLog = 0;
  let lost = false;
  client.on('error', (err: Error) => {
    const now = Date.now();
    if (now - lastErrorLog < 30_000) return;
    lastErrorLog = now;
    logger.error('rate-limit store (Redis) connection error', { store: 'redis', error: { name: err.name, message: err.message } });
  });
  client.on('close', () => {
    if (lost || quitting.has(client)) return;
    lost = true;
    logger.error('rate-limit store (Redis) connection lost: limiting from process memory until it is back', { store: 'redis' });
  });
  client.on('ready', () => {
    if (lost) logger.info('rate-limit store (Redis) connection restored', { store: 'redis' });
    lost = false;
  });
  return client;
}

/** Closes the client on shutdown without reporting it as a lost connection. */
export async function quitRedisClient(client: Redis): Promise<void> {
  quitting.add(client);
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}

/** Resolves when the client is ready or after `timeoutMs`: a service with Redis down still starts. */
export function waitUntilReady(client: Redis, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      resolve(ok);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    timer.unref();
    client.once('ready', onReady);
  });
}

/**
 * The insurance limiter of a Redis limiter: rate-limiter-flexible calls it exactly when the store
 * failed, so each call here is one store failure. Subclassing (rather than patching the Redis
 * limiter's private error handler) keeps to the library's public contract.
 */
class FallbackMemoryLimiter extends RateLimiterMemory {
  constructor(
    opts: ConstructorParameters<typeof RateLimiterMemory>[0],
    private readonly onFallback: () => void,
  ) {
    super(opts);
  }

  override consume(key: string | number, points?: number, options?: { [key: string]: unknown }): Promise<RateLimiterRes> {
    this.onFallback();
    return super.consume(key, points, options);
  }
}

export interface LimiterSpec {
  /** Metric label, span attribute and store key segment. */
  name: string;
  points: number;
  windowS: number;
}

/**
 * One named limiter on the chosen store. Keys are `<prefix>:<name>:<bucket>`; the prefix is
 * RATE_LIMIT_PREFIX so that tests (and several environments on one Redis) never share counters.
 */
export function buildLimiter(spec: LimiterSpec, store: RateLimitStore, prefix: string, onFallback: () => void): RateLimiterAbstract {
  const base = { keyPrefix: `${prefix}:${spec.name}`, points: spec.points, duration: spec.windowS };
  if (store.kind === 'memory') return new RateLimiterMemory(base);
  return new RateLimiterRedis({
    ...base,
    storeClient: store.client,
    rejectIfRedisNotReady: true,
    insuranceLimiter: new FallbackMemoryLimiter(base, onFallback),
  });
}
