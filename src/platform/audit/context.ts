import type { Next } from 'koa';
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
 * that an answered request's events survive a crash. Costs one microtask check when the request
 * emitted nothing; otherwise the wait for this turn's grouped journal write (bench/README.md).
 */
export function auditJournalWait(audit: AuditSink) {
  const { emittedCount, flushJournal } = audit;
  if (!emittedCount || !flushJournal) {
    return function auditJournalWaitMiddleware(_ctx: AppContext, next: Next): Promise<void> {
      return next();
    };
  }
  // A continuation of next() rather than an async try/finally (fewer promises per request); the
  // same outcome: the flush is awaited on success and on error, and a failing flush wins.
  return function auditJournalWaitMiddleware(_ctx: AppContext, next: Next): Promise<void> {
    const before = emittedCount.call(audit);
    const settle = (): Promise<void> | undefined => (emittedCount.call(audit) !== before ? flushJournal.call(audit) : undefined);
    return next().then(settle, (err: unknown) => {
      const flushing = settle();
      if (flushing === undefined) throw err;
      return flushing.then(() => {
        throw err;
      });
    });
  };
}
