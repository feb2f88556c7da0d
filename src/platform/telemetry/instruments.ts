import type { Counter, Histogram, Meter, ObservableGauge } from '@opentelemetry/api';
import { DbDurationProducer } from './db-duration';
import type { HttpDurationProducer } from './http-duration';

/**
 * Every metric instrument the service creates, in one place. Names follow the OpenTelemetry
 * semantic conventions where one exists and the `caly.` namespace otherwise. `otel/metrics.md`
 * lists each one as Prometheus scrapes it, and test/metrics-golden.test.ts pins that list, so a
 * rename here fails the build before it silently breaks an alert or a dashboard.
 *
 * Metrics that instrumentations own (nodejs.*, v8js.*) are not created here. The db.client.* ones
 * are ours (the query wrapper in db/traced-client.ts, the pool gauges in pool-metrics.ts), under the
 * names, units and attributes @opentelemetry/instrumentation-pg gave them before it was dropped.
 * Attribute values must stay bounded: route templates, enum-like codes, never raw input.
 */

export type RouteAttr = { 'http.route'?: string };

/** How a login attempt ended: 2xx, 401, 429 (any limiter), other 4xx, 5xx. */
export type LoginOutcome = 'success' | 'failure' | 'rate_limited' | 'invalid' | 'error';

/** A value source for an observable gauge; concerns register theirs at startup. */
export type GaugeSource = () => number | Array<{ value: number; attributes: Record<string, string> }>;

export interface Instruments {
  // --- spine ---------------------------------------------------------------------------------
  /** http.server.request.duration: hand-kept for speed, see http-duration.ts */
  httpDuration: HttpDurationProducer;
  /**
   * Error responses by envelope code and route. The code is `caly.error.code` (as on the span),
   * never `error.type`: that is the semantic-convention status code / exception type elsewhere.
   */
  errors: Counter<{ 'caly.error.code': string; 'http.response.status_code': number } & RouteAttr>;
  /** Requests slower than SLOW_REQUEST_MS, by route. */
  slowRequests: Counter<{ 'http.request.method': string } & RouteAttr>;
  /** Slow requests since start, for /health/metrics (an OTel counter cannot be read back). */
  slowRequestCount(): number;
  /**
   * db.client.operation.duration: every query, by db.system.name, db.namespace, db.operation.name,
   * server.address, server.port, and error.type / db.response.status_code on failure. Hand-kept
   * for speed like httpDuration (db-duration.ts); recorded by db/traced-client.ts.
   */
  dbOperationDuration: DbDurationProducer;
  /** Queries slower than SLOW_QUERY_MS, by operation (SELECT, INSERT …). */
  slowQueries: Counter<{ 'db.operation.name': string }>;
  /** Requests Node's HTTP parser refused before the app saw them, by parser error code (HPE_*). */
  parserRejections: Counter<{ 'error.type': string; 'http.response.status_code': number }>;

  // --- security edge ---------------------------------------------------------------------------
  /** Requests a rate limiter rejected, by limiter name (login_email, login_ip, register, api, webhook, upload). */
  rateLimitRejections: Counter<{ limiter: string }>;
  /** Rate-limit store failures (Redis down) that made a limiter fall back to local memory. */
  rateLimitStoreFailures: Counter<{ limiter: string }>;
  /** Login attempts by route and outcome, whichever limiter (if any) answered. */
  loginAttempts: Counter<{ 'http.route': string; outcome: LoginOutcome }>;
  /** Security anomaly findings, by kind (sql_injection, xss, …) and route. */
  securityAnomalies: Counter<{ kind: string } & RouteAttr>;
  /** Requests blocked (403) by the anomaly detector in block mode. */
  securityBlocked: Counter<{ kind: string } & RouteAttr>;

  // --- audit trail -----------------------------------------------------------------------------
  /** Audit events emitted, by type, severity and outcome. */
  auditEvents: Counter<{ event_type: string; severity: string; outcome: string }>;
  /** Time to write one batch of audit events to PostgreSQL. */
  auditFlushDuration: Histogram<{ outcome: 'success' | 'failure' }>;
  /** Failed batch writes (each is retried; events stay journaled). */
  auditWriteFailures: Counter;
  /** Events dropped by back-pressure (backlog full), by reason. */
  auditDropped: Counter<{ reason: string }>;
  /** Anonymous events held back by the per-source throttle (each one is in an AUDIT_SUMMARY row), by type. */
  auditHeldBack: Counter<{ event_type: string }>;

  // --- Exotel webhooks -------------------------------------------------------------------------
  /** Exotel events the database refused, kept in webhook_dead_letters (each delivery counted), by kind. */
  webhookDeadLetters: Counter<{ kind: 'passthru' | 'status' }>;

  // --- dependency scanner ----------------------------------------------------------------------
  /** Failed dependency scans (audit could not run or parse). */
  dependencyScanFailures: Counter<{ reason: string }>;

  /**
   * Registers the value source of an observable gauge defined in GAUGES below. Gauges read state
   * owned by a concern (audit backlog, scan results), so the concern supplies the reader.
   */
  observe(gauge: GaugeName, source: GaugeSource): void;
}

/** Observable gauges: name, unit and meaning live here; the owning concern supplies the value. */
export const GAUGES = {
  auditBacklog: { name: 'caly.audit.backlog', unit: '{event}', description: 'Audit events accepted but not yet stored in PostgreSQL.' },
  auditJournalPending: { name: 'caly.audit.journal.pending', unit: '{event}', description: 'Audit events in the local journal not yet confirmed stored.' },
  dependencyVulnerabilities: {
    name: 'caly.dependency.vulnerabilities',
    unit: '{vulnerability}',
    description: 'Known vulnerabilities in dependencies, by severity, from the last successful scan.',
  },
  dependencyOutdated: {
    name: 'caly.dependency.outdated',
    unit: '{package}',
    description: 'Dependencies behind their latest version, from the last successful scan.',
  },
  dependencyLastScan: { name: 'caly.dependency.last_scan_timestamp', unit: 's', description: 'Unix time of the last successful dependency scan.' },
  // semantic-convention pool gauges (instrumentation-pg's names), read from the pool at scrape time (pool-metrics.ts)
  dbConnectionCount: {
    name: 'db.client.connection.count',
    unit: '{connection}',
    description: 'The number of connections that are currently in state described by the state attribute.',
  },
  dbConnectionPending: {
    name: 'db.client.connection.pending_requests',
    unit: '{connection}',
    description: 'The number of current pending requests for an open connection.',
  },
  dbConnectionMax: {
    name: 'db.client.connection.max',
    unit: '{connection}',
    description: 'The maximum number of open connections allowed.',
  },
} as const;
export type GaugeName = keyof typeof GAUGES;

export function createInstruments(meter: Meter, httpDuration: HttpDurationProducer, dbDuration = new DbDurationProducer()): Instruments {
  let slowTotal = 0;
  const slowCounter: Instruments['slowRequests'] = meter.createCounter('caly.http.slow_requests', {
    description: 'Requests that took longer than SLOW_REQUEST_MS.',
    unit: '{request}',
  });

  const sources = new Map<GaugeName, GaugeSource>();
  const gauges = new Map<GaugeName, ObservableGauge>();
  for (const [key, g] of Object.entries(GAUGES) as Array<[GaugeName, (typeof GAUGES)[GaugeName]]>) {
    const gauge = meter.createObservableGauge(g.name, { description: g.description, unit: g.unit });
    gauge.addCallback((result) => {
      const source = sources.get(key);
      if (!source) return;
      const v = source();
      if (typeof v === 'number') result.observe(v);
      else for (const p of v) result.observe(p.value, p.attributes);
    });
    gauges.set(key, gauge);
  }

  return {
    httpDuration,
    errors: meter.createCounter('caly.errors', { description: 'Error responses, by envelope error code.', unit: '{error}' }),
    slowRequests: {
      add(value, attributes) {
        slowTotal += value;
        slowCounter.add(value, attributes);
      },
    },
    slowRequestCount: () => slowTotal,
    parserRejections: meter.createCounter('caly.http.parser_rejections', {
      description: 'Requests the HTTP parser refused (oversized headers, malformed), by parser error code.',
      unit: '{request}',
    }),
    dbOperationDuration: dbDuration,
    slowQueries: meter.createCounter('caly.db.slow_queries', { description: 'Database queries that took longer than SLOW_QUERY_MS.', unit: '{query}' }),

    rateLimitRejections: meter.createCounter('caly.ratelimit.rejections', { description: 'Requests rejected by a rate limiter.', unit: '{request}' }),
    rateLimitStoreFailures: meter.createCounter('caly.ratelimit.store_failures', {
      description: 'Rate-limit store errors that made a limiter fall back to process memory.',
      unit: '{error}',
    }),
    loginAttempts: meter.createCounter('caly.auth.login.attempts', {
      description: 'Login attempts, by route and outcome, however they were limited.',
      unit: '{attempt}',
    }),
    securityAnomalies: meter.createCounter('caly.security.anomalies', { description: 'Security anomaly findings, by kind and route.', unit: '{finding}' }),
    securityBlocked: meter.createCounter('caly.security.blocked', {
      description: 'Requests refused by the anomaly detector in block mode.',
      unit: '{request}',
    }),

    auditEvents: meter.createCounter('caly.audit.events', { description: 'Audit events emitted, by type, severity and outcome.', unit: '{event}' }),
    auditFlushDuration: meter.createHistogram('caly.audit.flush.duration', {
      description: 'Time to store one batch of audit events.',
      unit: 's',
      advice: { explicitBucketBoundaries: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] },
    }),
    auditWriteFailures: meter.createCounter('caly.audit.write_failures', { description: 'Failed audit batch writes (retried).', unit: '{batch}' }),
    auditDropped: meter.createCounter('caly.audit.dropped', { description: 'Audit events dropped by back-pressure.', unit: '{event}' }),
    auditHeldBack: meter.createCounter('caly.audit.held_back', {
      description: 'Anonymous audit events held back by the per-source throttle and stored as counts in AUDIT_SUMMARY rows.',
      unit: '{event}',
    }),

    webhookDeadLetters: meter.createCounter('caly.webhook.dead_letters', {
      description: 'Exotel event deliveries the database refused, kept in the dead-letter table.',
      unit: '{event}',
    }),

    dependencyScanFailures: meter.createCounter('caly.dependency.scan_failures', { description: 'Dependency scans that could not complete.', unit: '{scan}' }),

    observe(name, source) {
      sources.set(name, source);
    },
  };
}
