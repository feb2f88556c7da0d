import type { Config } from '../../platform/config';
import type { AuditSink } from '../../platform/audit/catalogue';
import { auditRefusals } from '../../platform/audit/refusals';
import type { ServiceKeys } from '../../platform/crypto/keys';
import { createPasswordHasher } from '../../platform/crypto/passwords';
import type { Database } from '../../platform/db/pool';
import type { ServiceModule } from '../../platform/module';
import type { Limiters } from '../../platform/security/rate-limit';
import { createAuth, type Auth, type AuthMiddleware } from './middleware';
import { CAN } from './roles';
import { registerAuthRoutes } from './routes';
import { createAccessTokens } from './tokens';

export interface AuthModuleDeps {
  config: Pick<Config, 'ACCESS_TOKEN_TTL_S' | 'REFRESH_TOKEN_TTL_S' | 'ADMIN_TOKEN' | 'PASSWORD_HASH_MEMORY_KIB'>;
  db: Database;
  keys: ServiceKeys;
  audit: AuditSink;
  limiters: Limiters;
}

/** What authentication gives the rest of the service besides its own routes. */
export interface AuthModule extends ServiceModule {
  /** Names the caller on every request (the platform's app runs it before the API limiter). */
  readonly auth: Auth;
  /** Guards of staff endpoints (audit logs): tenant owners/admins see their tenant, ADMIN_TOKEN sees all. */
  staffGuard(scope: 'tenant' | 'platform'): AuthMiddleware[];
}

/** Login, sessions and access tokens. Async only because jose loads as ESM. */
export async function createAuthModule(deps: AuthModuleDeps): Promise<AuthModule> {
  const { config, db, keys, audit, limiters } = deps;
  const tokens = await createAccessTokens(keys.accessTokenKeys, config.ACCESS_TOKEN_TTL_S);
  const auth = createAuth({ db, tokens, audit, adminToken: config.ADMIN_TOKEN });
  const passwords = createPasswordHasher(config.PASSWORD_HASH_MEMORY_KIB);
  const staff = auditRefusals(audit, auth.authenticateStaff, 'audit_logs');
  return {
    name: 'auth',
    auth,
    staffGuard: (scope) => [staff, auth.requireRole(scope === 'tenant' ? CAN.readTenantAudit : CAN.platformOnly)],
    registerRoutes(router) {
      registerAuthRoutes(router, { db, audit, auth, limiters, passwords, tokens, keyring: keys.keyring, refreshTtlSeconds: config.REFRESH_TOKEN_TTL_S });
    },
  };
}
