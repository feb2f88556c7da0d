import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { ValidationError, type FieldError } from '../errors/app-error';
import { AUDIT_EVENT_TYPES, AUDIT_OUTCOMES, AUDIT_SEVERITIES } from './catalogue';

/*
 * Local query-string schemas for the audit API. src/validation (route-level validate()) is being
 * built concurrently; these move to it once it lands. Closed objects: an unknown or repeated
 * parameter is a 400, never silently ignored.
 */
const ajv = new Ajv({ allErrors: true, coerceTypes: true, useDefaults: true, strict: true });
addFormats.default(ajv, ['date-time']);

const id = { type: 'string', minLength: 1, maxLength: 200 } as const;

const listSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    type: { type: 'string', enum: [...AUDIT_EVENT_TYPES] },
    severity: { type: 'string', enum: [...AUDIT_SEVERITIES] },
    outcome: { type: 'string', enum: [...AUDIT_OUTCOMES] },
    userId: id,
    tenantId: id,
    resourceType: id,
    resourceId: id,
    from: { type: 'string', format: 'date-time' },
    to: { type: 'string', format: 'date-time' },
    limit: { type: 'integer', minimum: 1, maximum: 100, default: 50 },
    cursor: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' },
  },
} as const;

const statsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { days: { type: 'integer', minimum: 1, maximum: 3650, default: 30 } },
} as const;

const verifySchema = { type: 'object', additionalProperties: false, properties: {} } as const;

export interface ListQuery {
  type?: (typeof AUDIT_EVENT_TYPES)[number];
  severity?: (typeof AUDIT_SEVERITIES)[number];
  outcome?: (typeof AUDIT_OUTCOMES)[number];
  userId?: string;
  tenantId?: string;
  resourceType?: string;
  resourceId?: string;
  from?: string;
  to?: string;
  limit: number;
  cursor?: string;
}

function checker<T>(schema: object) {
  const check = ajv.compile(schema);
  return (query: Record<string, unknown>): T => {
    const value: Record<string, unknown> = { ...query }; // ctx.query is Koa's cached object: never mutate it
    if (check(value)) return value as T;
    const details: FieldError[] = (check.errors ?? []).slice(0, 20).map((e) => ({
      path: `/query${e.instancePath || (e.params.additionalProperty ? `/${String(e.params.additionalProperty)}` : '')}`,
      message: e.keyword === 'additionalProperties' ? 'is not a known parameter' : (e.message ?? 'is invalid'),
    }));
    throw new ValidationError('Invalid query parameters', details);
  };
}

/**
 * An RFC 3339 date-time as the UTC instant PostgreSQL will accept, or undefined. The format check
 * allows offsets up to ±23:59 and year 0000; timestamptz does not, and a value it rejects must be
 * a 400 here, not a database error later.
 */
export function toInstant(s: string): string | undefined {
  const ms = Date.parse(s);
  if (!Number.isFinite(ms)) return undefined;
  const iso = new Date(ms).toISOString();
  return /^(?!0000)\d{4}-/.test(iso) ? iso : undefined;
}

export const parseListQuery = checker<ListQuery>(listSchema);
export const parseStatsQuery = checker<{ days: number }>(statsSchema);
export const parseVerifyQuery = checker<Record<string, never>>(verifySchema);
