import type { Duration } from './slo-config';
import { forOf, job, num, runbook, type AlertRule, type RecordingRule, type RuleContext, type RuleGroup, type Severity } from './rule-types';

const COUNT = 'http_server_request_duration_seconds_count';
const BUCKET = 'http_server_request_duration_seconds_bucket';

type SloName = 'availability' | 'latency';
const SLOS: SloName[] = ['availability', 'latency'];

/** Every window an SLI is needed over: the burn-rate pairs' short and long windows, plus 5m for the budget. */
function windows(ctx: RuleContext): Duration[] {
  const all = new Set<Duration>(['5m']);
  for (const sev of ['page', 'ticket'] as const) for (const w of ctx.config.burn_rate_alerts[sev].windows) all.add(w.short).add(w.long);
  const seconds = (d: Duration) => Number(d.slice(0, -1)) * { s: 1, m: 60, h: 3600, d: 86400 }[d.slice(-1) as 's' | 'm' | 'h' | 'd'];
  return [...all].sort((a, b) => seconds(a) - seconds(b));
}

/**
 * The bad-event ratio of one SLO over one window, as `bad / valid` with `or 0 * valid` so that a
 * window without a single bad event reads 0 (a series the budget can be computed from), not absent.
 */
function sliError(ctx: RuleContext, slo: SloName, w: Duration): string {
  const valid = `${job(ctx)},http_route!~"${ctx.config.sli.excluded_routes}"`;
  const total = `sum by (job) (rate(${COUNT}{${valid}}[${w}]))`;
  if (slo === 'availability') {
    // error_type is set on 5xx only: 4xx are the caller's fault and do not spend the budget.
    return `(\n  sum by (job) (rate(${COUNT}{${valid},error_type!=""}[${w}]))\n  or 0 * ${total}\n)\n/ ${total}`;
  }
  const le = ctx.config.slos.latency.threshold_seconds;
  return `1 - (\n  sum by (job) (rate(${BUCKET}{${valid},le="${le}"}[${w}]))\n  / ${total}\n)`;
}

/**
 * Bad events per second of one SLO over 5m: the numerator the period's ratio sums. `or 0 * total`
 * keeps a window without bad events a 0 (not absent); an idle window reads 0 / 0 requests.
 */
function sliBadRate(ctx: RuleContext, slo: SloName): string {
  const valid = `${job(ctx)},http_route!~"${ctx.config.sli.excluded_routes}"`;
  const total = `sum by (job) (rate(${COUNT}{${valid}}[5m]))`;
  if (slo === 'availability') return `sum by (job) (rate(${COUNT}{${valid},error_type!=""}[5m]))\nor 0 * ${total}`;
  const le = ctx.config.slos.latency.threshold_seconds;
  return `${total}\n- sum by (job) (rate(${BUCKET}{${valid},le="${le}"}[5m]))`;
}

function sliRules(ctx: RuleContext): RecordingRule[] {
  const rules: RecordingRule[] = SLOS.map((slo) => ({ record: 'slo:sli_bad_events:rate5m', expr: sliBadRate(ctx, slo), labels: { slo } }));
  for (const w of windows(ctx)) {
    rules.push({
      record: `job:slo_requests:rate${w}`,
      expr: `sum by (job) (rate(${COUNT}{${job(ctx)},http_route!~"${ctx.config.sli.excluded_routes}"}[${w}]))`,
    });
    for (const slo of SLOS) rules.push({ record: `slo:sli_error:ratio_rate${w}`, expr: sliError(ctx, slo, w), labels: { slo } });
  }
  return rules;
}

function budgetRules(ctx: RuleContext): RecordingRule[] {
  const { period } = ctx.config.slos;
  const rules: RecordingRule[] = [];
  for (const slo of SLOS) {
    const objective = ctx.config.slos[slo].objective;
    const labels = { job: ctx.config.job, slo };
    rules.push({ record: 'slo:objective:ratio', expr: `vector(${objective})`, labels });
    rules.push({ record: 'slo:error_budget:ratio', expr: `vector(${num(1 - objective)})`, labels });
  }
  return [
    ...rules,
    // The period's ratio is bad events / all requests over the period, from the recorded 5m rates
    // (one sample per evaluation on both sides, so the weights cancel). Not a mean of 5m ratios:
    // that weighs a quiet minute like a busy one, and one idle window (0 / 0) makes it NaN for the
    // whole period. A period without a single request has no ratio (absent), never NaN.
    {
      record: `slo:sli_error:ratio_rate${period}`,
      expr:
        `sum_over_time(slo:sli_bad_events:rate5m{${job(ctx)}}[${period}])\n` +
        `/ on (job) group_left () (sum_over_time(job:slo_requests:rate5m{${job(ctx)}}[${period}]) > 0)`,
    },
    { record: 'slo:current_burn_rate:ratio', expr: `slo:sli_error:ratio_rate1h{${job(ctx)}}\n/ on (job, slo) slo:error_budget:ratio{${job(ctx)}}` },
    {
      record: 'slo:period_error_budget_remaining:ratio',
      expr: `1 - slo:sli_error:ratio_rate${period}{${job(ctx)}}\n/ on (job, slo) slo:error_budget:ratio{${job(ctx)}}`,
    },
  ];
}

const ALERT_NAMES: Record<SloName, string> = { availability: 'CalyAvailabilityBudgetBurn', latency: 'CalyLatencyBudgetBurn' };

function burnAlert(ctx: RuleContext, slo: SloName, severity: Severity): AlertRule {
  const spec = ctx.config.burn_rate_alerts[severity];
  const budget = num(1 - ctx.config.slos[slo].objective);
  const sel = `{${job(ctx)},slo="${slo}"}`;
  const min = ctx.config.sli.min_request_rate;
  // (short AND long above factor × budget AND enough traffic) OR … for each window pair.
  const pairs = spec.windows.map(
    (w) =>
      `(\n    slo:sli_error:ratio_rate${w.short}${sel} > (${w.factor} * ${budget})\n` +
      `    and slo:sli_error:ratio_rate${w.long}${sel} > (${w.factor} * ${budget})\n` +
      `    and on (job) job:slo_requests:rate${w.long}{${job(ctx)}} > ${min}\n  )`,
  );
  const what = slo === 'availability' ? '5xx responses' : `requests slower than ${ctx.config.slos.latency.threshold_seconds}s`;
  const pace = spec.windows.map((w) => `${w.factor}x over ${w.long}/${w.short}`).join(' or ');
  const alert = ALERT_NAMES[slo];
  return {
    alert,
    expr: pairs.join('\n  or\n'),
    for: forOf(ctx, spec.for),
    labels: { severity, team: 'sre', slo },
    annotations: {
      summary: `${slo} SLO error budget burning fast (${severity})`,
      description:
        `{{ $labels.job }} is spending its ${slo} error budget (${ctx.config.slos[slo].objective * 100}% over ${ctx.config.slos.period}) ` +
        `at ${pace}: the share of ${what} is {{ $value | humanizePercentage }} over the short window.`,
      runbook_url: runbook(ctx, alert),
    },
  };
}

/** otel/prometheus/rules/slo.yml */
export function sloGroups(ctx: RuleContext): RuleGroup[] {
  const interval = ctx.profile.evaluation_interval ? { interval: ctx.profile.evaluation_interval } : {};
  // One group: its rules run in order at each evaluation, so the alerts read this round's SLIs.
  // Separate groups run concurrently and would read the previous round's (flaky rule tests).
  const alerts = SLOS.flatMap((slo) => [burnAlert(ctx, slo, 'page'), burnAlert(ctx, slo, 'ticket')]);
  return [{ name: 'caly-api.slo', ...interval, rules: [...sliRules(ctx), ...budgetRules(ctx), ...alerts] }];
}
