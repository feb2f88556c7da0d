import { createHash, timingSafeEqual } from 'node:crypto';
import type { Next } from 'koa';
import { AuthenticationError, AuthorizationError } from '../errors/app-error';
import type { AppContext } from '../http/state';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Interim guard for admin endpoints (audit logs, dependency report) until user authentication
 * exists: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time over fixed-size
 * digests. With no ADMIN_TOKEN configured the endpoints are closed (403), never open.
 * The domain issue replaces this with role checks; routes keep the same guard slot.
 */
export function adminTokenGuard(token: string | undefined) {
  const expected = token === undefined ? undefined : digest(token);
  return async function adminTokenGuardMiddleware(ctx: AppContext, next: Next): Promise<void> {
    if (!expected) throw new AuthorizationError('Admin endpoints are disabled: ADMIN_TOKEN is not configured');
    const m = /^Bearer (.+)$/.exec(ctx.get('authorization'));
    if (!m) throw new AuthenticationError('An admin bearer token is required');
    if (!timingSafeEqual(digest(m[1]!), expected)) throw new AuthenticationError('Invalid admin token');
    ctx.state.userId = 'admin-token';
    await next();
  };
}
