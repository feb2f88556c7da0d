import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';

/** otel/slo.yaml: the one place that holds SLOs, burn-rate windows and alert thresholds. */
export const SLO_CONFIG_PATH = resolve(__dirname, '..', '..', 'otel', 'slo.yaml');

/** A Prometheus duration such as `5m`, `1h`, `3d` (one unit: what rule names can carry). */
export type Duration = `${number}${'s' | 'm' | 'h' | 'd'}`;

export interface BurnWindow {
  long: Duration;
  short: Duration;
  factor: number;
}

export interface SloConfig {
  job: string;
  runbook_base_url: string;
  sli: { excluded_routes: string; min_request_rate: number };
  slos: {
    period: Duration;
    availability: { objective: number };
    latency: { objective: number; threshold_seconds: number };
  };
  burn_rate_alerts: Record<'page' | 'ticket', { for: Duration; windows: BurnWindow[] }>;
  alerts: {
    latency_p99: { default_seconds: number; routes: Record<string, number>; window: Duration; for: Duration };
    error_ratio: { ratio: number; window: Duration; for: Duration };
    security_anomaly_spike: { min_findings: number; window: Duration; for: Duration };
    login_brute_force: { rate_per_second: number; window: Duration; for: Duration };
    webhook_auth_failures: { rate_per_second: number; window: Duration; for: Duration };
    audit_backlog: { max_events: number; for: Duration };
    audit_write_failures: { max_failures: number; window: Duration; for: Duration };
    db_pool_saturation: { ratio: number; for: Duration };
    slow_queries: { rate_per_second: number; window: Duration; for: Duration };
    event_loop_delay: { p99_seconds: number; for: Duration };
    service_down: { for: Duration };
    trace_spans_lost: { rate_per_second: number; window: Duration; for: Duration };
    dependency_vulnerabilities: { severities: string[]; for: Duration };
  };
  profiles: Record<string, Profile>;
}

/** Overrides for a use other than production (the e2e test's real Prometheus). */
export interface Profile {
  evaluation_interval?: Duration;
  /** Replaces every alert's `for:`. */
  for?: Duration;
  /** Replaces the rate window of every threshold alert (not the SLO burn windows). */
  alert_window?: Duration;
}

const duration = { type: 'string', pattern: '^[0-9]+(s|m|h|d)$' } as const;
const ratio = { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 } as const;
const positive = { type: 'number', minimum: 0 } as const;
const thresholdAlert = (key: string, extra: Record<string, unknown> = {}) => ({
  type: 'object',
  required: [key, 'for', ...Object.keys(extra).filter((k) => k === 'window')],
  additionalProperties: false,
  properties: { [key]: positive, for: duration, ...extra },
});

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['job', 'runbook_base_url', 'sli', 'slos', 'burn_rate_alerts', 'alerts', 'profiles'],
  properties: {
    job: { type: 'string', pattern: '^[a-zA-Z_][a-zA-Z0-9_-]*$' },
    runbook_base_url: { type: 'string', pattern: '^https?://.+/docs/runbooks\\.md$' },
    sli: {
      type: 'object',
      additionalProperties: false,
      required: ['excluded_routes', 'min_request_rate'],
      properties: { excluded_routes: { type: 'string', minLength: 1 }, min_request_rate: positive },
    },
    slos: {
      type: 'object',
      additionalProperties: false,
      required: ['period', 'availability', 'latency'],
      properties: {
        period: duration,
        availability: { type: 'object', additionalProperties: false, required: ['objective'], properties: { objective: ratio } },
        latency: {
          type: 'object',
          additionalProperties: false,
          required: ['objective', 'threshold_seconds'],
          // Only bucket boundaries: histogram_quantile-free SLIs need an exact `le`.
          properties: { objective: ratio, threshold_seconds: { enum: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] } },
        },
      },
    },
    burn_rate_alerts: {
      type: 'object',
      additionalProperties: false,
      required: ['page', 'ticket'],
      patternProperties: {
        '^(page|ticket)$': {
          type: 'object',
          additionalProperties: false,
          required: ['for', 'windows'],
          properties: {
            for: duration,
            windows: {
              type: 'array',
              minItems: 1,
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['long', 'short', 'factor'],
                properties: { long: duration, short: duration, factor: { type: 'number', exclusiveMinimum: 0 } },
              },
            },
          },
        },
      },
    },
    alerts: {
      type: 'object',
      additionalProperties: false,
      required: [
        'latency_p99',
        'error_ratio',
        'security_anomaly_spike',
        'login_brute_force',
        'webhook_auth_failures',
        'audit_backlog',
        'audit_write_failures',
        'db_pool_saturation',
        'slow_queries',
        'event_loop_delay',
        'service_down',
        'dependency_vulnerabilities',
        'trace_spans_lost',
      ],
      properties: {
        latency_p99: {
          type: 'object',
          additionalProperties: false,
          required: ['default_seconds', 'routes', 'window', 'for'],
          properties: {
            default_seconds: positive,
            routes: { type: 'object', propertyNames: { pattern: '^/' }, additionalProperties: positive },
            window: duration,
            for: duration,
          },
        },
        error_ratio: thresholdAlert('ratio', { window: duration }),
        security_anomaly_spike: thresholdAlert('min_findings', { window: duration }),
        login_brute_force: thresholdAlert('rate_per_second', { window: duration }),
        webhook_auth_failures: thresholdAlert('rate_per_second', { window: duration }),
        audit_backlog: thresholdAlert('max_events'),
        audit_write_failures: thresholdAlert('max_failures', { window: duration }),
        db_pool_saturation: thresholdAlert('ratio'),
        slow_queries: thresholdAlert('rate_per_second', { window: duration }),
        event_loop_delay: thresholdAlert('p99_seconds'),
        trace_spans_lost: thresholdAlert('rate_per_second', { window: duration }),
        service_down: { type: 'object', additionalProperties: false, required: ['for'], properties: { for: duration } },
        dependency_vulnerabilities: {
          type: 'object',
          additionalProperties: false,
          required: ['severities', 'for'],
          properties: { severities: { type: 'array', minItems: 1, items: { enum: ['critical', 'high', 'moderate', 'low', 'info'] } }, for: duration },
        },
      },
    },
    profiles: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: { evaluation_interval: duration, for: duration, alert_window: duration },
      },
    },
  },
};

/** Reads and validates otel/slo.yaml; a typo fails here with the offending path, not as a silent rule. */
export function loadSloConfig(path = SLO_CONFIG_PATH): SloConfig {
  const data: unknown = parse(readFileSync(path, 'utf8'));
  const validate = new Ajv({ allErrors: true, strict: false }).compile<unknown>(schema);
  if (!validate(data)) {
    const errors = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
    throw new Error(`${path} is invalid: ${errors}`);
  }
  return data as SloConfig;
}
