import type Router from '@koa/router';
import type { AuditSink } from '../platform/audit/catalogue';
import { auditRefusals } from '../platform/audit/refusals';
import { createAuth, type Auth, type AuthMiddleware } from './auth/middleware';
import { createPasswordHasher } from '../platform/crypto/passwords';
import { CAN } from './auth/roles';
import { registerAuthRoutes } from './auth/routes';
import { createAccessTokens } from './auth/tokens';
import { registerCallRoutes } from './calls/routes';
import type { Config } from '../platform/config';
import type { ServiceKeys } from '../platform/crypto/keys';
import type { Database } from '../platform/db/pool';
import type { AppState } from '../platform/context/state';
import { registerRecordingRoutes } from './calls/recordings/routes';
import type { Limiters } from '../platform/security/rate-limit';
import type { Instruments } from '../platform/telemetry/instruments';
import { registerExotelWebhooks } from './exotel/routes';

export interface DomainDeps {
  config: Config;
  db: Database;
  keys: ServiceKeys;
  audit: AuditSink;
  limiters: Limiters;
  instruments: Instruments;
}

export interface Domain {
  auth: Auth;
  /** Guards for staff endpoints (audit logs): tenant owners/admins see their tenant, ADMIN_TOKEN sees all. */
  staffGuard(scope: 'tenant' | 'platform'): AuthMiddleware[];
  /** The AppDeps.plugins entry: auth, calls, recordings and Exotel webhook routes. */
  registerRoutes(router: Router<AppState>): void;
}

/** The Caly domain wired together (docs/domain.md). Async only because jose loads as ESM. */
export async function createDomain(deps: DomainDeps): Promise<Domain> {
  const { config, db, keys, audit, limiters } = deps;
  const tokens = await createAccessTokens(keys.accessTokenKeys, config.ACCESS_TOKEN_TTL_S);
  const auth = createAuth({ db, tokens, audit, adminToken: config.ADMIN_TOKEN });
  const passwords = createPasswordHasher(config.PASSWORD_HASH_MEMORY_KIB);
  const staff = auditRefusals(audit, auth.authenticateStaff, 'audit_logs');
  return {
    auth,
    staffGuard: (scope) => [staff, auth.requireRole(scope === 'tenant' ? CAN.readTenantAudit : CAN.platformOnly)],
    registerRoutes(router) {
      registerAuthRoutes(router, { db, audit, auth, limiters, passwords, tokens, keyring: keys.keyring, refreshTtlSeconds: config.REFRESH_TOKEN_TTL_S });
      registerCallRoutes(router, { db, audit, auth, keys, recordingsDir: config.RECORDINGS_DIR });
      registerRecordingRoutes(router, { db, audit, auth, limiters, keyring: keys.keyring, dir: config.RECORDINGS_DIR, maxBytes: config.RECORDING_MAX_BYTES });
      registerExotelWebhooks(router, { db, audit, keys, limiters, bodyLimitBytes: config.BODY_LIMIT_BYTES, instruments: deps.instruments });
    },
  };
}
