import type { AuditSink } from '../../platform/audit/catalogue';
import type { Config } from '../../platform/config';
import type { ServiceKeys } from '../../platform/crypto/keys';
import type { Database } from '../../platform/db/pool';
import type { ServiceModule } from '../../platform/module';
import type { Limiters } from '../../platform/security/rate-limit';
import type { Auth } from '../auth';
import { registerRecordingRoutes } from './recordings/routes';
import { registerCallRoutes } from './routes';

export interface CallsModuleDeps {
  config: Pick<Config, 'RECORDINGS_DIR' | 'RECORDING_MAX_BYTES'>;
  db: Database;
  keys: ServiceKeys;
  audit: AuditSink;
  limiters: Limiters;
  auth: Auth;
}

/** The calls API, with the recordings uploaded to a call. */
export function createCallsModule(deps: CallsModuleDeps): ServiceModule {
  const { config, db, keys, audit, limiters, auth } = deps;
  return {
    name: 'calls',
    registerRoutes(router) {
      registerCallRoutes(router, { db, audit, auth, keys, recordingsDir: config.RECORDINGS_DIR });
      registerRecordingRoutes(router, { db, audit, auth, limiters, keyring: keys.keyring, dir: config.RECORDINGS_DIR, maxBytes: config.RECORDING_MAX_BYTES });
    },
  };
}
