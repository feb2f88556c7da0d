import Router from '@koa/router';
import Koa from 'koa';
import { registerDocsRoutes } from './api/docs-routes';
import { serviceDocument } from './api/document';
import type { AuditSink } from './audit/catalogue';
import type { Auth, AuthMiddleware } from './auth/middleware';
import { auditJournalWait } from './audit/context';
import { registerAuditRoutes } from './audit/routes';
import type { Keyring } from './crypto/encryption';
import type { Database } from './db/pool';
import { errorEnvelope } from './errors/envelope';
import type { Check, EventLoopMonitor } from './health/checks';
import { registerHealthRoutes } from './health/routes';
import { boundBodyShape, parseBody } from './http/body';
import { refuseUnstorableInput } from './http/storable-input';
import type { AppState } from './http/state';
import { requestTimeout } from './http/timeout';
import { accessLog } from './logging/access-log';
import type { LoggerHandle } from './logging/logger';
import { registerInfoRoutes } from './routes/info';
import { corsPolicy } from './security/cors';
import { securityHeaders } from './security/headers';
import { httpsRedirect } from './security/https-redirect';
import { createLimiters, limitApiPaths, type Limiters } from './security/rate-limit';
import type { Config } from './config';
import type { Instruments } from './telemetry/instruments';
import { countLoginAttempts } from './telemetry/login-attempts';
import { requestSpan } from './telemetry/request-span';
import { routeOnMethodNotAllowed } from './telemetry/route-on-405';
import { createAnomalyDetector } from './security/anomaly';
import { rejectPrototypeKeys } from './validation/prototype-guard';

export interface AppDeps {
  config: Config;
  log: LoggerHandle;
  instruments: Instruments;
  db: Database;
  keyring: Keyring;
  eventLoop: EventLoopMonitor;
  audit: AuditSink;
  isShuttingDown(): boolean;
  /** Rate limiters (built in server.ts on Redis when REDIS_URL is set); process memory if omitted. */
  limiters?: Limiters;
  /** Checks other concerns add to /health/detailed (audit backlog …). */
  healthChecks?: Record<string, Check>;
  /** Concerns that add their own routes (Fastify-style plugins), registered after the core ones. */
  plugins?: ReadonlyArray<(router: Router<AppState>) => void>;
  /** User authentication (src/domain): identifies the tenant before the API limiter. */
  auth?: Auth;
  /** Guards of the audit API (tenant owners/admins, or the ADMIN_TOKEN platform role); the ADMIN_TOKEN-only guard if omitted. */
  staffGuard?: (scope: 'tenant' | 'platform') => AuthMiddleware[];
}

const routers = new WeakMap<Koa<AppState>, Router<AppState>>();
/** The router of an app built by createApp: the contract test walks it for undeclared routes. */
export const routerOf = (app: Koa<AppState>): Router<AppState> | undefined => routers.get(app);

/** Everything a request meets, in order. Each line is one middleware with one job. */
export function createApp(deps: AppDeps): Koa<AppState> {
  const { config, log, instruments } = deps;
  // X-Forwarded-For/-Proto are believed only behind a trusted proxy, and then only the entry that
  // proxy appended (maxIpsCount 1): a client cannot pick its rate-limit bucket by prepending one.
  const app = new Koa<AppState>({ proxy: config.TRUST_PROXY, maxIpsCount: 1 });
  app.silent = true; // errors are rendered and logged by our own middleware, never by Koa's default
  app.on('error', (err: Error) => log.logger.error('unhandled koa error', { error: { name: err.name, message: err.message } }));

  const limiters =
    deps.limiters ?? createLimiters({ config, store: { kind: 'memory' }, logger: log.logger, instruments, audit: deps.audit });
  const router = new Router<AppState>();
  registerHealthRoutes(router, {
    db: deps.db,
    keyring: deps.keyring,
    instruments,
    eventLoop: deps.eventLoop,
    version: config.APP_VERSION,
    checkTimeoutMs: config.HEALTH_CHECK_TIMEOUT_MS,
    healthToken: config.HEALTH_TOKEN,
    trustProxy: config.TRUST_PROXY,
    host: config.HOST,
    isShuttingDown: deps.isShuttingDown,
    extraChecks: deps.healthChecks,
  });
  registerInfoRoutes(router, { db: deps.db, version: config.APP_VERSION });
  registerAuditRoutes(router, { db: deps.db, audit: deps.audit, adminToken: config.ADMIN_TOKEN, ...(deps.staffGuard ? { guard: deps.staffGuard } : {}) });
  for (const plugin of deps.plugins ?? []) plugin(router);
  registerDocsRoutes(router, serviceDocument()); // /openapi.json, /openapi.yaml, /docs
  routers.set(app, router);
  const anomaly = createAnomalyDetector({ mode: config.ANOMALY_MODE, bodyScanBytes: config.ANOMALY_BODY_SCAN_BYTES, logger: log.logger, instruments, audit: deps.audit, router });

  app.use(requestSpan({ instruments, slowRequestMs: config.SLOW_REQUEST_MS })); // trace, request id, duration
  app.use(auditJournalWait(deps.audit)); // answer only once this request's audit events are journaled
  app.use(
    accessLog({
      logger: log.logger,
      slowRequestMs: config.SLOW_REQUEST_MS,
      logFastSuccess: config.ACCESS_LOG === 'all',
    }),
  ); // one line per request
  app.use(countLoginAttempts(router, instruments)); // every login attempt by route and outcome, before any limiter answers
  app.use(errorEnvelope({ instruments, production: config.NODE_ENV === 'production' })); // one error shape
  app.use(securityHeaders({ hstsPreload: config.HSTS_PRELOAD })); // helmet values + Permissions-Policy, on every response
  if (config.NODE_ENV === 'production' && config.PUBLIC_BASE_URL) app.use(httpsRedirect(config.PUBLIC_BASE_URL)); // 308 to PUBLIC_BASE_URL
  app.use(corsPolicy(config.CORS_ORIGINS)); // allowlisted origins only
  if (deps.auth) app.use(deps.auth.claim); // a validly signed token's tenant, for audit events only (refuses nothing)
  app.use(anomaly.requestScan); // path, query, headers, missing UA, 413 on the way out (monitor: flag; block: 403)
  app.use(requestTimeout(config.REQUEST_TIMEOUT_MS)); // 504 past the deadline
  app.use(parseBody(config.BODY_LIMIT_BYTES)); // bounded JSON and form bodies
  app.use(boundBodyShape()); // 400 past 32 levels or 10,000 fields, before anything recurses
  app.use(refuseUnstorableInput()); // 400 for NUL, lone surrogates, invalid UTF-8 (webhooks sanitise instead)
  app.use(rejectPrototypeKeys()); // 400 for __proto__/constructor/prototype keys anywhere in a body
  app.use(anomaly.bodyScan); // string values of JSON and form bodies, bounded by ANOMALY_BODY_SCAN_BYTES
  if (deps.auth) app.use(deps.auth.identify); // token AND session verified: the tenant is known (refuses nothing)
  app.use(limitApiPaths(limiters.api)); // API budget for /api/* (per verified tenant, else per address)
  app.use(routeOnMethodNotAllowed(router)); // a 405 still names its route template
  app.use(router.routes()); // the routes (route-level: validation, rate limits, guards)
  app.use(router.allowedMethods()); // 405 + Allow for known paths

  return app;
}
