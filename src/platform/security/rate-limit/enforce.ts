import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { AuditSink } from '../../audit/catalogue';
import { RateLimitError } from '../../errors/app-error';
import { loggablePath } from '../../context/path';
import { routeOf, type AppContext, callerTenant } from '../../context/state';
import type { Logger } from '../../logging/logger';
import type { Instruments } from '../../telemetry/instruments';
import { decimal, headLine, sendHeader } from '../../response-head/lines';

/** A limiter with its name and budget, as every decision reports them. */
export interface NamedLimiter {
  name: string;
  points: number;
  windowS: number;
  limiter: RateLimiterAbstract;
}

export interface EnforceDeps {
  logger: Logger;
  instruments: Instruments;
  audit: AuditSink;
}

export type Decision = { allowed: true; res: RateLimiterRes } | { allowed: false; res: RateLimiterRes };

/** X-RateLimit-Reset: the Unix second the window ends, `msBeforeNext` from now. */
export function resetHeader(msBeforeNext: number): string {
  return decimal(Math.ceil((Date.now() + Math.max(0, msBeforeNext)) / 1000));
}

function headersOf(l: NamedLimiter, res: RateLimiterRes): Record<string, string> {
  return {
    'X-RateLimit-Limit': String(l.points),
    'X-RateLimit-Remaining': decimal(Math.max(0, res.remainingPoints)),
    'X-RateLimit-Reset': resetHeader(res.msBeforeNext),
  };
}

/**
 * Takes one point from `key`'s bucket. A rejection comes back as a decision, not a throw, so that
 * callers combining limiters (login) decide which one answers. Anything else the store throws
 * means the limiter itself is broken (its insurance covers Redis): the request is served and the
 * failure logged, because a limiter must never take the API down with it.
 */
export async function take(l: NamedLimiter, key: string, deps: EnforceDeps): Promise<Decision | undefined> {
  try {
    return { allowed: true, res: await l.limiter.consume(key) };
  } catch (err) {
    if (err instanceof RateLimiterRes) return { allowed: false, res: err };
    deps.logger.error('rate limiter failed: request served unlimited', { limiter: l.name, error: { message: (err as Error).message } });
    return undefined;
  }
}

/** Same headers as headersOf, set straight on the response: this runs on every /api/* request. */
export function setLimitHeaders(ctx: AppContext, l: NamedLimiter, res: RateLimiterRes): void {
  writeLimitHeaders(ctx, String(l.points), res.remainingPoints, resetHeader(res.msBeforeNext));
}

const LIMIT = headLine('x-ratelimit-limit');
const REMAINING = headLine('x-ratelimit-remaining');
const RESET = headLine('x-ratelimit-reset');

/**
 * The limit headers from values the caller already has as strings (the API limiter's fast path),
 * written straight into the response head (response-head/lines.ts says why). A rejection's own
 * headers (the 429's, set through the error envelope) replace them.
 */
export function writeLimitHeaders(ctx: AppContext, limit: string, remaining: number, reset: string): void {
  const out = ctx.res;
  sendHeader(out, LIMIT, limit);
  sendHeader(out, REMAINING, decimal(Math.max(0, remaining)));
  sendHeader(out, RESET, reset);
}

/**
 * Answers a rejection: metric, span event (limiter name only: the key is an address or a hashed
 * email, neither belongs in traces), warn line, audit event, then 429 through the envelope.
 * The audit event fires only for the first rejection of a bucket's window (the store's counter is
 * exactly points + 1 once, across all replicas), so a flood yields one audit row, not thousands.
 * The API limiter's reservations can pass points + 1 in one step: it says itself which rejection
 * is the first (`firstOfWindow`, see local-budget.ts).
 */
export function reject(ctx: AppContext, l: NamedLimiter, res: RateLimiterRes, deps: EnforceDeps, firstOfWindow = res.consumedPoints === l.points + 1): never {
  const retryAfter = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
  const route = routeOf(ctx);
  deps.instruments.rateLimitRejections.add(1, { limiter: l.name });
  ctx.state.span?.addEvent('ratelimit.rejected', { 'caly.ratelimit.limiter': l.name, 'caly.ratelimit.retry_after_s': retryAfter });
  deps.logger.warn('rate limit exceeded', {
    limiter: l.name,
    route,
    path: loggablePath(ctx.path),
    request_id: ctx.state.requestId,
    client_ip: ctx.ip,
    retry_after_s: retryAfter,
  });
  if (firstOfWindow) {
    const { requestId, caller } = ctx.state;
    const tenantId = callerTenant(ctx.state);
    const userId = caller?.kind === 'user' ? caller.userId : undefined;
    deps.audit.emit(
      {
        type: 'RATE_LIMIT_EXCEEDED',
        outcome: 'FAILURE',
        description: `Rate limit "${l.name}" exceeded (${l.points} per ${l.windowS} s)`,
        tenantId: tenantId ?? null,
        userId: userId ?? null,
        metadata: { limiter: l.name, route: route ?? null, points: l.points, window_s: l.windowS },
      },
      { requestId, traceId: ctx.state.span?.spanContext().traceId, clientIp: ctx.ip, userAgent: ctx.get('user-agent') || undefined, tenantId, userId },
    );
  }
  throw new RateLimitError(retryAfter, { ...headersOf(l, res), 'X-RateLimit-Remaining': '0' });
}
