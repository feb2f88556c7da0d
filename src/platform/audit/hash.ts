import { createHash } from 'node:crypto';
import type { AuditRecord, Json, JsonObject } from './record';

/** The prev_hash of the first row ever written. */
export const GENESIS_HASH = Buffer.alloc(32);

/**
 * A copy with object keys in sorted order at every level. jsonb reorders keys on storage, so the
 * hash must not depend on key order. JSON.stringify then emits keys in ECMAScript property order:
 * integer-like keys ascending numerically, then the others in the (sorted) insertion order, which
 * is a deterministic function of the key set. Hand-written (ten lines) because the serialization
 * must never change under a dependency upgrade: every stored chain depends on it.
 */
function sorted(v: Json): Json {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(sorted);
  const out: JsonObject = {};
  for (const k of Object.keys(v).sort()) {
    const x = sorted(v[k] as Json);
    if (k === '__proto__') Object.defineProperty(out, k, { value: x, enumerable: true, writable: true, configurable: true });
    else out[k] = x;
  }
  return out;
}

/** The row content a hash covers, in a fixed order. Format version 1; a change needs a new version. */
export function canonicalRow(seq: number, r: AuditRecord): string {
  return JSON.stringify([
    1,
    String(seq),
    r.eventId,
    r.occurredAt,
    r.type,
    r.severity,
    r.outcome,
    r.tenantId,
    r.userId,
    r.clientIp,
    r.userAgent,
    r.requestId,
    r.traceId,
    r.resourceType,
    r.resourceId,
    r.description,
    sorted(r.changes),
    sorted(r.metadata),
  ]);
}

/** hash = sha256(prev_hash || canonical row). */
export function rowHash(prevHash: Buffer, seq: number, r: AuditRecord): Buffer {
  return createHash('sha256').update(prevHash).update(canonicalRow(seq, r), 'utf8').digest();
}
