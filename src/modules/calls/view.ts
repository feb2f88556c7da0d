import type { Keyring } from '../../platform/crypto/encryption';
import type { CallRow } from './model';
import { openOptional, phoneAad } from './pii';

/**
 * The API shape of a call. Exotel's recording URL and stream URLs are access URLs: reported as
 * present, never returned. Rows stored before stream URLs were encrypted may still hold them in
 * `exotel.stream`; they are left out of the answer all the same.
 */
export function callView(row: CallRow, keyring: Keyring) {
  return {
    id: row.id,
    callSid: row.call_sid,
    direction: row.direction,
    status: row.status,
    from: openOptional(keyring, row.from_enc, phoneAad(row.tenant_id, 'from')),
    to: openOptional(keyring, row.to_enc, phoneAad(row.tenant_id, 'to')),
    exophone: row.exophone,
    startedAt: row.started_at?.toISOString() ?? null,
    endedAt: row.ended_at?.toISOString() ?? null,
    durationSeconds: row.duration_s,
    resolved: row.resolved,
    notes: row.notes,
    tags: row.tags,
    recording: {
      exotel: row.recording_url_enc !== null,
      stream: row.stream_urls_enc !== null,
      uploaded: row.recording_path ? { mimeType: row.recording_mime, bytes: Number(row.recording_bytes) } : null,
    },
    exotel: withoutStreamUrls(row.exotel),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
export type CallView = ReturnType<typeof callView>;

function withoutStreamUrls(exotel: Record<string, unknown>): Record<string, unknown> {
  const stream = exotel.stream;
  if (typeof stream !== 'object' || stream === null) return exotel;
  const { StreamUrl: _s, RecordingUrl: _r, ...rest } = stream as Record<string, unknown>;
  return { ...exotel, stream: rest };
}
