import { secretMatcher } from '../../platform/crypto/secret-digest';
import type { Next } from 'koa';
import type { AuditSink } from '../../platform/audit/catalogue';
import { auditFromCtx } from '../../platform/audit/context';
import type { Queryable } from '../../platform/db/pool';
import type { Step } from '../../platform/pipeline';
import { AuthenticationError, AuthorizationError } from '../../platform/errors/app-error';
import { routeOf, type AppContext, type Caller } from '../../platform/context/state';
import { isRole, type Role } from '../tenants';
import type { CallerRole } from './roles';
import { liveSession } from './sessions';
import type { AccessClaims, AccessTokens } from './tokens';

export type AuthMiddleware = (ctx: AppContext, next: Next) => Promise<void>;

export interface Auth {
  /** A valid access token of a live session: the caller is that user. */
  authenticate: AuthMiddleware;
  /** The ADMIN_TOKEN bearer (role `platform`, all tenants) or else a user as `authenticate`. */
  authenticateStaff: AuthMiddleware;
  /** 403 AUTHORIZATION_ERROR, audited ACCESS_DENIED, unless the caller has one of `roles`. */
  requireRole(roles: readonly CallerRole[]): AuthMiddleware;
  /**
   * App-level, early (before the anomaly scan): a correctly signed token's tenant and user as
   * `claimedTenantId`/`claimedUserId`, so security events name the tenant under attack. Checks the
   * signature only and never refuses anything.
   */
  claim: Step;
  /**
   * App-level, before the API rate limiter: names the caller only once the token AND its
   * session are verified, so a revoked or forged token is charged to its client address and can
   * never spend a tenant's budget. Never refuses anything: `authenticate` does that.
   */
  identify: Step;
}

const userCaller = (v: Verdict & { kind: 'live' }): Caller => ({
  kind: 'user',
  tenantId: v.tenantId,
  userId: v.claims.userId,
  role: v.role,
  sessionId: v.claims.sessionId,
});

function bearer(ctx: AppContext): string | undefined {
  const m = /^Bearer ([A-Za-z0-9._~+/=-]{1,4096})$/.exec(ctx.get('authorization'));
  return m?.[1];
}

/** What one request's bearer token turned out to be; computed once per request. */
type Verdict = { kind: 'invalid' } | { kind: 'ended'; claims: AccessClaims } | { kind: 'live'; claims: AccessClaims; tenantId: string; role: Role };

export function createAuth(deps: { db: Queryable; tokens: AccessTokens; audit: AuditSink; adminToken: string | undefined }): Auth {
  const { db, tokens, audit } = deps;
  const isAdminToken = secretMatcher(deps.adminToken);
  // claim(), identify() and authenticate() share one verification per request.
  const claimed = new WeakMap<AppContext, { token: string; claims: AccessClaims | null }>();
  const verdicts = new WeakMap<AppContext, { token: string; verdict: Verdict }>();
  const claimsOf = async (ctx: AppContext, token: string): Promise<AccessClaims | null> => {
    const seen = claimed.get(ctx);
    if (seen && seen.token === token) return seen.claims;
    const claims = token.includes('.') ? await tokens.verify(token) : null;
    claimed.set(ctx, { token, claims });
    return claims;
  };
  const verdictOf = async (ctx: AppContext, token: string): Promise<Verdict> => {
    const seen = verdicts.get(ctx);
    if (seen && seen.token === token) return seen.verdict;
    const claims = await claimsOf(ctx, token);
    let verdict: Verdict;
    if (!claims) verdict = { kind: 'invalid' };
    else {
      const live = await liveSession(db, claims.userId, claims.sessionId);
      verdict = live && isRole(live.role) ? { kind: 'live', claims, tenantId: live.tenantId, role: live.role } : { kind: 'ended', claims };
    }
    verdicts.set(ctx, { token, verdict });
    return verdict;
  };

  /**
   * A refused token is a failed authentication: audited. A forged or malformed one names nobody,
   * so it is anonymous noise (bounded and summarised per source by the audit throttle); a validly
   * signed token whose session ended names its tenant and user and is always stored.
   */
  function refuse(ctx: AppContext, verdict: Verdict & { kind: 'invalid' | 'ended' }): never {
    ctx.state.refusalAudited = true;
    audit.emit(
      {
        type: 'ACCESS_DENIED',
        outcome: 'FAILURE',
        description: verdict.kind === 'invalid' ? 'Refused an invalid or forged access token' : 'Refused an access token whose session has ended',
        resourceType: 'session',
        ...(verdict.kind === 'ended' ? { tenantId: verdict.claims.tenantId, userId: verdict.claims.userId, resourceId: verdict.claims.sessionId } : {}),
        metadata: { reason: verdict.kind === 'invalid' ? 'invalid_token' : 'session_ended', route: routeOf(ctx) ?? null },
      },
      auditFromCtx(ctx),
    );
    throw new AuthenticationError(verdict.kind === 'invalid' ? 'Invalid or expired access token' : 'This session has ended; log in again');
  }

  async function authenticate(ctx: AppContext, next: Next): Promise<void> {
    const token = bearer(ctx);
    if (!token) throw new AuthenticationError('Authentication required: send Authorization: Bearer <access token>');
    const verdict = await verdictOf(ctx, token);
    if (verdict.kind !== 'live') refuse(ctx, verdict);
    ctx.state.caller = userCaller(verdict);
    await next();
  }

  async function authenticateStaff(ctx: AppContext, next: Next): Promise<void> {
    const token = bearer(ctx);
    if (isAdminToken && token && !token.includes('.') && isAdminToken(token)) {
      ctx.state.caller = { kind: 'platform' };
      return next();
    }
    return authenticate(ctx, next);
  }

  function requireRole(roles: readonly CallerRole[]): AuthMiddleware {
    return async function requireRoleMiddleware(ctx, next) {
      const caller = ctx.state.caller;
      const role: CallerRole | undefined = caller?.kind === 'user' ? caller.role : caller?.kind === 'platform' ? 'platform' : undefined;
      if (!role || !roles.includes(role)) {
        ctx.state.refusalAudited = true;
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

  // claim and identify run on every request: without a token they go on at once, promise-free.
  const claim: Step = {
    name: 'token claim',
    before(ctx) {
      const token = ctx.path.startsWith('/api/') ? bearer(ctx) : undefined;
      if (!token) return;
      return claimsOf(ctx, token).then((claims) => {
        if (claims) {
          ctx.state.claimedTenantId = claims.tenantId;
          ctx.state.claimedUserId = claims.userId;
        }
      });
    },
  };

  const identify: Step = {
    name: 'caller identity',
    before(ctx) {
      const token = ctx.path.startsWith('/api/') ? bearer(ctx) : undefined;
      if (!token || !token.includes('.')) return;
      return verdictOf(ctx, token).then((verdict) => {
        if (verdict.kind === 'live') ctx.state.caller = userCaller(verdict);
      });
    },
  };

  return { authenticate, authenticateStaff, requireRole, claim, identify };
}
