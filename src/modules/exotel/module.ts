import type { AuditSink } from '../../platform/audit/catalogue';
import type { Config } from '../../platform/config';
import type { ServiceKeys } from '../../platform/crypto/keys';
import type { Database } from '../../platform/db/pool';
import type { ServiceModule } from '../../platform/module';
import type { Limiters } from '../../platform/security/rate-limit';
import type { Instruments } from '../../platform/telemetry/instruments';
import { registerExotelWebhooks } from './routes';

export interface ExotelModuleDeps {
  config: Pick<Config, 'BODY_LIMIT_BYTES'>;
  db: Database;
  keys: ServiceKeys;
  audit: AuditSink;
  limiters: Limiters;
  instruments: Instruments;
}

/** Exotel's Passthru and StatusCallback webhooks. */
export function createExotelModule(deps: ExotelModuleDeps): ServiceModule {
  const { config, db, keys, audit, limiters, instruments } = deps;
  return {
    name: 'exotel',
    registerRoutes(router) {
      registerExotelWebhooks(router, { db, audit, keys, limiters, bodyLimitBytes: config.BODY_LIMIT_BYTES, instruments });
    },
  };
}
