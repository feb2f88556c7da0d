import type { AuditSink } from '../../platform/audit/catalogue';
import { auditFromCtx } from '../../platform/audit/context';
import type { Queryable } from '../../platform/db/pool';
import { NotFoundError } from '../../platform/errors/app-error';
import { routeOf, type AppContext, callerTenant } from '../../platform/context/state';
import { callOwner } from './repository';

/**
 * The 404 for a call id the caller's tenant does not have. The answer is the same whether the id
 * exists elsewhere or not (no oracle), but an id that belongs to another tenant is a probe of that
 * tenant: audited under the tenant probed, so its admins see it, naming the caller and the
 * caller's tenant. Authenticated, so never throttled.
 */
export async function callNotFound(ctx: AppContext, deps: { db: Queryable; audit: AuditSink }, id: string): Promise<never> {
  const owner = await callOwner(deps.db, id).catch(() => null);
  if (owner && owner !== callerTenant(ctx.state)) {
    deps.audit.emit(
      {
        type: 'ACCESS_DENIED',
        outcome: 'SECURITY_ALERT',
        description: "Asked for another tenant's call id",
        tenantId: owner,
        resourceType: 'call',
        resourceId: id,
        metadata: { reason: 'cross_tenant_id', actor_tenant_id: callerTenant(ctx.state) ?? null, method: ctx.method, route: routeOf(ctx) ?? null },
      },
      auditFromCtx(ctx),
    );
  }
  throw new NotFoundError('Call');
}
