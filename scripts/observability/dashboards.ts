import { dashboard, type DashboardSpec } from './dashboard-kit';

/*
 * The four Caly API dashboards. Queries use only names /metrics serves (otel/metrics.md) and the
 * recording rules of otel/prometheus/rules; `$__rate_interval` everywhere a rate is taken.
 * test/observability-e2e.test.ts runs every query against a real Prometheus after traffic.
 */
const J = 'job="$job"';
const RI = '$__rate_interval';

const overview: DashboardSpec = {
  uid: 'caly-overview',
  title: 'Caly API / Service overview',
  description: 'RED per route, latency quantiles, error ratio, SLO burn and remaining error budget.',
  panels: [
    {
      title: 'Error budget remaining (30d)',
      description: 'slo:period_error_budget_remaining:ratio per SLO (1 = untouched, 0 = spent).',
      unit: 'percentunit',
      kind: 'stat',
      w: 8,
      queries: [{ expr: `slo:period_error_budget_remaining:ratio{${J}}`, legend: '{{slo}}' }],
    },
    {
      title: 'Availability (5m, probes excluded)',
      description: 'Share of non-5xx requests.',
      unit: 'percentunit',
      kind: 'stat',
      w: 8,
      queries: [{ expr: `1 - slo:sli_error:ratio_rate5m{${J},slo="availability"}`, legend: 'availability' }],
    },
    { title: 'Replicas up', description: 'Scraped replicas answering.', unit: 'none', kind: 'stat', w: 8, queries: [{ expr: `sum(up{${J}})`, legend: 'up' }] },
    {
      title: 'Request rate per route',
      description: 'Requests per second by route template (unmatched requests have no route).',
      unit: 'reqps',
      queries: [{ expr: `sum by (http_route) (rate(http_server_request_duration_seconds_count{${J}}[${RI}]))`, legend: '{{http_route}}' }],
    },
    {
      title: 'Error ratio per route (5xx)',
      description: 'job_route:http_server_errors:ratio_rate5m.',
      unit: 'percentunit',
      queries: [{ expr: `job_route:http_server_errors:ratio_rate5m{${J}}`, legend: '{{http_route}}' }],
    },
    {
      title: 'Latency p50 / p95 / p99 per route',
      description: 'Recorded quantiles over 5m (interpolated inside buckets).',
      unit: 's',
      w: 24,
      queries: [
        { expr: `job_route:http_server_request_duration:p50_5m{${J}}`, legend: 'p50 {{http_route}}' },
        { expr: `job_route:http_server_request_duration:p95_5m{${J}}`, legend: 'p95 {{http_route}}' },
        { expr: `job_route:http_server_request_duration:p99_5m{${J}}`, legend: 'p99 {{http_route}}' },
      ],
    },
    {
      title: 'Service latency p50 / p95 / p99',
      description: 'All routes but probes.',
      unit: 's',
      queries: [
        { expr: `job:http_server_request_duration:p50_5m{${J}}`, legend: 'p50' },
        { expr: `job:http_server_request_duration:p95_5m{${J}}`, legend: 'p95' },
        { expr: `job:http_server_request_duration:p99_5m{${J}}`, legend: 'p99' },
      ],
    },
    {
      title: 'Errors by code',
      description: 'Error responses by envelope code.',
      unit: 'reqps',
      queries: [
        {
          expr: `sum by (caly_error_code, http_response_status_code) (rate(caly_errors_total{${J}}[${RI}]))`,
          legend: '{{caly_error_code}} ({{http_response_status_code}})',
        },
      ],
    },
    {
      title: 'SLO burn rate (1h)',
      description: 'How fast each SLO spends its budget: 1 = exactly on budget, 14.4 = the paging rate.',
      unit: 'none',
      queries: [{ expr: `slo:current_burn_rate:ratio{${J}}`, legend: '{{slo}}' }],
    },
    {
      title: 'Slow requests per route',
      description: 'Requests over SLOW_REQUEST_MS.',
      unit: 'reqps',
      queries: [{ expr: `sum by (http_route) (rate(caly_http_slow_requests_total{${J}}[${RI}]))`, legend: '{{http_route}}' }],
    },
  ],
};

const security: DashboardSpec = {
  uid: 'caly-security',
  title: 'Caly API / Security',
  description: 'Anomalies, rate limiting, login and webhook authentication failures, audit security events, dependency vulnerabilities.',
  panels: [
    {
      title: 'Anomalies by kind',
      description: 'Scanner findings per second (sql_injection, xss, …).',
      unit: 'ops',
      queries: [{ expr: `sum by (kind) (rate(caly_security_anomalies_total{${J}}[${RI}]))`, legend: '{{kind}}' }],
    },
    {
      title: 'Anomalies by route',
      description: 'Where the probes land.',
      unit: 'ops',
      queries: [{ expr: `sum by (http_route, kind) (rate(caly_security_anomalies_total{${J}}[${RI}]))`, legend: '{{http_route}} {{kind}}' }],
    },
    {
      title: 'Rate-limit rejections by limiter',
      description: 'login_email, login_ip, api, webhook, upload.',
      unit: 'reqps',
      queries: [{ expr: `sum by (limiter) (rate(caly_ratelimit_rejections_total{${J}}[${RI}]))`, legend: '{{limiter}}' }],
    },
    {
      title: 'Login failures',
      description: 'Login attempts by outcome (failure = wrong credentials, rate_limited = refused by any limiter), counted before any limiter answers.',
      unit: 'reqps',
      queries: [{ expr: `sum by (http_route, outcome) (rate(caly_auth_login_attempts_total{${J}}[${RI}]))`, legend: '{{http_route}} {{outcome}}' }],
    },
    {
      title: 'Webhook authentication failures',
      description: 'Exotel webhook calls refused (401) by route.',
      unit: 'reqps',
      queries: [
        {
          expr: `sum by (http_route) (rate(caly_errors_total{${J},caly_error_code="AUTHENTICATION_ERROR",http_route=~"/webhooks/.*"}[${RI}]))`,
          legend: '{{http_route}}',
        },
      ],
    },
    {
      title: 'Audit security events',
      description: 'SECURITY_VIOLATION, RATE_LIMIT_EXCEEDED, ACCESS_DENIED and LOGIN_FAILURE audit events.',
      unit: 'ops',
      queries: [
        {
          expr: `sum by (event_type, outcome) (rate(caly_audit_events_total{${J},event_type=~"SECURITY_VIOLATION|RATE_LIMIT_EXCEEDED|ACCESS_DENIED|LOGIN_FAILURE"}[${RI}]))`,
          legend: '{{event_type}} {{outcome}}',
        },
      ],
    },
    {
      title: 'Dependency vulnerabilities',
      description: 'From the last successful dependency scan, by severity.',
      unit: 'none',
      kind: 'stat',
      w: 24,
      queries: [{ expr: `max by (severity) (caly_dependency_vulnerabilities{${J}})`, legend: '{{severity}}' }],
    },
  ],
};

const database: DashboardSpec = {
  uid: 'caly-database',
  title: 'Caly API / Database',
  description: 'PostgreSQL pool usage and waiters, query duration, slow queries, audit backlog.',
  panels: [
    {
      title: 'Pool connections',
      description: 'Used and idle connections per replica, against DB_POOL_MAX.',
      unit: 'none',
      queries: [
        { expr: `sum by (instance, db_client_connection_state) (db_client_connection_count{${J}})`, legend: '{{instance}} {{db_client_connection_state}}' },
        { expr: `sum by (instance) (db_client_connection_max{${J}})`, legend: '{{instance}} max' },
      ],
    },
    {
      title: 'Pool waiters',
      description: 'Callers waiting for a connection.',
      unit: 'none',
      queries: [{ expr: `sum by (instance) (db_client_connection_pending_requests{${J}})`, legend: '{{instance}}' }],
    },
    {
      title: 'Query duration p99 by operation',
      description: 'From db_client_operation_duration_seconds.',
      unit: 's',
      queries: [
        {
          expr: `histogram_quantile(0.99, sum by (le, db_operation_name) (rate(db_client_operation_duration_seconds_bucket{${J}}[${RI}])))`,
          legend: '{{db_operation_name}}',
        },
      ],
    },
    {
      title: 'Query rate by operation',
      description: 'Queries per second.',
      unit: 'ops',
      queries: [{ expr: `sum by (db_operation_name) (rate(db_client_operation_duration_seconds_count{${J}}[${RI}]))`, legend: '{{db_operation_name}}' }],
    },
    {
      title: 'Slow queries',
      description: 'Queries over SLOW_QUERY_MS per second.',
      unit: 'ops',
      queries: [{ expr: `sum by (db_operation_name) (rate(caly_db_slow_queries_total{${J}}[${RI}]))`, legend: '{{db_operation_name}}' }],
    },
    {
      title: 'Audit backlog and write failures',
      description: 'Audit events accepted but not stored yet, and failed batch writes.',
      unit: 'none',
      queries: [
        { expr: `sum by (instance) (caly_audit_backlog{${J}})`, legend: '{{instance}} backlog' },
        { expr: `sum by (instance) (increase(caly_audit_write_failures_total{${J}}[${RI}]))`, legend: '{{instance}} write failures' },
      ],
    },
  ],
};

const runtime: DashboardSpec = {
  uid: 'caly-runtime',
  title: 'Caly API / Runtime',
  description: 'Node.js event loop, heap and garbage collection per replica; the trace pipeline (spans queued, exported, lost).',
  panels: [
    {
      title: 'Event-loop delay',
      description: 'p50 / p99 / max of the event-loop delay.',
      unit: 's',
      queries: [
        { expr: `max by (instance) (nodejs_eventloop_delay_p50_seconds{${J}})`, legend: '{{instance}} p50' },
        { expr: `max by (instance) (nodejs_eventloop_delay_p99_seconds{${J}})`, legend: '{{instance}} p99' },
        { expr: `max by (instance) (nodejs_eventloop_delay_max_seconds{${J}})`, legend: '{{instance}} max' },
      ],
    },
    {
      title: 'Event-loop utilization',
      description: 'Share of time the loop is busy.',
      unit: 'percentunit',
      queries: [{ expr: `max by (instance) (nodejs_eventloop_utilization_ratio{${J}})`, legend: '{{instance}}' }],
    },
    {
      title: 'Heap used by space',
      description: 'V8 heap used per space.',
      unit: 'bytes',
      queries: [{ expr: `sum by (instance, v8js_heap_space_name) (v8js_memory_heap_used_bytes{${J}})`, legend: '{{instance}} {{v8js_heap_space_name}}' }],
    },
    {
      title: 'GC time',
      description: 'Seconds per second spent in garbage collection, by type.',
      unit: 'percentunit',
      queries: [{ expr: `sum by (instance, v8js_gc_type) (rate(v8js_gc_duration_seconds_sum{${J}}[${RI}]))`, legend: '{{instance}} {{v8js_gc_type}}' }],
    },
    {
      title: 'Trace spans processed and exported',
      description: 'Spans leaving the batch processor and the OTLP exporter per second; an error_type (queue_full, or the export error) is a lost span.',
      unit: 'ops',
      queries: [
        { expr: `sum by (instance, error_type) (rate(otel_sdk_processor_span_processed_total{${J}}[${RI}]))`, legend: '{{instance}} processed {{error_type}}' },
        { expr: `sum by (instance, error_type) (rate(otel_sdk_exporter_span_exported_total{${J}}[${RI}]))`, legend: '{{instance}} exported {{error_type}}' },
      ],
    },
    {
      title: 'Span queue',
      description: 'Spans waiting in the batch processor, against its capacity (OTEL_BSP_MAX_QUEUE_SIZE).',
      unit: 'none',
      queries: [
        { expr: `max by (instance) (otel_sdk_processor_span_queue_size{${J}})`, legend: '{{instance}} queued' },
        { expr: `max by (instance) (otel_sdk_processor_span_queue_capacity{${J}})`, legend: '{{instance}} capacity' },
      ],
    },
  ],
};

export const DASHBOARDS = [overview, security, database, runtime].map(dashboard);
export const DASHBOARD_FILES: Record<string, ReturnType<typeof dashboard>> = {
  'service-overview.json': DASHBOARDS[0]!,
  'security.json': DASHBOARDS[1]!,
  'database.json': DASHBOARDS[2]!,
  'runtime.json': DASHBOARDS[3]!,
};
