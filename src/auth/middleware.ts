import { createHash, timingSafeEqual } from 'node:crypto';
import type { Next } from 'koa';
import type { AuditSink } from '../audit/catalogue';
import { auditFromCtx } from '../audit/context';
import type { Queryable } from '../db/pool';
import { AuthenticationError, AuthorizationError } from '../errors/app-error';
import type { AppContext } from '../http/state';
import { isRole, type CallerRole } from './roles';
import { liveSession } from './sessions';
import type { AccessClaims, AccessTokens } from './tokens';

export type AuthMiddleware = (ctx: AppContext, next: Next) => Promise<void>;

export interface Auth {
  /** A valid access token of a live session: sets ctx.state.userId/tenantId/role/sessionId. */
  authenticate: AuthMiddleware;
  /** The ADMIN_TOKEN bearer (role `platform`, all tenants) or else a user as `authenticate`. */
  authenticateStaff: AuthMiddleware;
  /** 403 AUTHORIZATION_ERROR, audited ACCESS_DENIED, unless the caller has one of `roles`. */
  requireRole(roles: readonly CallerRole[]): AuthMiddleware;
  /**
   * App-level, before the API rate limiter: a correctly signed token names the tenant, so the API
   * budget is per tenant rather than per address. Never refuses anything: `authenticate` does that.
   */
  identify: AuthMiddleware;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

function bearer(ctx: AppContext): string | undefined {
  const m = /^Bearer ([A-Za-z0-9._~+/=-]{1,4096})$/.exec(ctx.get('authorization'));
  return m?.[1];
}

export function createAuth(deps: { db: Queryable; tokens: AccessTokens; audit: AuditSink; adminToken: string | undefined }): Auth {
  const { db, tokens, audit } = deps;
  const adminDigest = deps.adminToken === undefined ? undefined : digest(deps.adminToken);
  // identify() already verified this request's token: authenticate() reuses the result.
  const verified = new WeakMap<AppContext, { token: string; claims: AccessClaims | null }>();
  const verify = async (ctx: AppContext, token: string): Promise<AccessClaims | null> => {
    const seen = verified.get(ctx);
    if (seen && seen.token === token) return seen.claims;
    const claims = await tokens.verify(token);
    verified.set(ctx, { token, claims });
    return claims;
  };

  async function authenticate(ctx: AppContext, next: Next): Promise<void> {
    const token = bearer(ctx);
    if (!token) throw new AuthenticationError('Authentication required: send Authorization: Bearer <access token>');
    const claims = await verify(ctx, token);
    if (!claims) throw new AuthenticationError('Invalid or expired access token');
    const live = await liveSession(db, claims.userId, claims.sessionId);
    if (!live || !isRole(live.role)) throw new AuthenticationError('This session has ended; log in again');
    ctx.state.userId = claims.userId;
    ctx.state.tenantId = live.tenantId;
    ctx.state.role = live.role;
    ctx.state.sessionId = claims.sessionId;
    await next();
  }

  async function authenticateStaff(ctx: AppContext, next: Next): Promise<void> {
    const token = bearer(ctx);
    if (adminDigest && token && !token.includes('.') && timingSafeEqual(digest(token), adminDigest)) {
      ctx.state.userId = 'admin-token';
      ctx.state.role = 'platform';
      delete ctx.state.tenantId;
      return next();
    }
    return authenticate(ctx, next);
  }

  function requireRole(roles: readonly CallerRole[]): AuthMiddleware {
    return async function requireRoleMiddleware(ctx, next) {
      const role = ctx.state.role;
      if (!role || !roles.includes(role)) {
        audit.emit(
          {
            type: 'ACCESS_DENIED',
            outcome: 'FAILURE',
            description: `Role ${role ?? 'none'} may not ${ctx.method} ${String(ctx._matchedRoute ?? ctx.path)}`,
            metadata: { role: role ?? null, required: roles, route: typeof ctx._matchedRoute === 'string' ? ctx._matchedRoute : undefined },
          },
          auditFromCtx(ctx),
        );
        throw new AuthorizationError('Your role does not allow this action');
      }
      await next();
    };
  }

  async function identify(ctx: AppContext, next: Next): Promise<void> {
    const token = ctx.path.startsWith('/api/') ? bearer(ctx) : undefined;
    if (token && token.includes('.')) {
      const claims = await verify(ctx, token);
      if (claims) ctx.state.tenantId = claims.tenantId;
    }
    await next();
  }

  return { authenticate, authenticateStaff, requireRole, identify };
}

