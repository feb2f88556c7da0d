import { forOf, job, runbook, windowOf, type AlertRule, type RuleContext, type RuleGroup, type Severity, type Team } from './rule-types';
import type { Duration } from './slo-config';

interface AlertSpec {
  alert: string;
  expr: string;
  for: Duration;
  severity: Severity;
  team: Team;
  summary: string;
  description: string;
}

const build = (ctx: RuleContext, s: AlertSpec): AlertRule => ({
  alert: s.alert,
  expr: s.expr,
  for: forOf(ctx, s.for),
  labels: { severity: s.severity, team: s.team },
  annotations: { summary: s.summary, description: s.description, runbook_url: runbook(ctx, s.alert) },
});

const re = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\\\$&');

/**
 * p99 per route, each route against its own limit (otel/slo.yaml), every other route against the
 * default. One rule, `or`-ed per route: Prometheus lints same-name rules with equal labels as
 * duplicates, and one rule keeps one alert identity per route.
 */
function latencyAlert(ctx: RuleContext): AlertSpec {
  const a = ctx.config.alerts.latency_p99;
  const w = windowOf(ctx, a.window);
  const min = ctx.config.sli.min_request_rate;
  // Quantile over the alert window, straight from the buckets: the recorded p99 is fixed at 5m.
  const p99 = (routeSel: string, limit: number) =>
    `histogram_quantile(0.99, sum by (job, http_route, le) (rate(http_server_request_duration_seconds_bucket{${job(ctx)},${routeSel}}[${w}]))) > ${limit}`;
  const named = Object.entries(a.routes);
  const others = [ctx.config.sli.excluded_routes, ...named.map(([r]) => re(r))].join('|');
  const arms = [...named.map(([route, limit]) => p99(`http_route="${route}"`, limit)), p99(`http_route!~"${others}"`, a.default_seconds)];
  const limits = [...named.map(([r, l]) => `${r} ${l}s`), `others ${a.default_seconds}s`].join(', ');
  return {
    alert: 'CalyHighLatencyP99',
    expr:
      `(
  ${arms.join('\n  or ')}
)
` +
      `and on (job, http_route) sum by (job, http_route) (rate(http_server_request_duration_seconds_count{${job(ctx)},http_route!~"${ctx.config.sli.excluded_routes}"}[${w}])) > ${min}`,
    for: a.for,
    severity: 'ticket',
    team: 'sre',
    summary: 'p99 latency of {{ $labels.http_route }} is {{ $value | humanizeDuration }}',
    description: `The 99th percentile of {{ $labels.http_route }} on {{ $labels.job }} is {{ $value | humanizeDuration }} over ${w}, above its limit (${limits}).`,
  };
}

function specs(ctx: RuleContext): AlertSpec[] {
  const A = ctx.config.alerts;
  const J = job(ctx);
  const min = ctx.config.sli.min_request_rate;
  const excluded = ctx.config.sli.excluded_routes;
  const count = 'http_server_request_duration_seconds_count';
  const errW = windowOf(ctx, A.error_ratio.window);
  const anW = windowOf(ctx, A.security_anomaly_spike.window);
  const bfW = windowOf(ctx, A.login_brute_force.window);
  const whW = windowOf(ctx, A.webhook_auth_failures.window);
  const awW = windowOf(ctx, A.audit_write_failures.window);
  const sqW = windowOf(ctx, A.slow_queries.window);
  const tlW = windowOf(ctx, A.trace_spans_lost.window);
  const byRoute = (extra: string) => `sum by (job, http_route) (rate(${count}{${J},http_route!~"${excluded}"${extra}}[${errW}]))`;
  const pool = 'job, instance, db_client_connection_pool_name';
  return [
    latencyAlert(ctx),
    {
      alert: 'CalyHighErrorRatio',
      expr: `(\n  ${byRoute(',error_type!=""')}\n  / ${byRoute('')}\n) > ${A.error_ratio.ratio}\nand on (job, http_route) ${byRoute('')} > ${min}`,
      for: A.error_ratio.for,
      severity: 'page',
      team: 'sre',
      summary: '{{ $labels.http_route }} answers 5xx to {{ $value | humanizePercentage }} of requests',
      description: `More than ${A.error_ratio.ratio * 100}% of requests to {{ $labels.http_route }} on {{ $labels.job }} ended in a 5xx over ${errW}.`,
    },
    {
      alert: 'CalySecurityAnomalySpike',
      // A count, not a rate: a rate over 5m needed 60 findings before it crossed 0.2/s (about
      // 4.5 min into a burst) and a probe under 12 findings a minute never crossed it at all.
      expr: `sum by (job, kind) (increase(caly_security_anomalies_total{${J}}[${anW}])) >= ${A.security_anomaly_spike.min_findings}`,
      for: A.security_anomaly_spike.for,
      severity: 'ticket',
      team: 'security',
      summary: 'Spike of {{ $labels.kind }} anomalies',
      description: `{{ $labels.job }} flagged {{ $value | humanize }} {{ $labels.kind }} findings over ${anW} (alerting from ${A.security_anomaly_spike.min_findings}): someone is probing the API.`,
    },
    {
      // Counted before any limiter answers: once the attacker has spent the API budget, the API
      // limiter refuses its attempts and the login limiters never see them; this count still does.
      alert: 'CalyLoginBruteForce',
      expr: `sum by (job, http_route) (rate(caly_auth_login_attempts_total{${J},outcome=~"failure|rate_limited"}[${bfW}])) > ${A.login_brute_force.rate_per_second}`,
      for: A.login_brute_force.for,
      severity: 'page',
      team: 'security',
      summary: 'Login brute force on {{ $labels.http_route }}',
      description: `{{ $labels.http_route }} on {{ $labels.job }} sees {{ $value | humanize }} failed or rate-limited login attempts per second over ${bfW} (limit ${A.login_brute_force.rate_per_second}/s).`,
    },
    {
      alert: 'CalyWebhookAuthFailures',
      expr: `sum by (job, http_route) (rate(caly_errors_total{${J},caly_error_code="AUTHENTICATION_ERROR",http_route=~"/webhooks/.*"}[${whW}])) > ${A.webhook_auth_failures.rate_per_second}`,
      for: A.webhook_auth_failures.for,
      severity: 'ticket',
      team: 'security',
      summary: 'Webhook {{ $labels.http_route }} rejects unauthenticated calls',
      description: `{{ $labels.http_route }} on {{ $labels.job }} answers {{ $value | humanize }} authentication failures per second over ${whW}: a forged caller or a rotated Exotel secret.`,
    },
    {
      alert: 'CalyAuditBacklogHigh',
      expr: `max by (job, instance) (caly_audit_backlog{${J}}) > ${A.audit_backlog.max_events}`,
      for: A.audit_backlog.for,
      severity: 'ticket',
      team: 'sre',
      summary: 'Audit backlog on {{ $labels.instance }} is {{ $value }} events',
      description: `{{ $labels.instance }} holds more than ${A.audit_backlog.max_events} audit events not yet stored in PostgreSQL.`,
    },
    {
      alert: 'CalyAuditWriteFailures',
      expr: `sum by (job, instance) (increase(caly_audit_write_failures_total{${J}}[${awW}])) > ${A.audit_write_failures.max_failures}`,
      for: A.audit_write_failures.for,
      severity: 'page',
      team: 'sre',
      summary: 'Audit batches fail to store on {{ $labels.instance }}',
      description: `{{ $value | humanize }} audit batch writes failed on {{ $labels.instance }} over ${awW}; events stay journaled but the trail is not being stored.`,
    },
    {
      alert: 'CalyDbPoolSaturated',
      expr:
        `(\n  sum by (${pool}) (db_client_connection_count{${J},db_client_connection_state="used"})\n` +
        `  / sum by (${pool}) (db_client_connection_max{${J}})\n) >= ${A.db_pool_saturation.ratio}\n` +
        `or sum by (${pool}) (db_client_connection_pending_requests{${J}}) > 0`,
      for: A.db_pool_saturation.for,
      severity: 'page',
      team: 'sre',
      summary: 'Database pool on {{ $labels.instance }} is saturated',
      description: `Pool {{ $labels.db_client_connection_pool_name }} on {{ $labels.instance }} has at least ${A.db_pool_saturation.ratio * 100}% of its connections in use or callers waiting for one (value {{ $value | humanize }}).`,
    },
    {
      alert: 'CalySlowQueries',
      expr: `sum by (job, instance, db_operation_name) (rate(caly_db_slow_queries_total{${J}}[${sqW}])) > ${A.slow_queries.rate_per_second}`,
      for: A.slow_queries.for,
      severity: 'ticket',
      team: 'sre',
      summary: 'Slow {{ $labels.db_operation_name }} queries on {{ $labels.instance }}',
      description: `{{ $value | humanize }} {{ $labels.db_operation_name }} queries per second exceed SLOW_QUERY_MS on {{ $labels.instance }} over ${sqW}.`,
    },
    {
      alert: 'CalyEventLoopDelayHigh',
      expr: `max by (job, instance) (nodejs_eventloop_delay_p99_seconds{${J}}) > ${A.event_loop_delay.p99_seconds}`,
      for: A.event_loop_delay.for,
      severity: 'ticket',
      team: 'sre',
      summary: 'Event loop of {{ $labels.instance }} is blocked',
      description: `The event-loop delay p99 on {{ $labels.instance }} is {{ $value | humanizeDuration }} (limit ${A.event_loop_delay.p99_seconds}s): every request on it waits that long.`,
    },
    {
      alert: 'CalyServiceDown',
      expr: `up{${J}} == 0`,
      for: A.service_down.for,
      severity: 'page',
      team: 'sre',
      summary: '{{ $labels.instance }} is down',
      description:
        'Prometheus cannot scrape {{ $labels.instance }} of {{ $labels.job }}. Alertmanager silences the other alerts of that instance while this fires.',
    },
    {
      // Two ways a span never reaches the collector: the batch queue was full (dropped before
      // export) or the export itself failed after its retries.
      alert: 'CalyTraceSpansDropped',
      expr:
        `sum by (job, instance) (rate(otel_sdk_processor_span_processed_total{${J},error_type="queue_full"}[${tlW}])) > ${A.trace_spans_lost.rate_per_second}\n` +
        `or sum by (job, instance) (rate(otel_sdk_exporter_span_exported_total{${J},error_type!=""}[${tlW}])) > ${A.trace_spans_lost.rate_per_second}`,
      for: A.trace_spans_lost.for,
      severity: 'ticket',
      team: 'sre',
      summary: 'Traces of {{ $labels.instance }} are losing spans',
      description: `{{ $labels.instance }} loses {{ $value | humanize }} spans per second over ${tlW} (queue full or failed exports): traces are incomplete and request ids may lead nowhere.`,
    },
    {
      // The gauge's own `severity` label would collide with the routing label: copy it aside.
      alert: 'CalyDependencyVulnerabilities',
      expr:
        `max by (job, vulnerability_severity) (\n  label_replace(caly_dependency_vulnerabilities{${J},severity=~"${A.dependency_vulnerabilities.severities.join('|')}"}, ` +
        `"vulnerability_severity", "$1", "severity", "(.+)")\n) > 0`,
      for: A.dependency_vulnerabilities.for,
      severity: 'ticket',
      team: 'security',
      summary: '{{ $value }} {{ $labels.vulnerability_severity }} vulnerabilities in dependencies',
      description: 'The last dependency scan of {{ $labels.job }} found {{ $value }} {{ $labels.vulnerability_severity }} vulnerabilities.',
    },
  ];
}

/** otel/prometheus/rules/alerts.yml */
export function alertGroups(ctx: RuleContext): RuleGroup[] {
  const interval = ctx.profile.evaluation_interval ? { interval: ctx.profile.evaluation_interval } : {};
  return [{ name: 'caly-api.alerts', ...interval, rules: specs(ctx).map((s) => build(ctx, s)) }];
}
