import { createHash } from 'node:crypto';
import { withSortedKeys } from '../crypto/canonical-json';
import type { AuditRecord } from './record';

/** The prev_hash of the first row ever written. */
export const GENESIS_HASH = Buffer.alloc(32);

/** The row content a hash covers, in a fixed order, objects in canonical key order. Format version 1; a change needs a new version. */
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
    withSortedKeys(r.changes),
    withSortedKeys(r.metadata),
  ]);
}

/** hash = sha256(prev_hash || canonical row). */
export function rowHash(prevHash: Buffer, seq: number, r: AuditRecord): Buffer {
  return createHash('sha256').update(prevHash).update(canonicalRow(seq, r), 'utf8').digest();
}
