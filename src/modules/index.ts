import type { AuditSink } from '../platform/audit/catalogue';
import type { Config } from '../platform/config';
import type { ServiceKeys } from '../platform/crypto/keys';
import type { EncryptedTable } from '../platform/crypto/reencrypt';
import { PLATFORM_MIGRATIONS, type Migration } from '../platform/db/migrations';
import type { Database } from '../platform/db/pool';
import type { Logger } from '../platform/logging/logger';
import type { ServiceModule } from '../platform/module';
import type { Limiters } from '../platform/security/rate-limit';
import type { Instruments } from '../platform/telemetry/instruments';
import { createAuthModule, type AuthModule } from './auth/module';
import { CALL_ENCRYPTED } from './calls/encrypted';
import { m011 } from './calls/migrations/011_recording_keys';
import { createCallsModule } from './calls/module';
import { m010 } from './exotel/migrations/010_webhook_raw_and_dead_letters';
import { createExotelModule } from './exotel/module';
import { createDependencyScans } from './scanner/service';
import { TENANT_ENCRYPTED } from './tenants/encrypted';

/** What the platform hands the modules (server.ts builds it; tests compose the same way). */
export interface ModuleDeps {
  config: Config;
  db: Database;
  keys: ServiceKeys;
  audit: AuditSink;
  limiters: Limiters;
  instruments: Instruments;
  logger: Logger;
}

export interface Modules {
  /** Authentication, which the platform's app runs on every request and the audit API is guarded by. */
  auth: AuthModule;
  /** Every module, in start order (stopped in reverse). */
  list: readonly ServiceModule[];
}

/**
 * The Caly domain (docs/domain.md), one module per concern. A new concern is its own folder plus
 * one line here. Tenants have no routes (the tenant CLI manages them); their encrypted columns are
 * listed below.
 */
export async function createModules(deps: ModuleDeps): Promise<Modules> {
  const auth = await createAuthModule(deps);
  return {
    auth,
    list: [
      auth,
      createCallsModule({ ...deps, auth: auth.auth }),
      createExotelModule(deps),
      createDependencyScans({ config: deps.config, pool: deps.db.pool, logger: deps.logger, instruments: deps.instruments }),
    ],
  };
}

/** The platform's migrations and every module's, in version order (the service and the CLIs apply these). */
export const MIGRATIONS: readonly Migration[] = [...PLATFORM_MIGRATIONS, m010, m011].sort((a, b) => a.version - b.version);

/** Every encrypted column of every module, for `secrets:reencrypt`. */
export const ENCRYPTED_TABLES: readonly EncryptedTable[] = [...TENANT_ENCRYPTED, ...CALL_ENCRYPTED];
