import type Router from '@koa/router';
import { route } from '../../api/route';
import type { AuditSink } from '../../audit/catalogue';
import { auditFromCtx } from '../../audit/context';
import type { ServiceKeys } from '../../crypto/keys';
import type { Database } from '../../db/pool';
import { AppError, ValidationError } from '../../errors/app-error';
import type { AppContext, AppState } from '../../http/state';
import type { Limiters } from '../../security/rate-limit';
import { serverToServer } from '../../security/anomaly';
import * as contract from './contract';
import { exotelGuard, hideCredential, webhookTenant } from './guard';
import { ingestEvent, type IngestResult } from './ingest';
import { readMultipartFields } from './multipart-fields';
import { parsePassthru, parseStatusCallback, type ExotelEvent } from './payload';
import type { Raw } from './fields';

export interface ExotelRoutesDeps {
  db: Database;
  audit: AuditSink;
  keys: ServiceKeys;
  limiters: Pick<Limiters, 'webhook'>;
  bodyLimitBytes: number;
}


/**
 * Exotel's webhooks (docs/domain.md, and their contract in ./contract.ts). Payloads are read
 * leniently rather than through a closed validate() schema: Exotel adds fields without notice and
 * sends different subsets per applet, and a 4xx for an unknown field would drop real calls. What
 * is kept is normalised and bounded field by field (payload.ts); CallSid is required.
 */
export function registerExotelWebhooks(router: Router<AppState>, deps: ExotelRoutesDeps): void {
  const { db, audit, keys } = deps;
  const guard = exotelGuard({ db, audit });
  const limit = deps.limiters.webhook((ctx) => (ctx as AppContext & { params?: Record<string, string> }).params?.credential ?? '');
  const front = [hideCredential, serverToServer, limit, guard] as const;

  async function record(ctx: AppContext, ev: ExotelEvent): Promise<IngestResult> {
    const tenant = webhookTenant(ctx);
    let result: IngestResult;
    try {
      result = await ingestEvent(db, keys, tenant.id, ev);
    } catch (err) {
      if (err instanceof AppError && err.status === 404) {
        audit.emit(
          { type: 'INTEGRATION_FAILED', outcome: 'FAILURE', description: 'Exotel webhook for a number that is not one of the tenant ExoPhones', resourceType: 'call', metadata: { kind: ev.kind, call_sid: ev.callSid, reason: 'unknown_exophone' } },
          auditFromCtx(ctx),
        );
      }
      throw err;
    }
    if (result.duplicate) {
      ctx.state.span?.setAttribute('caly.webhook.duplicate', true);
      return result;
    }
    const base = { resourceType: 'call', resourceId: result.callId } as const;
    const meta = { call_sid: ev.callSid, via: ev.kind, status: result.status };
    if (result.created) audit.emit({ type: 'CALL_STARTED', outcome: 'SUCCESS', description: 'Call started', ...base, metadata: { ...meta, direction: ev.direction ?? null } }, auditFromCtx(ctx));
    if (result.ended) audit.emit({ type: 'CALL_ENDED', outcome: 'SUCCESS', description: 'Call ended', ...base, metadata: { ...meta, duration_s: ev.durationS ?? null } }, auditFromCtx(ctx));
    if (result.recordingReceived) audit.emit({ type: 'RECORDING_RECEIVED', outcome: 'SUCCESS', description: 'Exotel reported a call recording', ...base, metadata: { ...meta, source: 'exotel' } }, auditFromCtx(ctx));
    return result;
  }

  /** Sync Passthru branches on the status: the tenant's rule picks 200 (choice A) or 302 (choice B). */
  async function passthru(ctx: AppContext): Promise<void> {
    const raw: Raw = { ...(ctx.query as Raw), ...(ctx.method === 'POST' && isPlainObject(ctx.request.body) ? (ctx.request.body as Raw) : {}) };
    await record(ctx, parsePassthru(raw));
    ctx.body = 'OK';
    ctx.status = webhookTenant(ctx).passthruResponse;
  }

  async function statusCallback(ctx: AppContext): Promise<void> {
    let body: Raw;
    if (ctx.request.is('multipart/form-data')) body = await readMultipartFields(ctx.req, deps.bodyLimitBytes);
    else if (isPlainObject(ctx.request.body)) body = ctx.request.body as Raw;
    else throw new ValidationError('Request validation failed', [{ path: '/body', message: 'must be a JSON, urlencoded or multipart object' }]);
    await record(ctx, parseStatusCallback({ ...(ctx.query as Raw), ...body }));
    ctx.body = { received: true };
  }

  route(router, contract.passthruGetRoute, ...front, passthru);
  route(router, contract.passthruPostRoute, ...front, passthru);
  route(router, contract.statusCallbackRoute, ...front, statusCallback);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
