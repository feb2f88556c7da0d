import { createHash, timingSafeEqual } from 'node:crypto';
import type { Next } from 'koa';
import { AuthenticationError } from '../errors/app-error';
import type { AppContext } from '../http/state';

const digest = (s: string) => createHash('sha256').update(s).digest();
const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/**
 * Guards the health endpoints that reveal internals (pool sizes, memory, versions).
 * With HEALTH_TOKEN set: `Authorization: Bearer <token>`, compared in constant time.
 * Without it (allowed only outside production): loopback clients only.
 */
export function healthGuard(token: string | undefined) {
  const expected = token === undefined ? undefined : digest(token);
  return async function healthGuardMiddleware(ctx: AppContext, next: Next): Promise<void> {
    if (expected) {
      const m = /^Bearer (.+)$/.exec(ctx.get('authorization'));
      if (!m || !timingSafeEqual(digest(m[1]!), expected)) throw new AuthenticationError('A valid health token is required');
    } else if (!LOOPBACK.has(ctx.req.socket.remoteAddress ?? '')) {
      throw new AuthenticationError('Set HEALTH_TOKEN to read this endpoint from another host');
    }
    await next();
  };
}
