import type { SchemaObject } from 'ajv';
import { declare } from '../api/declaration';
import { DATABASE, anyObject, arrayOf, bool, dateTime, int, json, nullable, obj, str } from '../api/schemas';
import { AUDIT_EVENT_TYPES, AUDIT_OUTCOMES, AUDIT_SEVERITIES } from './catalogue';
import { listSchema, statsSchema, verifySchema } from './query-schema';

const TAG = 'Audit logs';
const hex: SchemaObject = { type: 'string', pattern: '^[0-9a-f]+$' };
const errors = ['AUTHENTICATION_ERROR', 'AUTHORIZATION_ERROR', 'VALIDATION_ERROR', ...DATABASE] as const;

const entry = obj({
  id: str,
  seq: int,
  eventType: { type: 'string', enum: [...AUDIT_EVENT_TYPES] },
  eventId: str,
  occurredAt: dateTime,
  severity: { type: 'string', enum: [...AUDIT_SEVERITIES] },
  outcome: { type: 'string', enum: [...AUDIT_OUTCOMES] },
  tenantId: nullable(str),
  userId: nullable(str),
  clientIp: nullable(str),
  userAgent: nullable(str),
  requestId: nullable(str),
  traceId: nullable(str),
  resourceType: nullable(str),
  resourceId: nullable(str),
  description: str,
  changes: nullable(anyObject),
  metadata: nullable(anyObject),
  hash: hex,
});

export const listAuditRoute = declare({
  method: 'GET',
  path: '/api/audit-logs',
  tag: TAG,
  summary: 'Search the audit trail, newest first',
  description:
    'Tenant owners and admins see their own tenant (whatever `tenantId` says); the ADMIN_TOKEN operator sees every tenant. Every read is itself audited.',
  security: ['bearer', 'adminToken'],
  limiters: ['api'],
  query: listSchema as SchemaObject,
  responses: { 200: { description: 'A page of audit entries', content: json(obj({ data: arrayOf(entry), nextCursor: nullable(str) })) } },
  errors,
});

const counts: SchemaObject = { type: 'object', additionalProperties: { type: 'integer' } };

export const auditStatsRoute = declare({
  method: 'GET',
  path: '/api/audit-logs/stats',
  tag: TAG,
  summary: 'Counts by type, severity and outcome over the last days',
  security: ['adminToken'],
  limiters: ['api'],
  query: statsSchema as SchemaObject,
  responses: {
    200: { description: 'Counts', content: json(obj({ days: int, since: dateTime, total: int, byType: counts, bySeverity: counts, byOutcome: counts })) },
  },
  errors,
});

const broken = obj(
  {
    id: str,
    seq: int,
    reason: { type: 'string', enum: ['seq_gap', 'prev_hash_mismatch', 'hash_mismatch'] },
    expectedSeq: int,
    expectedHash: hex,
    storedHash: hex,
  },
  ['expectedSeq'],
);

export const auditVerifyRoute = declare({
  method: 'GET',
  path: '/api/audit-logs/verify',
  tag: TAG,
  summary: 'Verify the hash chain of the whole trail',
  security: ['adminToken'],
  limiters: ['api'],
  query: verifySchema as SchemaObject,
  responses: {
    200: {
      description: 'The first broken link, if any',
      content: json(
        obj({ ok: bool, checked: int, anchor: nullable(obj({ seq: int, hash: hex })), lastSeq: int, headHash: hex, firstBroken: nullable(broken) }),
      ),
    },
  },
  errors,
});

export const AUDIT_ROUTES = [listAuditRoute, auditStatsRoute, auditVerifyRoute];
