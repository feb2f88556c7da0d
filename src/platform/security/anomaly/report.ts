import type { AuditSink } from '../../audit/catalogue';
import type { AppContext } from '../../context/state';
import type { Logger } from '../../logging/logger';
import type { Instruments } from '../../telemetry/instruments';
import type { Finding } from './kinds';
import { auditFromCtx } from '../../audit/context';

export type Action = 'flagged' | 'blocked';

export interface ReporterDeps {
  logger: Logger;
  instruments: Instruments;
  audit: AuditSink;
}

export type Report = (ctx: AppContext, findings: readonly Finding[], route: string | undefined, action: Action) => void;

/**
 * Makes each finding visible four ways: a metric by kind and route, a `security.anomaly` span
 * event, a warn log line with the request id, and an audit event. None of them carries the
 * offending value: only kind, rule id and location. The audit event is never dropped here: a flood
 * from an anonymous source is held back and summarised by the audit trail's throttle (one
 * AUDIT_SUMMARY row per source and type), and events naming a tenant or user are never throttled.
 */
export function createReporter(deps: ReporterDeps): Report {
  const { logger, instruments, audit } = deps;
  return function report(ctx, findings, route, action) {
    const { requestId, span } = ctx.state;
    const clientIp = ctx.ip;
    for (const f of findings) {
      instruments.securityAnomalies.add(1, route === undefined ? { kind: f.kind } : { kind: f.kind, 'http.route': route });
      span?.addEvent('security.anomaly', {
        'caly.anomaly.kind': f.kind,
        'caly.anomaly.rule': f.rule,
        'caly.anomaly.location': f.location,
        'caly.anomaly.action': action,
      });
      logger.warn('security anomaly', {
        request_id: requestId,
        kind: f.kind,
        rule: f.rule,
        location: f.location,
        route,
        action,
        client_ip: clientIp,
      });
      audit.emit(
        {
          type: 'SECURITY_VIOLATION',
          outcome: 'SECURITY_ALERT',
          description: `Security anomaly ${f.kind} (${f.rule}) in ${f.location}, request ${action}`,
          metadata: { kind: f.kind, rule: f.rule, location: f.location, route: route ?? null, action },
        },
        // Names the tenant a validly signed token claims, when there is one: its admins see attacks on it.
        auditFromCtx(ctx),
      );
    }
  };
}
