import { unlink } from 'node:fs/promises';
import type Router from '@koa/router';
import type { AuditSink } from '../../platform/audit/catalogue';
import { auditFromCtx } from '../../platform/audit/context';
import type { Auth } from '../auth';
import { CAN } from '../auth';
import type { ServiceKeys } from '../../platform/crypto/keys';
import type { Database } from '../../platform/db/pool';
import { ValidationError } from '../../platform/errors/app-error';
import { type AppContext, type AppState, requireUser } from '../../platform/context/state';
import { recordingFile } from './recordings/storage';
import { encodeCursor } from '../../platform/api/cursor';
import { route } from '../../platform/api/route';
import { inputOf } from '../../platform/validation/validated';
import * as contract from './contract';
import { deleteCall, getCall, listCalls, updateCall } from './repository';
import { decodeCallCursor, type CallIdParams, type ListCallsQuery, type PatchCallBody } from './schemas';
import { callView } from './view';
import { callNotFound } from './not-found';

export interface CallRoutesDeps {
  db: Database;
  audit: AuditSink;
  auth: Auth;
  keys: ServiceKeys;
  recordingsDir: string;
}

/** `/api/calls`: tenant-scoped call history. Another tenant's id is a 404, exactly like a missing one. */
export function registerCallRoutes(router: Router<AppState>, deps: CallRoutesDeps): void {
  const { db, audit, auth, keys } = deps;
  const tenantOf = (ctx: AppContext) => requireUser(ctx).tenantId;

  route(router, contract.listCallsRoute, auth.authenticate, auth.requireRole(CAN.readCalls), async function listCallsRoute(ctx) {
    const q = inputOf<{ query: ListCallsQuery }>(ctx).query;
    const cursor = q.cursor === undefined ? undefined : decodeCallCursor(q.cursor);
    if (q.cursor !== undefined && !cursor)
      throw new ValidationError('Request validation failed', [{ path: '/query/cursor', message: 'is not a cursor this API issued' }]);
    if (q.since && q.until && Date.parse(q.since) > Date.parse(q.until))
      throw new ValidationError('Request validation failed', [{ path: '/query/since', message: 'must not be after until' }]);
    const { rows, more } = await listCalls(db, tenantOf(ctx), {
      ...(q.status ? { status: q.status } : {}),
      ...(q.direction ? { direction: q.direction } : {}),
      ...(q.since ? { since: q.since } : {}),
      ...(q.until ? { until: q.until } : {}),
      ...(q.phone ? { phoneHashes: keys.phoneHash.candidates(q.phone) } : {}),
      ...(q.resolved !== undefined ? { resolved: q.resolved } : {}),
      ...(q.q ? { text: q.q } : {}),
      ...(cursor ? { cursor } : {}),
      limit: q.limit,
    });
    const last = rows.at(-1);
    ctx.set('Cache-Control', 'private, no-store');
    ctx.body = { data: rows.map((r) => callView(r, keys.keyring)), nextCursor: more && last ? encodeCursor([last.created_cursor, last.id]) : null };
  });

  route(router, contract.getCallRoute, auth.authenticate, auth.requireRole(CAN.readCalls), async function getCallRoute(ctx) {
    const { id } = inputOf<{ params: CallIdParams }>(ctx).params;
    const row = await getCall(db, tenantOf(ctx), id);
    if (!row) return callNotFound(ctx, deps, id);
    audit.emit({ type: 'DATA_ACCESSED', outcome: 'SUCCESS', description: 'Read a call', resourceType: 'call', resourceId: id }, auditFromCtx(ctx));
    ctx.set('Cache-Control', 'private, no-store');
    ctx.body = callView(row, keys.keyring);
  });

  route(router, contract.patchCallRoute, auth.authenticate, auth.requireRole(CAN.editCalls), async function patchCallRoute(ctx) {
    const { params, body } = inputOf<{ params: CallIdParams; body: PatchCallBody }>(ctx);
    const found = await db.transaction(async (tx) => {
      const before = await getCall(tx, tenantOf(ctx), params.id, true);
      if (!before) return undefined;
      return { before, after: (await updateCall(tx, tenantOf(ctx), params.id, body))! };
    });
    if (!found) return callNotFound(ctx, deps, params.id);
    const { before, after } = found;
    // Notes are free text that may hold personal data: the trail records that they changed, not what they say.
    const changes: Record<string, unknown> = {};
    if (body.notes !== undefined && body.notes !== before.notes)
      changes.notes = { changed: true, length: { from: before.notes.length, to: after.notes.length } };
    if (body.tags !== undefined) changes.tags = { from: before.tags, to: after.tags };
    if (body.resolved !== undefined && body.resolved !== before.resolved) changes.resolved = { from: before.resolved, to: after.resolved };
    audit.emit(
      { type: 'DATA_UPDATED', outcome: 'SUCCESS', description: 'Updated a call', resourceType: 'call', resourceId: params.id, changes },
      auditFromCtx(ctx),
    );
    ctx.body = callView(after, keys.keyring);
  });

  route(router, contract.deleteCallRoute, auth.authenticate, auth.requireRole(CAN.deleteCalls), async function deleteCallRoute(ctx) {
    const { id } = inputOf<{ params: CallIdParams }>(ctx).params;
    const gone = await deleteCall(db, tenantOf(ctx), id);
    if (!gone) return callNotFound(ctx, deps, id);
    if (gone.recording_path) await unlink(recordingFile(deps.recordingsDir, gone.recording_path)).catch(() => undefined);
    audit.emit(
      {
        type: 'DATA_DELETED',
        outcome: 'SUCCESS',
        description: 'Deleted a call',
        resourceType: 'call',
        resourceId: id,
        metadata: { had_recording: gone.recording_path !== null },
      },
      auditFromCtx(ctx),
    );
    ctx.status = 204;
  });
}
