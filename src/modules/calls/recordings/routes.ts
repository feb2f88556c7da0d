import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, stat, unlink } from 'node:fs/promises';
import type Router from '@koa/router';
import type { AuditSink } from '../../../platform/audit/catalogue';
import { auditFromCtx } from '../../../platform/audit/context';
import type { Auth } from '../../auth';
import { CAN } from '../../auth';
import { getCall } from '../repository';
import { callNotFound } from '../not-found';
import type { CallIdParams } from '../schemas';
import type { Keyring } from '../../../platform/crypto/encryption';
import type { Database } from '../../../platform/db/pool';
import { NotFoundError, PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '../../../platform/errors/app-error';
import { type AppContext, type AppState, requireUser } from '../../../platform/context/state';
import type { Limiters } from '../../../platform/security/rate-limit';
import { route } from '../../../platform/api/route';
import { inputOf } from '../../../platform/validation/validated';
import { downloadRecordingRoute, uploadRecordingRoute } from './contract';
import { receiveFile } from './receive';
import { parseAudioContainer } from './container';
import { newSealer, openSealed } from './sealed';
import { recordingFile } from './storage';

export interface RecordingRoutesDeps {
  db: Database;
  audit: AuditSink;
  auth: Auth;
  limiters: Pick<Limiters, 'upload'>;
  keyring: Keyring;
  dir: string;
  maxBytes: number;
}

/** Multipart framing around the file: boundaries, part headers. */
const MULTIPART_OVERHEAD = 16 * 1024;
const idOf = (ctx: AppContext) => inputOf<{ params: CallIdParams }>(ctx).params.id;

/** `POST|GET /api/calls/:id/recording`: upload (multipart, container-parsed, size-capped, encrypted) and download, tenant-scoped. */
export function registerRecordingRoutes(router: Router<AppState>, deps: RecordingRoutesDeps): void {
  const { db, audit, auth } = deps;

  route(router, uploadRecordingRoute, auth.authenticate, auth.requireRole(CAN.uploadRecordings), deps.limiters.upload, async function uploadRecording(ctx) {
    const { tenantId } = requireUser(ctx);
    const callId = idOf(ctx);
    if (!ctx.request.is('multipart/form-data')) throw new UnsupportedMediaTypeError('Send the recording as multipart/form-data with a part named "file"');
    const declared = Number(ctx.get('content-length'));
    if (declared > deps.maxBytes + MULTIPART_OVERHEAD) {
      ctx.set('Connection', 'close');
      throw new PayloadTooLargeError(deps.maxBytes);
    }
    // The call is checked before a byte of the body is read: no upload for another tenant's call.
    if (!(await getCall(db, tenantId, callId))) return callNotFound(ctx, deps, callId);

    const tenantDir = recordingFile(deps.dir, tenantId);
    await mkdir(tenantDir, { recursive: true, mode: 0o700 });
    const name = `${randomUUID()}`;
    const tmp = recordingFile(deps.dir, `${tenantId}/.upload-${name}`);
    let kept = false;
    const seal = newSealer(deps.keyring, tenantId);
    try {
      let file;
      try {
        file = await receiveFile(ctx.req, tmp, deps.maxBytes, seal);
      } catch (err) {
        if (err instanceof PayloadTooLargeError) ctx.set('Connection', 'close');
        throw err;
      }
      if (!file || file.bytes === 0)
        throw new ValidationError('Request validation failed', [{ path: '/body/file', message: 'an audio file part named "file" is required' }]);
      const type = parseAudioContainer(file.head, file.bytes);
      if (!type) throw new UnsupportedMediaTypeError('The file is not a supported audio format (WAV, MP3, OGG, FLAC)');
      const relative = `${tenantId}/${name}.${type.ext}`;
      await rename(tmp, recordingFile(deps.dir, relative));
      kept = true;
      const { rows } = await db.query<{ old: string | null }>(
        `UPDATE calls c SET recording_path = $3, recording_mime = $4, recording_bytes = $5, recording_key_enc = $6, updated_at = now()
           FROM (SELECT recording_path AS old FROM calls WHERE tenant_id = $1 AND id = $2 FOR UPDATE) prev
          WHERE c.tenant_id = $1 AND c.id = $2 RETURNING prev.old`,
        [tenantId, callId, relative, type.mime, file.bytes, seal.sealedKey],
      );
      if (rows.length === 0) {
        await unlink(recordingFile(deps.dir, relative)).catch(() => undefined); // deleted meanwhile
        throw new NotFoundError('Call');
      }
      const old = rows[0]!.old;
      if (old && old !== relative) await unlink(recordingFile(deps.dir, old)).catch(() => undefined);
      audit.emit(
        {
          type: 'RECORDING_RECEIVED',
          outcome: 'SUCCESS',
          description: 'Recording uploaded',
          resourceType: 'call',
          resourceId: callId,
          metadata: { source: 'upload', mime: type.mime, bytes: file.bytes, replaced: old !== null },
        },
        auditFromCtx(ctx),
      );
      ctx.status = 201;
      ctx.body = { callId, recording: { mimeType: type.mime, bytes: file.bytes } };
    } finally {
      if (!kept) await unlink(tmp).catch(() => undefined);
    }
  });

  route(router, downloadRecordingRoute, auth.authenticate, auth.requireRole(CAN.readCalls), async function downloadRecording(ctx) {
    const callId = idOf(ctx);
    const call = await getCall(db, requireUser(ctx).tenantId, callId);
    if (!call) return callNotFound(ctx, deps, callId);
    if (!call.recording_path) throw new NotFoundError('Recording');
    const path = recordingFile(deps.dir, call.recording_path);
    const info = await stat(path).catch(() => null);
    if (!info) throw new NotFoundError('Recording');
    // Files stored before encryption have no key and are served as they are.
    const body = call.recording_key_enc
      ? await openSealed(path, call.recording_key_enc, deps.keyring, call.tenant_id)
      : { stream: createReadStream(path), bytes: info.size };
    audit.emit(
      { type: 'DATA_ACCESSED', outcome: 'SUCCESS', description: 'Downloaded a call recording', resourceType: 'recording', resourceId: callId },
      auditFromCtx(ctx),
    );
    ctx.set('Cache-Control', 'private, no-store');
    ctx.set('Content-Disposition', `attachment; filename="${callId}.${call.recording_path.split('.').pop()}"`);
    ctx.type = call.recording_mime ?? 'application/octet-stream';
    ctx.length = body.bytes;
    ctx.body = body.stream;
  });
}
