import type Router from '@koa/router';
import { route } from '../../platform/api/route';
import type { AuditSink } from '../../platform/audit/catalogue';
import { auditFromCtx } from '../../platform/audit/context';
import type { ServiceKeys } from '../../platform/crypto/keys';
import type { Database } from '../../platform/db/pool';
import { AppError, ValidationError } from '../../platform/errors/app-error';
import type { AppContext, AppState } from '../../platform/context/state';
import type { Limiters } from '../../platform/security/rate-limit';
import { serverToServer } from '../../platform/security/anomaly';
import { webhookRawAad } from '../calls';
import type { Instruments } from '../../platform/telemetry/instruments';
import * as contract from './contract';
import { deadLetter, errorCodeOf, isPermanent } from './dead-letter';
import { exotelGuard, webhookTenant } from './guard';
import { ingestEvent, type IngestResult } from './ingest';
import { readMultipartFields } from './multipart-fields';
import { parsePassthru, parseStatusCallback, type ExotelEvent } from './payload';
import type { Raw } from './fields';

export interface ExotelRoutesDeps {
  db: Database;
  audit: AuditSink;
  keys: ServiceKeys;
  limiters: Pick<Limiters, 'webhook' | 'webhookAuth'>;
  bodyLimitBytes: number;
  instruments: Instruments;
}

/**
 * Exotel's webhooks (docs/domain.md, and their contract in ./contract.ts). Payloads are read
 * leniently rather than through a closed validate() schema: Exotel adds fields without notice and
 * sends different subsets per applet, and a 4xx for an unknown field would drop real calls. What
 * is kept is normalised and bounded field by field (payload.ts); CallSid is required.
 */
export function registerExotelWebhooks(router: Router<AppState>, deps: ExotelRoutesDeps): void {
  const { db, audit, keys } = deps;
  const guard = exotelGuard({ db, audit, limits: deps.limiters.webhookAuth });
  const limit = deps.limiters.webhook((ctx) => (ctx as AppContext & { params?: Record<string, string> }).params?.credential ?? '');
  // Caller numbers and URLs in the query are masked by the logger's one redaction point.
  const front = [serverToServer, limit, guard] as const;

  /** The payload exactly as received (query string and raw body), sealed to the tenant. */
  function sealRaw(ctx: AppContext, tenantId: string, fields?: Raw): string {
    const body = (ctx.request as { rawBody?: string }).rawBody ?? (fields ? JSON.stringify(fields) : undefined);
    return keys.keyring.encrypt(JSON.stringify({ query: ctx.querystring, ...(body !== undefined ? { body } : {}) }), webhookRawAad(tenantId));
  }

  /**
   * Stores the event; a payload PostgreSQL refuses for good goes to the dead-letter table instead
   * (counted, audited), and the answer is still 2xx: Exotel's retry would fail the same way and the
   * event would be lost. Transient failures (database away) stay 5xx so that Exotel retries.
   */
  async function record(ctx: AppContext, ev: ExotelEvent, rawPayloadEnc: string): Promise<IngestResult | { duplicate: true; deadLettered: true }> {
    const tenant = webhookTenant(ctx);
    let result: IngestResult;
    try {
      result = await ingestEvent(db, keys, tenant.id, ev, rawPayloadEnc);
    } catch (err) {
      if (err instanceof AppError && err.status === 404) {
        audit.emit(
          {
            type: 'INTEGRATION_FAILED',
            outcome: 'FAILURE',
            description: 'Exotel webhook for a number that is not one of the tenant ExoPhones',
            resourceType: 'call',
            metadata: { kind: ev.kind, call_sid: ev.callSid, reason: 'unknown_exophone' },
          },
          auditFromCtx(ctx),
        );
      }
      if (err instanceof AppError || !isPermanent(err)) throw err;
      const code = errorCodeOf(err);
      const attempts = await deadLetter(db, tenant.id, ev, rawPayloadEnc, code);
      deps.instruments.webhookDeadLetters.add(1, { kind: ev.kind });
      ctx.state.span?.setAttribute('caly.webhook.dead_letter', true);
      if (attempts === 1) {
        audit.emit(
          {
            type: 'INTEGRATION_FAILED',
            outcome: 'FAILURE',
            description: 'Exotel event the database refused: kept in the dead-letter table',
            resourceType: 'call',
            metadata: { kind: ev.kind, call_sid: ev.callSid, reason: 'dead_letter', error_code: code },
          },
          auditFromCtx(ctx),
        );
      }
      return { duplicate: true, deadLettered: true };
    }
    if (result.duplicate) {
      ctx.state.span?.setAttribute('caly.webhook.duplicate', true);
      return result;
    }
    const base = { resourceType: 'call', resourceId: result.callId } as const;
    const meta = { call_sid: ev.callSid, via: ev.kind, status: result.status };
    if (result.created)
      audit.emit(
        { type: 'CALL_STARTED', outcome: 'SUCCESS', description: 'Call started', ...base, metadata: { ...meta, direction: ev.direction ?? null } },
        auditFromCtx(ctx),
      );
    if (result.ended)
      audit.emit(
        { type: 'CALL_ENDED', outcome: 'SUCCESS', description: 'Call ended', ...base, metadata: { ...meta, duration_s: ev.durationS ?? null } },
        auditFromCtx(ctx),
      );
    if (result.recordingReceived)
      audit.emit(
        { type: 'RECORDING_RECEIVED', outcome: 'SUCCESS', description: 'Exotel reported a call recording', ...base, metadata: { ...meta, source: 'exotel' } },
        auditFromCtx(ctx),
      );
    return result;
  }

  /** Sync Passthru branches on the status: the tenant's rule picks 200 (choice A) or 302 (choice B). */
  async function passthru(ctx: AppContext): Promise<void> {
    const raw: Raw = { ...(ctx.query as Raw), ...(ctx.method === 'POST' && isPlainObject(ctx.request.body) ? (ctx.request.body as Raw) : {}) };
    await record(ctx, parsePassthru(raw), sealRaw(ctx, webhookTenant(ctx).id));
    ctx.body = 'OK';
    ctx.status = webhookTenant(ctx).passthruResponse;
  }

  async function statusCallback(ctx: AppContext): Promise<void> {
    let body: Raw;
    if (ctx.request.is('multipart/form-data')) body = await readMultipartFields(ctx.req, deps.bodyLimitBytes);
    else if (isPlainObject(ctx.request.body)) body = ctx.request.body as Raw;
    else throw new ValidationError('Request validation failed', [{ path: '/body', message: 'must be a JSON, urlencoded or multipart object' }]);
    await record(ctx, parseStatusCallback({ ...(ctx.query as Raw), ...body }), sealRaw(ctx, webhookTenant(ctx).id, body));
    ctx.body = { received: true };
  }

  route(router, contract.passthruGetRoute, ...front, passthru);
  route(router, contract.passthruPostRoute, ...front, passthru);
  route(router, contract.statusCallbackRoute, ...front, statusCallback);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
