import type Router from '@koa/router';
import type { Next } from 'koa';
import { route } from '../api/route';
import type { Database } from '../db/pool';
import { ValidationError } from '../errors/app-error';
import type { AppContext, AppState } from '../context/state';
import type { AuditSink } from './catalogue';
import { auditFromCtx } from './context';
import * as contract from './contract';
import { parseListQuery, parseStatsQuery, parseVerifyQuery, toInstant } from './query-schema';
import { auditStats, decodeAuditCursor, listAuditLogs, verifyChain } from './repository';

export interface AuditRoutesDeps {
  db: Database;
  audit: AuditSink;
  /**
   * Who may read the trail, from the auth module: `tenant` admits tenant owners/admins (pinned to
   * their tenant below) and the ADMIN_TOKEN platform role; `platform` admits the platform role only.
   */
  guard: (scope: 'tenant' | 'platform') => Array<(ctx: AppContext, next: Next) => Promise<void>>;
}

/**
 * The audit query API. The platform role sees every tenant (optionally filtered by tenantId);
 * tenant owners and admins are pinned to their tenant here, in the one place the filter is built.
 * Every read is itself audited as DATA_ACCESSED (LOW).
 */
export function registerAuditRoutes(router: Router<AppState>, deps: AuditRoutesDeps): void {
  const { db, audit } = deps;
  const guardFor = deps.guard;
  const accessed = (ctx: AppContext, what: string, metadata: Record<string, unknown>) =>
    audit.emit({ type: 'DATA_ACCESSED', outcome: 'SUCCESS', description: what, resourceType: 'audit_logs', metadata }, auditFromCtx(ctx));

  route(router, contract.listAuditRoute, ...guardFor('tenant'), async (ctx) => {
    const q = parseListQuery(ctx.query);
    const cursor = q.cursor === undefined ? undefined : decodeAuditCursor(q.cursor);
    const bad = (path: string, message: string) => new ValidationError('Invalid query parameters', [{ path, message }]);
    const from = q.from === undefined ? undefined : toInstant(q.from);
    const to = q.to === undefined ? undefined : toInstant(q.to);
    if (q.from !== undefined && !from) throw bad('/query/from', 'must be a date-time between years 0001 and 9999');
    if (q.to !== undefined && !to) throw bad('/query/to', 'must be a date-time between years 0001 and 9999');
    if (from && to && from > to) throw bad('/query/from', 'must not be after to');
    if (q.cursor !== undefined && !cursor) throw bad('/query/cursor', 'is not a cursor this API issued');
    const { cursor: _raw, ...given } = q;
    const filters = { ...given, ...(from ? { from } : {}), ...(to ? { to } : {}) };
    // A tenant owner/admin sees their own tenant's trail, whatever tenantId they ask for.
    const caller = ctx.state.caller;
    if (caller?.kind === 'user') filters.tenantId = caller.tenantId;
    const page = await listAuditLogs(db, { ...filters, ...(cursor ? { cursor } : {}) });
    ctx.set('Cache-Control', 'no-store');
    ctx.body = page;
    accessed(ctx as AppContext, 'Listed audit logs', { filters, returned: page.data.length });
  });

  route(router, contract.auditStatsRoute, ...guardFor('platform'), async (ctx) => {
    const { days } = parseStatsQuery(ctx.query);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await auditStats(db, days);
    accessed(ctx as AppContext, 'Read audit log statistics', { days });
  });

  route(router, contract.auditVerifyRoute, ...guardFor('platform'), async (ctx) => {
    parseVerifyQuery(ctx.query);
    const result = await verifyChain(db);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = result;
    accessed(ctx as AppContext, 'Verified the audit hash chain', { ok: result.ok, checked: result.checked });
  });
}
