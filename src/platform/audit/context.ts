import type { Step } from '../pipeline';
import { type AppContext, callerTenant } from '../context/state';
import type { AuditRequestContext, AuditSink } from './catalogue';

/** The request facts an audit event carries, from what earlier middleware left on ctx. */
export function auditFromCtx(ctx: AppContext): AuditRequestContext {
  const out: AuditRequestContext = { requestId: ctx.state.requestId, clientIp: ctx.ip };
  const traceId = ctx.state.span?.spanContext().traceId;
  if (traceId) out.traceId = traceId;
  const ua = ctx.get('user-agent');
  if (ua) out.userAgent = ua;
  // The verified tenant, else the one a validly signed token claims: security events about a
  // tenant must reach its admins even when the session behind the token is gone.
  // The platform operator has no user id: its rows say 'admin-token' (docs/audit.md).
  const caller = ctx.state.caller;
  const tenantId = callerTenant(ctx.state) ?? ctx.state.claimedTenantId;
  const userId = caller?.kind === 'user' ? caller.userId : caller?.kind === 'platform' ? 'admin-token' : ctx.state.claimedUserId;
  if (tenantId) out.tenantId = tenantId;
  if (userId) out.userId = userId;
  return out;
}

/**
 * Holds the response until the audit events this request emitted are in the local journal, so
 * that an answered request's events survive a crash. Costs one counter read each way when the
 * request emitted nothing; otherwise the wait for this turn's grouped journal write
 * (bench/README.md). On the way out of an error as well; a failing flush wins.
 */
export function auditJournalWait(audit: AuditSink): Step {
  const { emittedCount, flushJournal } = audit;
  if (!emittedCount || !flushJournal) return { name: 'audit journal wait' };
  return {
    name: 'audit journal wait',
    before(ctx) {
      ctx.state.auditEmittedBefore = emittedCount.call(audit);
    },
    after(ctx) {
      return emittedCount.call(audit) !== ctx.state.auditEmittedBefore ? flushJournal.call(audit) : undefined;
    },
  };
}
