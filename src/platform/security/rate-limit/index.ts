import type { Next } from 'koa';
import type { AuditSink } from '../../audit/catalogue';
import type { Config } from '../../config';
import type { AppContext } from '../../context/state';
import type { Logger } from '../../logging/logger';
import type { Instruments } from '../../telemetry/instruments';
import { reject, setLimitHeaders, take, writeLimitHeaders, type EnforceDeps, type NamedLimiter } from './enforce';
import { addressEmailKey, credentialKey, ipKey, tenantOrIpKey } from './keys';
import { buildLimiter, type LimiterSpec, type RateLimitStore } from './store';
import { DEFAULT_LOCAL_KEYS, LocalBudget } from './local-budget';

export type { RateLimitStore } from './store';
export { createRedisClient, quitRedisClient, waitUntilReady } from './store';

export type LimiterName = 'login_email' | 'login_ip' | 'api' | 'webhook' | 'webhook_auth' | 'upload';
export type RouteMiddleware = (ctx: AppContext, next: Next) => Promise<void>;

/** Route-level middleware factories, one per budget. Health and metrics are never limited. */
export interface Limiters {
  readonly store: RateLimitStore['kind'];
  /** Login: per client address, then per address and normalised email pair (needs the parsed body). */
  login: RouteMiddleware;
  /**
   * The general API budget: per tenant when authenticated, else per client address. Answered from
   * a slice reserved in the store while the budget is far from spent (local-budget.ts).
   */
  api: RouteMiddleware;
  /** How many API buckets this process holds (bounded; for tests and diagnostics). */
  apiLocalBuckets(): number;
  /**
   * Webhooks: per sender credential, which the webhook route knows how to read (URL token, Basic
   * user …). The key function is required: with one bucket for all senders, one noisy sender
   * would starve the others.
   */
  webhook(credentialOf: (ctx: AppContext) => string): RouteMiddleware;
  /** Uploads: per tenant (per client address before authentication exists). */
  upload: RouteMiddleware;
  /**
   * Webhook credential guessing, per client address: `refuseIfExhausted` answers 429 before any
   * lookup once an address has spent its failures; `failed` spends one. Successful deliveries
   * spend nothing, so Exotel is never slowed by someone else's guessing from elsewhere.
   */
  webhookAuth: { refuseIfExhausted(ctx: AppContext): Promise<void>; failed(ctx: AppContext): Promise<void> };
}

export interface LimiterDeps {
  config: Pick<
    Config,
    | 'RATE_LIMIT_PREFIX'
    | 'RATE_LIMIT_LOGIN_POINTS'
    | 'RATE_LIMIT_LOGIN_IP_POINTS'
    | 'RATE_LIMIT_LOGIN_WINDOW_S'
    | 'RATE_LIMIT_API_POINTS'
    | 'RATE_LIMIT_API_WINDOW_S'
    | 'RATE_LIMIT_WEBHOOK_POINTS'
    | 'RATE_LIMIT_WEBHOOK_WINDOW_S'
    | 'RATE_LIMIT_WEBHOOK_AUTH_POINTS'
    | 'RATE_LIMIT_WEBHOOK_AUTH_WINDOW_S'
    | 'RATE_LIMIT_UPLOAD_POINTS'
    | 'RATE_LIMIT_UPLOAD_WINDOW_S'
  >;
  store: RateLimitStore;
  logger: Logger;
  instruments: Instruments;
  audit: AuditSink;
  /** Buckets the API limiter keeps in process (default DEFAULT_LOCAL_KEYS): its memory bound. */
  apiLocalKeys?: number;
}

export function limiterSpecs(c: LimiterDeps['config']): Record<LimiterName, LimiterSpec> {
  return {
    login_email: { name: 'login_email', points: c.RATE_LIMIT_LOGIN_POINTS, windowS: c.RATE_LIMIT_LOGIN_WINDOW_S },
    // Wider than the pair bucket: it bounds one address trying many accounts, and must not fire
    // before the pair bucket does for one account (or that bucket would never decide anything).
    login_ip: { name: 'login_ip', points: c.RATE_LIMIT_LOGIN_IP_POINTS, windowS: c.RATE_LIMIT_LOGIN_WINDOW_S },
    api: { name: 'api', points: c.RATE_LIMIT_API_POINTS, windowS: c.RATE_LIMIT_API_WINDOW_S },
    webhook: { name: 'webhook', points: c.RATE_LIMIT_WEBHOOK_POINTS, windowS: c.RATE_LIMIT_WEBHOOK_WINDOW_S },
    webhook_auth: { name: 'webhook_auth', points: c.RATE_LIMIT_WEBHOOK_AUTH_POINTS, windowS: c.RATE_LIMIT_WEBHOOK_AUTH_WINDOW_S },
    upload: { name: 'upload', points: c.RATE_LIMIT_UPLOAD_POINTS, windowS: c.RATE_LIMIT_UPLOAD_WINDOW_S },
  };
}

/** Store failures: each one counted; logged at most once per 10 s per limiter, with the count. */
function fallbackReporter(name: string, deps: LimiterDeps): () => void {
  let lastLog = 0;
  let unlogged = 0;
  return () => {
    deps.instruments.rateLimitStoreFailures.add(1, { limiter: name });
    unlogged++;
    const now = Date.now();
    if (now - lastLog < 10_000) return;
    deps.logger.error('rate-limit store failed: limiter fell back to process memory', { limiter: name, store: 'redis', failures: unlogged });
    lastLog = now;
    unlogged = 0;
  };
}

/** A middleware that takes one point from the bucket `keyOf` names, and answers 429 when it is empty. */
function single(l: NamedLimiter, keyOf: (ctx: AppContext) => string, deps: EnforceDeps): RouteMiddleware {
  // A continuation of the store's answer rather than an async function awaiting it and next():
  // this runs on every /api/* request, and each await is a promise more under AsyncLocalStorage.
  return function rateLimitMiddleware(ctx, next) {
    return take(l, keyOf(ctx), deps).then((d) => {
      if (d) {
        if (!d.allowed) reject(ctx, l, d.res, deps);
        setLimitHeaders(ctx, l, d.res);
      }
      return next();
    });
  };
}

/**
 * The API budget from a locally reserved slice (local-budget.ts). A request with a point left here
 * returns next() itself: no store call, no promise of its own. Budgets too small to slice (under
 * 128 points) are taken one point per request, as `single` does.
 */
function sliced(l: NamedLimiter, keyOf: (ctx: AppContext) => string, deps: EnforceDeps, budget: LocalBudget): RouteMiddleware {
  const limit = String(l.points);
  return function apiRateLimitMiddleware(ctx, next) {
    const key = keyOf(ctx);
    const b = budget.takeLocal(key);
    if (b !== undefined) {
      writeLimitHeaders(ctx, limit, b.storeRemaining + b.left, b.resetHeader);
      return next();
    }
    return budget.take(key).then((a) => {
      if (a.allowed) writeLimitHeaders(ctx, limit, a.remaining, a.resetHeader);
      else if (a.allowed === false) reject(ctx, l, a.res, deps, a.firstOfWindow);
      else deps.logger.error('rate limiter failed: request served unlimited', { limiter: l.name, error: { message: a.error.message } });
      return next();
    });
  };
}

/**
 * Login: the address bucket first, and the email bucket only for attempts the address allowed.
 * Sequential on purpose: with both taken at once, concurrent attempts could each be refused by a
 * different bucket and fewer than the configured number would get through. The headers report
 * whichever bucket is closer to empty.
 */
function login(ip: NamedLimiter, email: NamedLimiter, deps: EnforceDeps): RouteMiddleware {
  return async function loginRateLimitMiddleware(ctx, next) {
    const byIp = await take(ip, ipKey(ctx), deps);
    if (byIp && !byIp.allowed) reject(ctx, ip, byIp.res, deps);
    const address = (ctx.request.body as { email?: unknown } | undefined)?.email;
    const byEmail = typeof address === 'string' && address.trim() !== '' ? await take(email, addressEmailKey(ctx, address), deps) : undefined;
    if (byEmail && !byEmail.allowed) reject(ctx, email, byEmail.res, deps);
    if (byEmail && (!byIp || byEmail.res.remainingPoints <= byIp.res.remainingPoints)) setLimitHeaders(ctx, email, byEmail.res);
    else if (byIp) setLimitHeaders(ctx, ip, byIp.res);
    await next();
  };
}

export function createLimiters(deps: LimiterDeps): Limiters {
  const specs = limiterSpecs(deps.config);
  const named = (n: LimiterName): NamedLimiter => ({
    ...specs[n],
    limiter: buildLimiter(specs[n], deps.store, deps.config.RATE_LIMIT_PREFIX, fallbackReporter(n, deps)),
  });
  const l = {
    login_email: named('login_email'),
    login_ip: named('login_ip'),
    api: named('api'),
    webhook: named('webhook'),
    webhook_auth: named('webhook_auth'),
    upload: named('upload'),
  };
  const apiBudget = new LocalBudget(l.api, deps.apiLocalKeys ?? DEFAULT_LOCAL_KEYS);
  return {
    store: deps.store.kind,
    login: login(l.login_ip, l.login_email, deps),
    api: apiBudget.slice > 1 ? sliced(l.api, tenantOrIpKey, deps, apiBudget) : single(l.api, tenantOrIpKey, deps),
    apiLocalBuckets: () => apiBudget.size,
    // A request without a credential (refused by the webhook's own auth next) still must not
    // share a bucket with everyone else: it falls back to its address.
    webhook: (credentialOf) =>
      single(
        l.webhook,
        (ctx) => {
          const credential = credentialOf(ctx);
          return credential ? credentialKey(credential) : ipKey(ctx);
        },
        deps,
      ),
    upload: single(l.upload, tenantOrIpKey, deps),
    webhookAuth: {
      async refuseIfExhausted(ctx) {
        const res = await l.webhook_auth.limiter.get(ipKey(ctx)).catch(() => null);
        if (!res || res.consumedPoints < l.webhook_auth.points) return;
        // Spend one more so the store's counter passes points + 1 once: one audit row per window.
        const d = await take(l.webhook_auth, ipKey(ctx), deps);
        if (d && !d.allowed) reject(ctx, l.webhook_auth, d.res, deps);
      },
      async failed(ctx) {
        await take(l.webhook_auth, ipKey(ctx), deps);
      },
    },
  };
}

/**
 * Applies the API budget to `/api/*` only, as app-level middleware placed just before the router,
 * so unknown `/api/...` paths (scanners) spend it too. `/api/ping` is included: it is public and
 * unauthenticated, the kind of endpoint a flood aims at. Health checks and /metrics sit outside
 * `/api/` and are never limited.
 */
export function limitApiPaths(api: RouteMiddleware): RouteMiddleware {
  return function apiPathsRateLimitMiddleware(ctx, next) {
    return ctx.path.startsWith('/api/') ? api(ctx, next) : next();
  };
}
