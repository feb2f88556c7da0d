import { TERMINAL, type CallStatus } from '../calls';
import { recordingUrlAad, sealPhone, streamUrlsAad } from '../calls';
import type { ServiceKeys } from '../../platform/crypto/keys';
import type { Database, Queryable } from '../../platform/db/pool';
import { NotFoundError } from '../../platform/errors/app-error';
import type { ExotelEvent } from './payload';

export type IngestResult =
  { duplicate: true } | { duplicate: false; callId: string; created: boolean; ended: boolean; recordingReceived: boolean; status: CallStatus };

async function isTenantExophone(q: Queryable, tenantId: string, candidates: string[]): Promise<string | null> {
  if (candidates.length === 0) return null;
  const { rows } = await q.query<{ number: string }>('SELECT number FROM tenant_exophones WHERE tenant_id = $1 AND number = ANY($2::text[])', [
    tenantId,
    candidates,
  ]);
  // The most likely candidate first (PhoneNumberSid, then To, then From).
  return candidates.find((c) => rows.some((r) => r.number === c)) ?? null;
}

/**
 * Records one Exotel notification, once. The ledger row (tenant, CallSid, event key) is inserted
 * first in the same transaction: a retry of an event already processed finds it and changes
 * nothing, and two deliveries racing each other serialise on its primary key.
 */
export async function ingestEvent(db: Database, keys: ServiceKeys, tenantId: string, ev: ExotelEvent, rawPayloadEnc: string): Promise<IngestResult> {
  return db.transaction(async (tx) => {
    const fresh = await tx.query(
      'INSERT INTO webhook_events (tenant_id, call_sid, event_key, raw_payload_enc) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING 1',
      [tenantId, ev.callSid, ev.eventKey, rawPayloadEnc],
    );
    if (fresh.rowCount === 0) return { duplicate: true } as const;

    const select = () =>
      tx.query<{ id: string; status: CallStatus; had_recording: boolean; exophone: string | null }>(
        'SELECT id, status, recording_url_enc IS NOT NULL AS had_recording, exophone FROM calls WHERE tenant_id = $1 AND call_sid = $2 FOR UPDATE',
        [tenantId, ev.callSid],
      );
    let existing = (await select()).rows[0];
    // Every event that names numbers must name one of this tenant's ExoPhones, not only the first:
    // a call created by an event without numbers must not later be bound to another tenant's
    // ExoPhone. Events naming no number at all (status callbacks of API calls) pass.
    const exophone = await isTenantExophone(tx, tenantId, ev.exophoneCandidates);
    if (ev.exophoneCandidates.length > 0 && !exophone) throw new NotFoundError('ExoPhone');

    let created = false;
    if (!existing) {
      const ins = await tx.query<{ id: string }>(
        `INSERT INTO calls (tenant_id, call_sid, status) VALUES ($1, $2, $3) ON CONFLICT (tenant_id, call_sid) DO NOTHING RETURNING id`,
        [tenantId, ev.callSid, ev.status ?? 'in-progress'],
      );
      created = ins.rowCount === 1;
      existing = (await select()).rows[0]!;
    }

    const prev = existing.status;
    // A late, out-of-order "ringing" must not reopen a call that already ended.
    const next: CallStatus = ev.status && !(TERMINAL.has(prev) && !TERMINAL.has(ev.status)) ? ev.status : prev;
    const from = ev.from ? sealPhone(keys.keyring, keys.phoneHash, tenantId, 'from', ev.from) : null;
    const to = ev.to ? sealPhone(keys.keyring, keys.phoneHash, tenantId, 'to', ev.to) : null;
    await tx.query(
      `UPDATE calls SET
         status = $2,
         direction = COALESCE($3, direction),
         exophone = COALESCE($4, exophone),
         from_enc = COALESCE($5, from_enc), from_hash = COALESCE($6, from_hash),
         to_enc = COALESCE($7, to_enc), to_hash = COALESCE($8, to_hash),
         started_at = COALESCE($9, started_at),
         ended_at = COALESCE($10, ended_at),
         duration_s = COALESCE($11, duration_s),
         recording_url_enc = COALESCE($12, recording_url_enc),
         exotel = exotel || $13::jsonb,
         stream_urls_enc = COALESCE($14, stream_urls_enc),
         updated_at = now()
       WHERE id = $1`,
      [
        existing.id,
        next,
        ev.direction ?? null,
        exophone,
        from?.enc ?? null,
        from?.hash ?? null,
        to?.enc ?? null,
        to?.hash ?? null,
        ev.startedAt ?? null,
        ev.endedAt ?? (TERMINAL.has(next) && !TERMINAL.has(prev) ? new Date() : null),
        ev.durationS ?? null,
        ev.recordingUrl ? keys.keyring.encrypt(ev.recordingUrl, recordingUrlAad(tenantId)) : null,
        JSON.stringify(ev.extras),
        ev.streamUrls ? keys.keyring.encrypt(JSON.stringify(ev.streamUrls), streamUrlsAad(tenantId)) : null,
      ],
    );
    return {
      duplicate: false,
      callId: existing.id,
      created,
      ended: TERMINAL.has(next) && !TERMINAL.has(prev) ? true : created && TERMINAL.has(next),
      recordingReceived: ev.recordingUrl !== undefined && !existing.had_recording,
      status: next,
    } as const;
  });
}
