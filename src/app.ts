import Router from '@koa/router';
import Koa from 'koa';
import type { AuditSink } from './audit/catalogue';
import type { Keyring } from './crypto/encryption';
import type { Database } from './db/pool';
import { errorEnvelope } from './errors/envelope';
import type { EventLoopMonitor } from './health/checks';
import { registerHealthRoutes } from './health/routes';
import { parseBody } from './http/body';
import type { AppState } from './http/state';
import { requestTimeout } from './http/timeout';
import { accessLog } from './logging/access-log';
import type { LoggerHandle } from './logging/logger';
import { registerInfoRoutes } from './routes/info';
import type { Config } from './config';
import type { Instruments } from './telemetry/instruments';
import { requestSpan } from './telemetry/request-span';

export interface AppDeps {
  config: Config;
  log: LoggerHandle;
  instruments: Instruments;
  db: Database;
  keyring: Keyring;
  eventLoop: EventLoopMonitor;
  audit: AuditSink;
  isShuttingDown(): boolean;
  /** Concerns that add their own routes (Fastify-style plugins), registered after the core ones. */
  plugins?: ReadonlyArray<(router: Router<AppState>) => void>;
}

/** Everything a request meets, in order. Each line is one middleware with one job. */
export function createApp(deps: AppDeps): Koa<AppState> {
  const { config, log, instruments } = deps;
  const app = new Koa<AppState>({ proxy: false });
  app.silent = true; // errors are rendered and logged by our own middleware, never by Koa's default
  app.on('error', (err: Error) => log.logger.error('unhandled koa error', { error: { name: err.name, message: err.message } }));

  const router = new Router<AppState>();
  registerHealthRoutes(router, {
    db: deps.db,
    keyring: deps.keyring,
    instruments,
    eventLoop: deps.eventLoop,
    version: config.APP_VERSION,
    checkTimeoutMs: config.HEALTH_CHECK_TIMEOUT_MS,
    healthToken: config.HEALTH_TOKEN,
    isShuttingDown: deps.isShuttingDown,
  });
  registerInfoRoutes(router, { db: deps.db, version: config.APP_VERSION });
  for (const plugin of deps.plugins ?? []) plugin(router);

  app.use(requestSpan({ instruments, slowRequestMs: config.SLOW_REQUEST_MS })); // trace, request id, duration
  app.use(
    accessLog({
      logger: log.logger,
      slowRequestMs: config.SLOW_REQUEST_MS,
      logFastSuccess: config.ACCESS_LOG === 'all',
      isSensitiveKey: log.redactor.isSensitiveKey,
    }),
  ); // one line per request
  app.use(errorEnvelope({ instruments, production: config.NODE_ENV === 'production' })); // one error shape
  // [slot: security edge — headers, HTTPS redirect, CORS, request-line anomaly scan]
  app.use(requestTimeout(config.REQUEST_TIMEOUT_MS)); // 504 past the deadline
  app.use(parseBody(config.BODY_LIMIT_BYTES)); // bounded JSON and form bodies
  // [slot: security edge — body anomaly scan]
  app.use(router.routes()); // the routes (route-level: validation, rate limits, guards)
  app.use(router.allowedMethods()); // 405 + Allow for known paths

  return app;
}
