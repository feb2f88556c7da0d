import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { Next } from 'koa';
import type { AuditSink } from '../../platform/audit/catalogue';
import { auditFromCtx } from '../../platform/audit/context';
import type { Queryable } from '../../platform/db/pool';
import { AuthenticationError, AuthorizationError } from '../../platform/errors/app-error';
import type { AppContext } from '../../platform/context/state';
import type { Limiters } from '../../platform/security/rate-limit';
import { credentialMatches, hashWebhookCredential, WEBHOOK_CREDENTIAL_PATTERN } from '../tenants';
import { tenantByCredential } from '../tenants';

export interface WebhookTenant {
  id: string;
  passthruResponse: 200 | 302;
}

const tenants = new WeakMap<AppContext, WebhookTenant>();
/** The tenant the guard admitted for this request. */
export const webhookTenant = (ctx: AppContext): WebhookTenant => tenants.get(ctx)!;

function allowed(ip: string, cidrs: readonly string[]): boolean {
  const list = new BlockList();
  for (const c of cidrs) {
    const [net, bits] = c.split('/') as [string, string | undefined];
    const type = isIPv4(net) ? 'ipv4' : 'ipv6';
    list.addSubnet(net, Number(bits ?? (type === 'ipv4' ? 32 : 128)), type);
  }
  const addr = ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
  if (isIPv4(addr)) return list.check(addr, 'ipv4');
  return isIPv6(addr) && list.check(addr, 'ipv6');
}

/**
 * Authenticates an Exotel webhook by the credential in its path: hashed, looked up by hash and
 * compared in constant time; then the tenant's optional IP allowlist. Refusals are audited.
 */
export function exotelGuard(deps: { db: Queryable; audit: AuditSink; limits: Limiters['webhookAuth'] }) {
  return async function exotelGuardMiddleware(ctx: AppContext & { params: Record<string, string> }, next: Next): Promise<void> {
    await deps.limits.refuseIfExhausted(ctx); // 429 for an address that has spent its wrong guesses
    const credential = ctx.params.credential ?? '';
    const digest = hashWebhookCredential(credential);
    const tenant = WEBHOOK_CREDENTIAL_PATTERN.test(credential) ? await tenantByCredential(deps.db, digest) : null;
    if (!tenant || !credentialMatches(tenant.hash, digest)) {
      await deps.limits.failed(ctx);
      deps.audit.emit(
        {
          type: 'ACCESS_DENIED',
          outcome: 'FAILURE',
          description: 'Exotel webhook with an unknown credential',
          resourceType: 'webhook',
          metadata: { route: ctx._matchedRoute, reason: 'unknown_credential' },
        },
        auditFromCtx(ctx),
      );
      throw new AuthenticationError('Unknown webhook credential');
    }
    ctx.state.caller = { kind: 'webhook', tenantId: tenant.id };
    if (tenant.allowlist && tenant.allowlist.length > 0 && !allowed(ctx.ip, tenant.allowlist)) {
      deps.audit.emit(
        {
          type: 'ACCESS_DENIED',
          outcome: 'SECURITY_ALERT',
          description: 'Exotel webhook from an address outside the tenant allowlist',
          resourceType: 'webhook',
          metadata: { route: ctx._matchedRoute, reason: 'ip_not_allowed' },
        },
        auditFromCtx(ctx),
      );
      throw new AuthorizationError('This address may not call the webhook');
    }
    tenants.set(ctx, { id: tenant.id, passthruResponse: tenant.passthruResponse });
    await next();
  };
}
