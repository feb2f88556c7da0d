import { createHash, timingSafeEqual } from 'node:crypto';
import type { Next } from 'koa';
import { AuthenticationError, AuthorizationError } from '../errors/app-error';
import type { AppContext } from '../context/state';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * The platform operator's credential (the `platform` caller role, above every tenant):
 * `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time over fixed-size digests.
 * With no ADMIN_TOKEN configured the endpoints it guards are closed (403), never open.
 */
export function adminTokenGuard(token: string | undefined) {
  const expected = token === undefined ? undefined : digest(token);
  return async function adminTokenGuardMiddleware(ctx: AppContext, next: Next): Promise<void> {
    if (!expected) throw new AuthorizationError('Admin endpoints are disabled: ADMIN_TOKEN is not configured');
    const m = /^Bearer (.+)$/.exec(ctx.get('authorization'));
    if (!m) throw new AuthenticationError('An admin bearer token is required');
    if (!timingSafeEqual(digest(m[1]!), expected)) throw new AuthenticationError('Invalid admin token');
    ctx.state.caller = { kind: 'platform' };
    await next();
  };
}
