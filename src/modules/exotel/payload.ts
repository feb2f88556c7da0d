import { createHash } from 'node:crypto';
import { CALL_STATUSES, type CallStatus, type Direction } from '../calls';
import { canonicalJson } from '../../platform/crypto/canonical-json';
import { ValidationError } from '../../platform/errors/app-error';
import { isHttpUrl, normalizePhone } from '../../platform/validation';
import { digits, nested, pick, seconds, text, time, type Raw } from './fields';

/** One Exotel notification, normalised; whatever Exotel did not send is absent. */
export interface ExotelEvent {
  kind: 'passthru' | 'status';
  callSid: string;
  from?: string;
  to?: string;
  /** Numbers that may be the tenant's ExoPhone, most likely first. */
  exophoneCandidates: string[];
  direction?: Direction;
  status?: CallStatus;
  startedAt?: Date;
  endedAt?: Date;
  durationS?: number;
  recordingUrl?: string;
  /** Stream access URLs (wss:// and its recording): stored encrypted, never in `extras`. */
  streamUrls?: { StreamUrl?: string; RecordingUrl?: string };
  /** Extras kept on the call (calls.exotel): legs, custom field, digits, stream status … */
  extras: Record<string, unknown>;
  /** Same notification, same key: Exotel's retries are recognised by it. */
  eventKey: string;
}

const CALL_SID = /^[A-Za-z0-9_-]{1,64}$/;
const LEG_KEYS = ['OnCallDuration', 'Status', 'AnsweredBy'] as const;
const STREAM_KEYS = ['StreamSID', 'Status', 'Duration', 'RecordingUrl', 'StreamUrl', 'DisconnectedBy'] as const;

/** `+919876543210`, `09876543210`, `919876543210` and ` 919876543210` (an unencoded `+`) are one number. */
function phone(raw: Raw, ...keys: string[]): string | undefined {
  const v = text(raw, ...keys);
  if (!v) return undefined;
  return normalizePhone(v) ?? (/^[0-9+]{3,20}$/.test(v) ? v : undefined);
}

function direction(raw: Raw): Direction | undefined {
  const v = text(raw, 'Direction')?.toLowerCase();
  if (v === 'incoming' || v === 'inbound') return 'inbound';
  if (v === 'outbound-dial' || v === 'outgoing') return 'outbound-dial';
  if (v === 'outbound-api') return 'outbound-api';
  return undefined;
}

function status(raw: Raw, ...keys: string[]): CallStatus | undefined {
  const v = text(raw, ...keys)
    ?.toLowerCase()
    .replace('_', '-');
  if (v === 'cancelled') return 'canceled';
  if (v === 'answered') return 'in-progress';
  return (CALL_STATUSES as readonly string[]).includes(v ?? '') ? (v as CallStatus) : undefined;
}

function legs(raw: Raw): Array<Record<string, string>> | undefined {
  const v = nested(raw, 'Legs');
  const list = Array.isArray(v) ? v : v && typeof v === 'object' ? Object.values(v) : undefined;
  if (!list) return undefined;
  const out = list
    .slice(0, 20)
    .map((leg) => pick(leg, LEG_KEYS))
    .filter((leg): leg is Record<string, string> => leg !== undefined);
  return out.length > 0 ? out : undefined;
}

function recordingUrl(raw: Raw): string | undefined {
  const v = text(raw, 'RecordingUrl');
  return v && isHttpUrl(v) ? v : undefined;
}

function eventKey(kind: ExotelEvent['kind'], raw: Raw): string {
  return `${kind}:${createHash('sha256').update(canonicalJson(raw)).digest('base64url')}`;
}

function common(kind: ExotelEvent['kind'], raw: Raw): Omit<ExotelEvent, 'status' | 'extras'> & { extras: Record<string, unknown> } {
  const callSid = text(raw, 'CallSid');
  if (!callSid || !CALL_SID.test(callSid)) {
    throw new ValidationError('Request validation failed', [
      { path: kind === 'passthru' ? '/query/CallSid' : '/body/CallSid', message: 'is required: letters, digits, _ or -, at most 64' },
    ]);
  }
  const from = phone(raw, 'CallFrom', 'From');
  const to = phone(raw, 'CallTo', 'To');
  const exophone = phone(raw, 'PhoneNumberSid', 'PhoneNumber');
  const ev: ReturnType<typeof common> = {
    kind,
    callSid,
    exophoneCandidates: [...new Set([exophone, to, from].filter((n): n is string => n !== undefined))],
    extras: {},
    eventKey: eventKey(kind, raw),
  };
  if (from) ev.from = from;
  if (to) ev.to = to;
  const dir = direction(raw);
  if (dir) ev.direction = dir;
  const start = time(raw, 'StartTime');
  if (start) ev.startedAt = start;
  const end = time(raw, 'EndTime');
  if (end) ev.endedAt = end;
  const rec = recordingUrl(raw);
  if (rec) ev.recordingUrl = rec;
  const custom = text(raw, 'CustomField');
  if (custom) ev.extras.customField = custom.slice(0, 1024);
  return ev;
}

/** Passthru applet: GET query parameters (older flows POST the same fields). */
export function parsePassthru(raw: Raw): ExotelEvent {
  const ev: ExotelEvent = common('passthru', raw);
  const s = status(raw, 'CallStatus');
  if (s) ev.status = s;
  const duration = seconds(raw, 'DialCallDuration');
  if (duration !== undefined) ev.durationS = duration;
  const d = digits(raw);
  if (d !== undefined) ev.extras.digits = d;
  const callType = text(raw, 'CallType');
  if (callType && /^[a-z-]{1,32}$/.test(callType)) ev.extras.callType = callType;
  const flow = text(raw, 'flow_id');
  if (flow && /^[A-Za-z0-9_-]{1,64}$/.test(flow)) ev.extras.flowId = flow;
  const stream = pick(nested(raw, 'Stream'), STREAM_KEYS);
  if (stream) {
    const { StreamUrl, RecordingUrl, ...rest } = stream;
    if (StreamUrl !== undefined || RecordingUrl !== undefined)
      ev.streamUrls = { ...(StreamUrl ? { StreamUrl } : {}), ...(RecordingUrl ? { RecordingUrl } : {}) };
    if (Object.keys(rest).length > 0) ev.extras.stream = rest;
  }
  return ev;
}

/** StatusCallback: JSON, urlencoded or multipart fields, already parsed into `raw`. */
export function parseStatusCallback(raw: Raw): ExotelEvent {
  const ev: ExotelEvent = common('status', raw);
  const s = status(raw, 'Status', 'CallStatus');
  if (s) ev.status = s;
  const duration = seconds(raw, 'ConversationDuration', 'Duration');
  if (duration !== undefined) ev.durationS = duration;
  const l = legs(raw);
  if (l) ev.extras.legs = l;
  const eventType = text(raw, 'EventType');
  if (eventType && /^[a-z_-]{1,32}$/i.test(eventType)) ev.extras.lastEventType = eventType;
  const updated = time(raw, 'DateUpdated');
  if (updated) ev.extras.dateUpdated = updated.toISOString();
  return ev;
}
