import { ValidationError } from '../errors/app-error';
import { compileInput } from '../validation';
import { AUDIT_EVENT_TYPES, AUDIT_OUTCOMES, AUDIT_SEVERITIES } from './catalogue';

/*
 * Query-string schemas of the audit API, checked by the shared validator (src/validation):
 * compiled once, integers converted only where the schema says so, closed objects, so an unknown
 * or repeated parameter is a 400, never silently ignored.
 */

const id = { type: 'string', minLength: 1, maxLength: 200 } as const;

export const listSchema = {
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

export const statsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { days: { type: 'integer', minimum: 1, maximum: 3650, default: 30 } },
} as const;

export const verifySchema = { type: 'object', additionalProperties: false, properties: {} } as const;

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
  const check = compileInput<{ query: T }>({ query: schema } as never);
  return (query: Readonly<Record<string, unknown>>): T => {
    const result = check({ query });
    if (!result.ok) throw new ValidationError('Invalid query parameters', result.errors);
    return result.input.query as T;
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
