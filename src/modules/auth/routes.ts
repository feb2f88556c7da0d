import { createHash } from 'node:crypto';
import type Router from '@koa/router';
import type { AuditEventInput, AuditSink } from '../../platform/audit/catalogue';
import { auditFromCtx } from '../../platform/audit/context';
import type { Keyring } from '../../platform/crypto/encryption';
import { mask } from '../../platform/crypto/keys';
import type { Database } from '../../platform/db/pool';
import { AuthenticationError, ValidationError } from '../../platform/errors/app-error';
import { type AppContext, type AppState, requireUser } from '../../platform/context/state';
import type { Limiters } from '../../platform/security/rate-limit';
import { loadTenantProfile } from '../tenants';
import { route } from '../../platform/api/route';
import { inputOf } from '../../platform/validation/validated';
import { loginRoute, logoutRoute, meRoute, passwordRoute, refreshRoute } from './contract';
import type { Auth } from './middleware';
import type { PasswordHasher } from '../../platform/crypto/passwords';
import type { Role } from '../tenants';
import type { LoginBody, PasswordBody, RefreshBody } from './schemas';
import { revokeFamily, revokeOtherSessions, rotateSession, startSession, type IssuedRefresh, type RotateResult } from './sessions';
import type { AccessTokens } from './tokens';
import { findUserByEmail, findUserById } from '../tenants';

export interface AuthRoutesDeps {
  db: Database;
  audit: AuditSink;
  auth: Auth;
  limiters: Pick<Limiters, 'login'>;
  passwords: PasswordHasher;
  tokens: AccessTokens;
  keyring: Keyring;
  refreshTtlSeconds: number;
}

const INVALID_LOGIN = 'Invalid email or password';

/**
 * A revoked refresh token presented again, at its true severity. Rotated away: two parties hold
 * the session, one stole it (CRITICAL, the family is revoked). Presented again after the family
 * was revoked for reuse: the thief keeps trying (HIGH). After logout, a password change or a
 * disabled user: a stale tab or client, worth recording but no alarm (MEDIUM). The tenant is
 * always named, so its admins see it.
 */
function reuseEvent(r: Extract<RotateResult, { kind: 'reuse' }>): AuditEventInput {
  const base = { tenantId: r.tenantId, userId: r.userId, resourceType: 'session', resourceId: r.sessionId } as const;
  if (r.revokedReason === 'rotated') {
    return {
      ...base,
      type: 'SECURITY_VIOLATION',
      outcome: 'SECURITY_ALERT',
      severity: 'CRITICAL',
      description: 'A rotated refresh token was reused: the whole session was revoked',
      metadata: { reason: 'refresh_token_reuse' },
    };
  }
  if (r.revokedReason === 'reuse') {
    return {
      ...base,
      type: 'SECURITY_VIOLATION',
      outcome: 'SECURITY_ALERT',
      severity: 'HIGH',
      description: 'A refresh token of a session revoked for reuse was presented again',
      metadata: { reason: 'refresh_token_reuse_repeated' },
    };
  }
  return {
    ...base,
    type: 'ACCESS_DENIED',
    outcome: 'FAILURE',
    severity: 'MEDIUM',
    description: `Refresh token presented after the session ended (${r.revokedReason})`,
    metadata: { reason: `refresh_after_${r.revokedReason}` },
  };
}
const bodyOf = <B>(ctx: AppContext) => inputOf<{ body: B }>(ctx).body;
/** A short, non-reversible reference to an email for audit metadata (no address in the trail). */
const emailRef = (email: string) => createHash('sha256').update(email).digest('hex').slice(0, 16);

/**
 * `/api/auth/*`: login, refresh (rotation with reuse detection), logout, me, password change.
 * Tokens are answered in the JSON body with `Cache-Control: no-store`; the dashboard keeps the
 * refresh token out of script-readable storage (docs/domain.md).
 */
export function registerAuthRoutes(router: Router<AppState>, deps: AuthRoutesDeps): void {
  const { db, audit, auth, tokens, passwords } = deps;

  async function tokenPair(ctx: AppContext, user: { id: string; tenant_id: string; role: Role; email: string }, refresh: IssuedRefresh) {
    const accessToken = await tokens.sign({ userId: user.id, tenantId: user.tenant_id, role: user.role, sessionId: refresh.sessionId });
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      accessToken,
      tokenType: 'Bearer',
      expiresIn: tokens.ttlSeconds,
      refreshToken: refresh.token,
      refreshTokenExpiresAt: refresh.expiresAt.toISOString(),
      user: { id: user.id, email: user.email, role: user.role, tenantId: user.tenant_id },
    };
  }

  route(router, loginRoute, deps.limiters.login, async function login(ctx) {
    const { email, password } = bodyOf<LoginBody>(ctx);
    const user = await findUserByEmail(db, email);
    // Always one argon2 verification (a dummy hash for unknown emails): same answer, same time.
    const ok = await passwords.verify(user?.password_hash ?? null, password);
    if (!user || !ok || !user.usable) {
      const reason = !user ? 'unknown_email' : !ok ? 'wrong_password' : 'inactive';
      audit.emit(
        {
          type: 'LOGIN_FAILURE',
          outcome: 'FAILURE',
          description: 'Login refused',
          tenantId: user?.tenant_id ?? null,
          userId: user?.id ?? null,
          resourceType: 'user',
          metadata: { reason, email_ref: emailRef(email) },
        },
        auditFromCtx(ctx),
      );
      throw new AuthenticationError(INVALID_LOGIN);
    }
    const refresh = await db.transaction(async (tx) => {
      await tx.query('UPDATE users SET last_login_at = now() WHERE id = $1', [user.id]);
      return startSession(tx, user.id, deps.refreshTtlSeconds);
    });
    ctx.state.caller = { kind: 'user', tenantId: user.tenant_id, userId: user.id, role: user.role, sessionId: refresh.sessionId };
    audit.emit(
      {
        type: 'LOGIN_SUCCESS',
        outcome: 'SUCCESS',
        description: 'Logged in',
        resourceType: 'user',
        resourceId: user.id,
        metadata: { session: refresh.sessionId },
      },
      auditFromCtx(ctx),
    );
    await tokenPair(ctx, user, refresh);
  });

  route(router, refreshRoute, async function refresh(ctx) {
    const result = await rotateSession(db, bodyOf<RefreshBody>(ctx).refreshToken, deps.refreshTtlSeconds);
    if (result.kind === 'reuse') audit.emit(reuseEvent(result), auditFromCtx(ctx));
    if (result.kind !== 'rotated') throw new AuthenticationError('Invalid refresh token');
    const user = await findUserById(db, result.userId);
    if (!user) throw new AuthenticationError('Invalid refresh token');
    ctx.state.caller = { kind: 'user', tenantId: user.tenant_id, userId: user.id, role: user.role, sessionId: result.issued.sessionId };
    await tokenPair(ctx, user, result.issued);
  });

  route(router, logoutRoute, auth.authenticate, async function logout(ctx) {
    const { sessionId } = requireUser(ctx);
    await revokeFamily(db, sessionId, 'logout');
    audit.emit({ type: 'LOGOUT', outcome: 'SUCCESS', description: 'Logged out', resourceType: 'session', resourceId: sessionId }, auditFromCtx(ctx));
    ctx.status = 204;
  });

  route(router, meRoute, auth.authenticate, async function me(ctx) {
    const caller = requireUser(ctx);
    const user = await findUserById(db, caller.userId);
    const tenant = await loadTenantProfile(db, caller.tenantId);
    if (!user || !tenant) throw new AuthenticationError('This session has ended; log in again');
    const open = (enc: string | null, field: string) => (enc ? mask(deps.keyring.decrypt(enc, `tenants.${field}:${tenant.id}`)) : null);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      user: { id: user.id, email: user.email, role: user.role },
      tenant: {
        id: tenant.id,
        name: tenant.name,
        sector: tenant.sector,
        exophones: tenant.exophones,
        passthruResponse: tenant.passthru_response,
        webhookCredentialSetAt: tenant.webhook_credential_set_at.toISOString(),
        webhookIpAllowlist: tenant.webhook_ip_allowlist,
        exotel: {
          accountSid: tenant.exotel_account_sid,
          apiKey: open(tenant.exotel_api_key_enc, 'exotel_api_key'),
          apiToken: open(tenant.exotel_api_token_enc, 'exotel_api_token'),
        },
      },
    };
  });

  route(router, passwordRoute, auth.authenticate, deps.limiters.login, async function changePassword(ctx) {
    const { currentPassword, newPassword } = bodyOf<PasswordBody>(ctx);
    const caller = requireUser(ctx);
    const user = await findUserById(db, caller.userId);
    if (!user || !(await passwords.verify(user.password_hash, currentPassword))) {
      audit.emit(
        {
          type: 'PASSWORD_CHANGE',
          outcome: 'FAILURE',
          description: 'Password change refused: wrong current password',
          resourceType: 'user',
          resourceId: caller.userId,
        },
        auditFromCtx(ctx),
      );
      throw new ValidationError('Request validation failed', [{ path: '/body/currentPassword', message: 'is not your current password' }]);
    }
    if (newPassword === currentPassword)
      throw new ValidationError('Request validation failed', [{ path: '/body/newPassword', message: 'must differ from the current password' }]);
    const hashed = await passwords.hash(newPassword);
    const revoked = await db.transaction(async (tx) => {
      await tx.query('UPDATE users SET password_hash = $2, password_changed_at = now(), updated_at = now() WHERE id = $1', [user.id, hashed]);
      return revokeOtherSessions(tx, user.id, caller.sessionId, 'password_change');
    });
    audit.emit(
      {
        type: 'PASSWORD_CHANGE',
        outcome: 'SUCCESS',
        description: 'Password changed; other sessions revoked',
        resourceType: 'user',
        resourceId: user.id,
        metadata: { revoked_sessions: revoked },
      },
      auditFromCtx(ctx),
    );
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { revokedSessions: revoked };
  });
}
