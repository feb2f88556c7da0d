import { job, type RecordingRule, type RuleContext, type RuleGroup } from './rule-types';

const COUNT = 'http_server_request_duration_seconds_count';
const BUCKET = 'http_server_request_duration_seconds_bucket';
const QUANTILES = [
  ['p50', 0.5],
  ['p95', 0.95],
  ['p99', 0.99],
] as const;

/**
 * RED per level: request rate, 5xx ratio and p50/p95/p99 over 5m. `by` is the aggregation level
 * (per route, per service) and names the rule's level prefix.
 */
function red(level: 'job_route' | 'job', by: string, selector: string): RecordingRule[] {
  const rate = (extra = '') => `sum by (${by}) (rate(${COUNT}{${selector}${extra}}[5m]))`;
  return [
    { record: `${level}:http_server_requests:rate5m`, expr: rate() },
    {
      // `or 0 * total` keeps groups that had no error at all: a ratio of 0, not a missing series.
      record: `${level}:http_server_errors:ratio_rate5m`,
      expr: `(\n  ${rate(',error_type!=""')}\n  or 0 * ${rate()}\n)\n/ ${rate()}`,
    },
    ...QUANTILES.map(([name, q]) => ({
      record: `${level}:http_server_request_duration:${name}_5m`,
      expr: `histogram_quantile(${q}, sum by (${by}, le) (rate(${BUCKET}{${selector}}[5m])))`,
    })),
  ];
}

/** otel/prometheus/rules/recording.yml */
export function recordingGroups(ctx: RuleContext): RuleGroup[] {
  const interval = ctx.profile.evaluation_interval;
  const service = `${job(ctx)},http_route!~"${ctx.config.sli.excluded_routes}"`;
  return [
    // Every route, probes included: the dashboards show them; alerts filter them out.
    { name: 'caly-api.http.route', ...(interval ? { interval } : {}), rules: red('job_route', 'job, http_route', job(ctx)) },
    // The service as users see it: probes excluded, like the SLIs.
    { name: 'caly-api.http.service', ...(interval ? { interval } : {}), rules: red('job', 'job', service) },
  ];
}
