/**
 * The one typed catalogue of audit events: every type, its default severity, and the outcomes.
 * Severity defaults can be overridden per event at the call site (`severity` in AuditEventInput).
 */
export const AUDIT_EVENT_TYPES = [
  'LOGIN_SUCCESS',
  'LOGIN_FAILURE',
  'LOGOUT',
  'PASSWORD_CHANGE',
  'PASSWORD_RESET',
  'MFA_ENABLED',
  'MFA_DISABLED',
  'ACCESS_GRANTED',
  'ACCESS_DENIED',
  'PERMISSION_CHANGED',
  'DATA_ACCESSED',
  'DATA_CREATED',
  'DATA_UPDATED',
  'DATA_DELETED',
  'DATA_EXPORTED',
  'INTEGRATION_CONNECTED',
  'INTEGRATION_DISCONNECTED',
  'INTEGRATION_FAILED',
  'API_KEY_GENERATED',
  'API_KEY_REVOKED',
  'SETTINGS_CHANGED',
  'USER_SUSPENDED',
  'USER_DELETED',
  'ADMIN_ACTION',
  'ERROR_OCCURRED',
  'SECURITY_VIOLATION',
  'RATE_LIMIT_EXCEEDED',
  'SYSTEM_HEALTH_CHECK',
  'BACKUP_STARTED',
  'BACKUP_COMPLETED',
  'CALL_STARTED',
  'CALL_ENDED',
  'RECORDING_RECEIVED',
  'AUDIT_PURGED',
  'AUDIT_SUMMARY',
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

export const AUDIT_SEVERITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type AuditSeverity = (typeof AUDIT_SEVERITIES)[number];

export const AUDIT_OUTCOMES = ['SUCCESS', 'FAILURE', 'SECURITY_ALERT'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** Default severity per event type. LOW is for routine reads and system chatter. */
export const DEFAULT_SEVERITY: Readonly<Record<AuditEventType, AuditSeverity>> = {
  LOGIN_SUCCESS: 'MEDIUM',
  LOGIN_FAILURE: 'HIGH',
  LOGOUT: 'LOW',
  PASSWORD_CHANGE: 'HIGH',
  PASSWORD_RESET: 'HIGH',
  MFA_ENABLED: 'HIGH',
  MFA_DISABLED: 'CRITICAL',
  ACCESS_GRANTED: 'LOW',
  ACCESS_DENIED: 'HIGH',
  PERMISSION_CHANGED: 'HIGH',
  DATA_ACCESSED: 'LOW',
  DATA_CREATED: 'MEDIUM',
  DATA_UPDATED: 'MEDIUM',
  DATA_DELETED: 'HIGH',
  DATA_EXPORTED: 'HIGH',
  INTEGRATION_CONNECTED: 'MEDIUM',
  INTEGRATION_DISCONNECTED: 'MEDIUM',
  INTEGRATION_FAILED: 'HIGH',
  API_KEY_GENERATED: 'HIGH',
  API_KEY_REVOKED: 'HIGH',
  SETTINGS_CHANGED: 'MEDIUM',
  USER_SUSPENDED: 'HIGH',
  USER_DELETED: 'CRITICAL',
  ADMIN_ACTION: 'HIGH',
  ERROR_OCCURRED: 'MEDIUM',
  SECURITY_VIOLATION: 'CRITICAL',
  RATE_LIMIT_EXCEEDED: 'MEDIUM',
  SYSTEM_HEALTH_CHECK: 'LOW',
  BACKUP_STARTED: 'LOW',
  BACKUP_COMPLETED: 'LOW',
  CALL_STARTED: 'LOW',
  CALL_ENDED: 'LOW',
  RECORDING_RECEIVED: 'LOW',
  AUDIT_PURGED: 'HIGH',
  // Anonymous noise held back by the per-source throttle, one row per source and event type.
  AUDIT_SUMMARY: 'MEDIUM',
};

/** What a caller supplies; request context (ids, ip, user agent, trace) is filled in by the sink. */
export interface AuditEventInput {
  type: AuditEventType;
  outcome: AuditOutcome;
  severity?: AuditSeverity;
  description: string;
  tenantId?: string | null;
  userId?: string | null;
  resourceType?: string;
  resourceId?: string;
  /** Before/after values; redacted before storage. */
  changes?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
}

/** Request facts the sink attaches when an event is emitted inside a request. */
export interface AuditRequestContext {
  requestId?: string;
  traceId?: string;
  clientIp?: string;
  userAgent?: string;
  tenantId?: string;
  userId?: string;
}

/**
 * What every concern calls to record an audit event. `emit` never throws and never waits on
 * the database: durability is the sink's job (journal + batched writes).
 */
export interface AuditSink {
  emit(event: AuditEventInput, request?: AuditRequestContext): void;
  /** Durable sinks: events emitted so far (lets the request path skip the journal wait). */
  emittedCount?(): number;
  /** Durable sinks: resolves once every event emitted so far is in the local journal. */
  flushJournal?(): Promise<void>;
}

/** Used until the audit trail is wired in, and in tests of other concerns. */
export const noopAuditSink: AuditSink = { emit: () => undefined };
