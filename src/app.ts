import Router from '@koa/router';
import Koa from 'koa';
import { registerDocsRoutes } from './platform/docs/routes';
import { cacheRouteMatches } from './platform/api/route-match-cache';
import { dispatchRoutes } from './platform/api/route-dispatch';
import { serviceDocument } from './modules/openapi-document';
import type { AuditSink } from './platform/audit/catalogue';
import type { Auth, AuthMiddleware } from './modules/auth/middleware';
import { auditJournalWait } from './platform/audit/context';
import { registerAuditRoutes } from './platform/audit/routes';
import type { Keyring } from './platform/crypto/encryption';
import type { Database } from './platform/db/pool';
import { directContextAccessors } from './platform/http/context-accessors';
import { directForwardedFacts } from './platform/http/forwarded';
import { errorEnvelope } from './platform/http/envelope';
import { guardStep, pipeline } from './platform/pipeline';
import { composeSettling } from './platform/pipeline/compose';
import type { Check, EventLoopMonitor } from './platform/health/checks';
import { registerHealthRoutes } from './platform/health/routes';
import { boundBodyShape, parseBody } from './platform/http/body';
import { refuseUnstorableInput } from './platform/http/storable-input';
import type { AppState } from './platform/context/state';
import { requestTimeout } from './platform/http/timeout';
import { accessLog } from './platform/logging/access-log';
import type { LoggerHandle } from './platform/logging/logger';
import { registerInfoRoutes } from './platform/health/info';
import { corsPolicy } from './platform/security/cors';
import { securityHeaders } from './platform/security/headers';
import { httpsRedirect } from './platform/security/https-redirect';
import type { ServiceModule } from './platform/module';
import type { Migration } from './platform/db/migrations';
import { limitApiPaths, type Limiters } from './platform/security/rate-limit';
import type { Config } from './platform/config';
import type { Instruments } from './platform/telemetry/instruments';
import { countLoginAttempts } from './platform/telemetry/login-attempts';
import { requestSpan } from './platform/telemetry/request-span';
import { routeOnMethodNotAllowed } from './platform/telemetry/route-on-405';
import { createAnomalyDetector } from './platform/security/anomaly';
import { rejectPrototypeKeys } from './platform/validation/prototype-guard';

export interface AppDeps {
  config: Config;
  log: LoggerHandle;
  instruments: Instruments;
  db: Database;
  keyring: Keyring;
  eventLoop: EventLoopMonitor;
  audit: AuditSink;
  isShuttingDown(): boolean;
  /** Rate limiters (on Redis when REDIS_URL is set, see server.ts). */
  limiters: Limiters;
  /** Checks other concerns add to /health/detailed (audit backlog …). */
  healthChecks?: Record<string, Check>;
  /** The modules (src/modules/index.ts): their routes are registered after the platform's own. */
  modules: readonly ServiceModule[];
  /** Every migration of the platform and the modules (readiness reports pending ones). */
  migrations: readonly Migration[];
  /** User authentication (the auth module): names the caller before the API limiter. */
  auth: Auth;
  /** Guards of the audit API: tenant owners/admins, or the ADMIN_TOKEN platform role. */
  staffGuard: (scope: 'tenant' | 'platform') => AuthMiddleware[];
}

const routers = new WeakMap<Koa<AppState>, Router<AppState>>();
/** The router of an app built by createApp: the contract test walks it for undeclared routes. */
export const routerOf = (app: Koa<AppState>): Router<AppState> | undefined => routers.get(app);

/** Everything a request meets, in order. Each line is one step with one job. */
export function createApp(deps: AppDeps): Koa<AppState> {
  const { config, log, instruments } = deps;
  // X-Forwarded-For/-Proto are believed only behind a trusted proxy, and then only the entry that
  // proxy appended (maxIpsCount 1): a client cannot pick its rate-limit bucket by prepending one.
  // Koa 3's `compose` option (not in @types/koa 2): a request whose middleware all finished
  // synchronously (GET /api/ping) then costs Koa no promise of its own (pipeline/compose.ts).
  const options = { proxy: config.TRUST_PROXY, maxIpsCount: 1, compose: composeSettling };
  const app = new Koa<AppState>(options);
  directContextAccessors(app.context); // ctx.method, ctx.status, ctx.set() … as plain property reads (same behaviour)
  directForwardedFacts(app.request); // ctx.ip and ctx.protocol cut from the forwarded headers without splitting them (same answers)
  app.silent = true; // errors are rendered and logged by our own middleware, never by Koa's default
  app.on('error', (err: Error) => log.logger.error('unhandled koa error', { error: { name: err.name, message: err.message } }));

  const { limiters, auth } = deps;
  const router = new Router<AppState>();
  cacheRouteMatches(router); // recent method + path → layers answers (the router tests every route's pattern otherwise)
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
    extraChecks: Object.assign({}, deps.healthChecks, ...deps.modules.map((m) => m.healthChecks ?? {})),
    migrations: deps.migrations,
  });
  registerInfoRoutes(router, { db: deps.db, version: config.APP_VERSION });
  registerAuditRoutes(router, { db: deps.db, audit: deps.audit, guard: deps.staffGuard });
  for (const m of deps.modules) m.registerRoutes?.(router);
  registerDocsRoutes(router, serviceDocument()); // /openapi.json, /openapi.yaml, /docs
  routers.set(app, router);
  const anomaly = createAnomalyDetector({
    mode: config.ANOMALY_MODE,
    bodyScanBytes: config.ANOMALY_BODY_SCAN_BYTES,
    logger: log.logger,
    instruments,
    audit: deps.audit,
    router,
  });

  app.use(
    // One middleware, one step per job, in the order a request meets them (src/platform/pipeline)
    pipeline([
      requestSpan({ instruments, slowRequestMs: config.SLOW_REQUEST_MS }), // trace, request id, duration: everything below runs in its span
      auditJournalWait(deps.audit), // answer only once this request's audit events are journaled
      accessLog({ logger: log.logger, slowRequestMs: config.SLOW_REQUEST_MS, logFastSuccess: config.ACCESS_LOG === 'all' }), // one line per request
      countLoginAttempts(router, instruments), // every login attempt by route and outcome, before any limiter answers
      errorEnvelope({ instruments, production: config.NODE_ENV === 'production' }), // one error shape
      routeOnMethodNotAllowed(router), // a 405 still names its route template (on the way out, before the envelope renders it)
      securityHeaders({ hstsPreload: config.HSTS_PRELOAD }), // helmet values + Permissions-Policy, on every response
      ...(config.NODE_ENV === 'production' && config.PUBLIC_BASE_URL ? [httpsRedirect(config.PUBLIC_BASE_URL)] : []), // 308 to PUBLIC_BASE_URL
      corsPolicy(config.CORS_ORIGINS), // allowlisted origins only
      auth.claim, // a validly signed token's tenant, for audit events only (refuses nothing)
      anomaly.requestScan, // path, query, headers, missing UA, 413 on the way out (monitor: flag; block: 403)
      requestTimeout(config.REQUEST_TIMEOUT_MS), // 504 past the deadline, around everything below
      parseBody(config.BODY_LIMIT_BYTES), // bounded JSON and form bodies
      boundBodyShape(), // 400 past 32 levels or 10,000 fields, before anything recurses
      refuseUnstorableInput(), // 400 for NUL, lone surrogates, invalid UTF-8 (webhooks sanitise instead)
      rejectPrototypeKeys(), // 400 for __proto__/constructor/prototype keys anywhere in a body
      anomaly.bodyScan, // string values of JSON and form bodies, bounded by ANOMALY_BODY_SCAN_BYTES
      auth.identify, // token AND session verified: the tenant is known (refuses nothing)
      guardStep('api rate limit', limitApiPaths(limiters.api)), // API budget for /api/* (per verified tenant, else per address)
    ]),
  );
  app.use(dispatchRoutes(router)); // the routes (route-level: validation, rate limits, guards), each route's chain composed once
  app.use(router.allowedMethods()); // 405 + Allow for known paths

  return app;
}
