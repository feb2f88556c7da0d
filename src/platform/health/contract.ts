import type { SchemaObject } from 'ajv';
import { declare, type ResponseDoc } from '../api/declaration';
import { arrayOf, dateTime, int, json, nullable, num, obj, str } from '../api/schemas';

const TAG = 'Health';
const status = (values: string[]): SchemaObject => ({ type: 'string', enum: values });
const check: SchemaObject = {
  type: 'object',
  required: ['status', 'responseTimeMs'],
  properties: { status: status(['healthy', 'degraded', 'unhealthy']), message: str, responseTimeMs: int },
};
const guarded = 'Needs `Authorization: Bearer <HEALTH_TOKEN>`, except from the same host when HEALTH_TOKEN is unset.';
const pool = { type: 'object', description: 'Connection pool: total, idle, used, waiting, max.' };
const both = (description: string, schema: SchemaObject): Record<number, ResponseDoc> => ({
  200: { description: `${description}: healthy or degraded`, content: json(schema) },
  503: { description: `${description}: unhealthy`, content: json(schema) },
});

export const liveRoute = declare({
  method: 'GET',
  path: '/health/live',
  tag: TAG,
  summary: 'Liveness: the process answers',
  security: [],
  limiters: [],
  responses: {
    200: { description: 'Alive', content: json(obj({ status: status(['healthy']), uptimeSeconds: int }), { status: 'healthy', uptimeSeconds: 42 }) },
  },
  errors: [],
});

export const readyRoute = declare({
  method: 'GET',
  path: '/health/ready',
  tag: TAG,
  summary: 'Readiness: database reachable, migrations applied, not shutting down',
  security: [],
  limiters: [],
  responses: both('Readiness', obj({ status: status(['healthy', 'unhealthy']), reasons: arrayOf(str) }, ['reasons'])),
  errors: [],
});

export const detailedRoute = declare({
  method: 'GET',
  path: '/health/detailed',
  tag: TAG,
  summary: 'Every check with its figures (operators)',
  description: guarded,
  security: ['healthToken'],
  limiters: [],
  responses: both(
    'Detailed health',
    obj({
      status: status(['healthy', 'degraded', 'unhealthy']),
      timestamp: dateTime,
      version: str,
      uptimeSeconds: int,
      checks: { type: 'object', additionalProperties: check },
    }),
  ),
  errors: ['AUTHENTICATION_ERROR'],
});

const ms = nullable(num);
export const healthMetricsRoute = declare({
  method: 'GET',
  path: '/health/metrics',
  tag: TAG,
  summary: 'Request figures since start (operators)',
  description: `${guarded} Prometheus scrapes the metrics port instead.`,
  security: ['healthToken'],
  limiters: [],
  responses: {
    200: {
      description: 'Figures',
      content: json(
        obj({
          status: status(['healthy']),
          timestamp: dateTime,
          uptimeSeconds: int,
          requests: obj({ count: int, errors5xx: int, errorRate: num, meanMs: ms, p50Ms: ms, p95Ms: ms, p99Ms: ms }),
          slowRequests: int,
          pool,
        }),
      ),
    },
  },
  errors: ['AUTHENTICATION_ERROR'],
});

export const HEALTH_ROUTES = [liveRoute, readyRoute, detailedRoute, healthMetricsRoute];
