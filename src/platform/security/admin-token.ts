import type { Next } from 'koa';
import { AuthenticationError, AuthorizationError } from '../errors/app-error';
import type { AppContext } from '../context/state';
import { secretMatcher } from '../crypto/secret-digest';

/**
 * The platform operator's credential (the `platform` caller role, above every tenant):
 * `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time over fixed-size digests.
 * With no ADMIN_TOKEN configured the endpoints it guards are closed (403), never open.
 */
export function adminTokenGuard(token: string | undefined) {
  const matches = secretMatcher(token);
  return async function adminTokenGuardMiddleware(ctx: AppContext, next: Next): Promise<void> {
    if (!matches) throw new AuthorizationError('Admin endpoints are disabled: ADMIN_TOKEN is not configured');
    const m = /^Bearer (.+)$/.exec(ctx.get('authorization'));
    if (!m) throw new AuthenticationError('An admin bearer token is required');
    if (!matches(m[1]!)) throw new AuthenticationError('Invalid admin token');
    ctx.state.caller = { kind: 'platform' };
    await next();
  };
}
