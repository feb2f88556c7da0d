import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { REDACTED } from '../logging/redact';
import {
  AUDIT_EVENT_TYPES,
  AUDIT_OUTCOMES,
  AUDIT_SEVERITIES,
  DEFAULT_SEVERITY,
  type AuditEventInput,
  type AuditEventType,
  type AuditOutcome,
  type AuditRequestContext,
  type AuditSeverity,
} from './catalogue';

/**
 * One audit event as journaled and stored: every field already redacted, bounded and cleaned so
 * that PostgreSQL accepts it and reads it back byte-for-byte (the hash chain depends on that).
 */
export interface AuditRecord {
  eventId: string;
  /** ISO-8601 with milliseconds, UTC. */
  occurredAt: string;
  type: AuditEventType;
  severity: AuditSeverity;
  outcome: AuditOutcome;
  tenantId: string | null;
  userId: string | null;
  clientIp: string | null;
  userAgent: string | null;
  requestId: string | null;
  traceId: string | null;
  resourceType: string | null;
  resourceId: string | null;
  description: string;
  changes: JsonObject | null;
  metadata: JsonObject | null;
}

export type Json = null | boolean | number | string | Json[] | JsonObject;
export type JsonObject = { [k: string]: Json };

const EVENT_TYPES: ReadonlySet<string> = new Set(AUDIT_EVENT_TYPES);
const OUTCOMES: ReadonlySet<string> = new Set(AUDIT_OUTCOMES);
const SEVERITIES: ReadonlySet<string> = new Set(AUDIT_SEVERITIES);

const MAX_ID = 200;
const MAX_UA = 512;
const MAX_DESCRIPTION = 2000;
const MAX_STRING_IN_JSON = 4000;
/** Larger changes/metadata are replaced by a marker: the audit trail is not a blob store. */
const MAX_JSON_CHARS = 32 * 1024;
const MAX_JSON_DEPTH = 10;

type WellFormed = string & { isWellFormed(): boolean; toWellFormed(): string };
/** Only well-formed UTF-16 can be stored and read back unchanged; the check is cheaper than the copy. */
const toWellFormed = (s: string): string => ((s as WellFormed).isWellFormed() ? s : (s as WellFormed).toWellFormed());

/**
 * PostgreSQL rejects NUL in text and jsonb, and lone UTF-16 surrogates would be stored as U+FFFD
 * (so the stored text would no longer hash like the emitted one): remove both, then bound length.
 */
export function cleanText(s: string, max: number): string {
  let out = s.includes('\u0000') ? s.replace(/\u0000/g, '') : s;
  if (out.length > max) out = out.slice(0, max);
  return toWellFormed(out); // after slicing, which may split a surrogate pair
}

function optText(v: string | null | undefined, max: number): string | null {
  if (v === undefined || v === null) return null;
  const s = cleanText(String(v), max);
  return s === '' ? null : s;
}

/** Walk state: the key test of the logger's redactor, and a size budget that bounds the work. */
interface Walk {
  isSensitiveKey: (key: string) => boolean;
  chars: number;
}

/**
 * One pass that redacts (by the logger's key-fragment test, at any depth) and turns the value into
 * what JSON.stringify would keep, with strings cleaned and depth and size bounded. One walk
 * instead of redact-then-convert-then-measure: this runs on the request path.
 */
function toJson(v: unknown, depth: number, w: Walk): Json | undefined {
  if (v === null) return null;
  switch (typeof v) {
    case 'string':
      w.chars += v.length;
      return cleanText(v, MAX_STRING_IN_JSON);
    case 'number':
      return Number.isFinite(v) ? v : null;
    case 'boolean':
      return v;
    case 'bigint':
      return v.toString();
    case 'object': {
      if (depth >= MAX_JSON_DEPTH || w.chars > MAX_JSON_CHARS) return '[Truncated]';
      if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
      if (v instanceof Error) return { name: cleanText(v.name, MAX_ID), message: cleanText(v.message, MAX_STRING_IN_JSON) };
      if (Buffer.isBuffer(v)) return `[Buffer ${v.length} bytes]`;
      if (Array.isArray(v)) return v.map((x) => toJson(x, depth + 1, w) ?? null);
      const out: JsonObject = {};
      for (const k in v) {
        if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
        w.chars += k.length;
        const key = cleanText(k, MAX_ID);
        if (w.isSensitiveKey(k)) {
          out[key] = REDACTED;
          continue;
        }
        const j = toJson((v as Record<string, unknown>)[k], depth + 1, w);
        if (j === undefined) continue;
        // A "__proto__" key (JSON.parse makes it an own key) must stay data, not become a prototype.
        if (key === '__proto__') Object.defineProperty(out, key, { value: j, enumerable: true, writable: true, configurable: true });
        else out[key] = j;
      }
      return out;
    }
    default:
      return undefined; // functions, symbols, undefined: dropped, as JSON.stringify does
  }
}

function jsonObject(v: Record<string, unknown> | undefined, isSensitiveKey: (key: string) => boolean): JsonObject | null {
  if (v === undefined || v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  const w: Walk = { isSensitiveKey, chars: 0 };
  const j = toJson(v, 0, w) as JsonObject;
  return w.chars > MAX_JSON_CHARS ? { truncated: true, approxChars: w.chars } : j;
}

/** A client address PostgreSQL's inet accepts, or null (never let a bad value poison a batch). */
function ipOrNull(v: string | undefined): string | null {
  if (!v) return null;
  const bare = v.startsWith('::ffff:') && isIP(v.slice(7)) === 4 ? v.slice(7) : v;
  return isIP(bare) ? bare : null;
}

/** Builds the stored record from what the caller said and what the request knows. */
export function toRecord(
  input: AuditEventInput,
  request: AuditRequestContext | undefined,
  isSensitiveKey: (key: string) => boolean,
  now = new Date(),
): AuditRecord {
  // TypeScript callers cannot get these wrong; plain-JS or deserialized input can. Refuse here
  // (emit counts it as emit_error) rather than let PostgreSQL reject the whole batch later.
  if (!EVENT_TYPES.has(input.type) || !OUTCOMES.has(input.outcome) || (input.severity !== undefined && !SEVERITIES.has(input.severity))) {
    throw new TypeError(`not an audit event of the catalogue: ${String(input.type).slice(0, 64)}/${String(input.outcome).slice(0, 32)}`);
  }
  return {
    eventId: randomUUID(),
    occurredAt: now.toISOString(),
    type: input.type,
    severity: input.severity ?? DEFAULT_SEVERITY[input.type],
    outcome: input.outcome,
    tenantId: optText(input.tenantId !== undefined ? input.tenantId : request?.tenantId, MAX_ID),
    userId: optText(input.userId !== undefined ? input.userId : request?.userId, MAX_ID),
    clientIp: ipOrNull(request?.clientIp),
    userAgent: optText(request?.userAgent, MAX_UA),
    requestId: optText(request?.requestId, MAX_ID),
    traceId: optText(request?.traceId, MAX_ID),
    resourceType: optText(input.resourceType, MAX_ID),
    resourceId: optText(input.resourceId, MAX_ID),
    description: cleanText(String(input.description ?? ''), MAX_DESCRIPTION),
    changes: jsonObject(input.changes, isSensitiveKey),
    metadata: jsonObject(input.metadata, isSensitiveKey),
  };
}
