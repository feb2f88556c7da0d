import type { Queryable } from '../../platform/db/pool';
import type { ExotelEvent } from './payload';

/**
 * Whether an ingest failure means "this payload cannot be stored as a call" (keep it aside and
 * answer 2xx) rather than "try again later" (answer 5xx so Exotel retries). Data and constraint
 * refusals (SQLSTATE classes 22, 23) and bugs in our own parsing (no SQLSTATE, not a connection
 * problem) will fail the same way on every retry: retrying them only loses the event in the end.
 */
export function isPermanent(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return /^2[23]/.test(code) || code === '54001';
  if (typeof code === 'string') return false; // ECONNREFUSED and friends: transient
  return err instanceof RangeError || err instanceof TypeError;
}

export const errorCodeOf = (err: unknown): string => {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Za-z_]{1,32}$/.test(code) ? code : ((err as Error)?.name ?? 'Error');
};

/** Keeps the payload; a retry of the same event (same key) only counts another attempt. */
export async function deadLetter(
  q: Queryable,
  tenantId: string,
  ev: Pick<ExotelEvent, 'kind' | 'callSid' | 'eventKey'>,
  rawPayloadEnc: string,
  code: string,
): Promise<number> {
  const { rows } = await q.query<{ attempts: number }>(
    `INSERT INTO webhook_dead_letters (tenant_id, kind, call_sid, event_key, raw_payload_enc, error_code)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (tenant_id, event_key) DO UPDATE SET attempts = webhook_dead_letters.attempts + 1, last_seen_at = now(), error_code = EXCLUDED.error_code
     RETURNING attempts`,
    [tenantId, ev.kind, ev.callSid, ev.eventKey, rawPayloadEnc, code],
  );
  return rows[0]!.attempts;
}
