export const CALL_STATUSES = ['queued', 'ringing', 'in-progress', 'completed', 'busy', 'failed', 'no-answer', 'canceled'] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];
/** Statuses after which nothing more happens to a call (CALL_ENDED is emitted on entering one). */
export const TERMINAL: ReadonlySet<CallStatus> = new Set(['completed', 'busy', 'failed', 'no-answer', 'canceled']);

export const DIRECTIONS = ['inbound', 'outbound-dial', 'outbound-api'] as const;
export type Direction = (typeof DIRECTIONS)[number];

export interface CallRow {
  id: string;
  tenant_id: string;
  call_sid: string;
  direction: Direction | null;
  exophone: string | null;
  from_enc: string | null;
  to_enc: string | null;
  status: CallStatus;
  started_at: Date | null;
  ended_at: Date | null;
  duration_s: number | null;
  recording_url_enc: string | null;
  stream_urls_enc: string | null;
  recording_key_enc: string | null;
  recording_path: string | null;
  recording_mime: string | null;
  recording_bytes: string | null;
  resolved: boolean;
  notes: string;
  tags: string[];
  exotel: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
  /** created_at at full (microsecond) precision, for cursors. */
  created_cursor: string;
}

export const CALL_COLUMNS = `id, tenant_id, call_sid, direction, exophone, from_enc, to_enc, status, started_at, ended_at, duration_s,
  recording_url_enc, stream_urls_enc, recording_key_enc, recording_path, recording_mime, recording_bytes, resolved, notes, tags, exotel, created_at, updated_at,
  created_at::text AS created_cursor`;
