import type { Next } from 'koa';
import { AuthenticationError } from '../errors/app-error';
import type { AppContext } from '../context/state';
import { secretMatcher } from '../crypto/secret-digest';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

const LOOPBACK_BIND = new Set(['127.0.0.1', '::1', 'localhost', '::ffff:127.0.0.1']);

/**
 * Guards the health endpoints that reveal internals (pool sizes, memory, versions).
 * With HEALTH_TOKEN set: `Authorization: Bearer <token>`, compared in constant time.
 * Without it (allowed only outside production): loopback clients only, and only when the address
 * means something. Behind a trusted proxy on the same host every request arrives from loopback,
 * and a service bound beyond loopback may sit behind one that nobody configured as trusted: in
 * both cases the address grants nothing and only the token opens these endpoints.
 */
export function healthGuard(token: string | undefined, opts: { trustProxy: boolean; host: string } = { trustProxy: false, host: '127.0.0.1' }) {
  const matches = secretMatcher(token);
  const addressMayGrant = !opts.trustProxy && LOOPBACK_BIND.has(opts.host);
  return async function healthGuardMiddleware(ctx: AppContext, next: Next): Promise<void> {
    if (matches) {
      const m = /^Bearer (.+)$/.exec(ctx.get('authorization'));
      if (!m || !matches(m[1]!)) throw new AuthenticationError('A valid health token is required');
    } else if (!addressMayGrant || !LOOPBACK.has(ctx.req.socket.remoteAddress ?? '')) {
      throw new AuthenticationError(
        addressMayGrant
          ? 'Set HEALTH_TOKEN to read this endpoint from another host'
          : 'Set HEALTH_TOKEN: behind a proxy or on a public bind, the client address cannot be trusted',
      );
    }
    await next();
  };
}
