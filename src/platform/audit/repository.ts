import { decodeCursor, encodeCursor } from '../api/cursor';
import { Conditions } from '../db/conditions';
import type { Database, Queryable } from '../db/pool';
import { AUDIT_OUTCOMES, AUDIT_SEVERITIES, type AuditEventType, type AuditOutcome, type AuditSeverity } from './catalogue';
import { GENESIS_HASH, rowHash } from './hash';
import type { ListQuery } from './query-schema';
import type { AuditRecord, JsonObject } from './record';

interface AuditRow {
  id: string;
  seq: string;
  event_id: string;
  occurred_at: Date;
  event_type: AuditEventType;
  severity: AuditSeverity;
  outcome: AuditOutcome;
  tenant_id: string | null;
  user_id: string | null;
  client_ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  trace_id: string | null;
  resource_type: string | null;
  resource_id: string | null;
  description: string;
  changes: JsonObject | null;
  metadata: JsonObject | null;
  prev_hash: Buffer;
  hash: Buffer;
}

const COLUMNS = `id, seq, event_id, occurred_at, event_type, severity, outcome, tenant_id, user_id, client_ip, user_agent,
  request_id, trace_id, resource_type, resource_id, description, changes, metadata, prev_hash, hash`;

/** A stored row back as the record its hash was computed over. */
function toRecord(r: AuditRow): AuditRecord {
  return {
    eventId: r.event_id,
    occurredAt: r.occurred_at.toISOString(),
    type: r.event_type,
    severity: r.severity,
    outcome: r.outcome,
    tenantId: r.tenant_id,
    userId: r.user_id,
    clientIp: r.client_ip,
    userAgent: r.user_agent,
    requestId: r.request_id,
    traceId: r.trace_id,
    resourceType: r.resource_type,
    resourceId: r.resource_id,
    description: r.description,
    changes: r.changes,
    metadata: r.metadata,
  };
}

/** One row as the API returns it. */
export type AuditLogView = { id: string; seq: number; eventType: AuditEventType } & Omit<AuditRecord, 'type'> & { hash: string };

function toView(r: AuditRow): AuditLogView {
  const { type, ...rest } = toRecord(r);
  return { id: r.id, seq: Number(r.seq), eventType: type, ...rest, hash: r.hash.toString('hex') };
}

/** The parsed list query (query-schema.ts) with its opaque cursor decoded. */
export type ListFilter = Omit<ListQuery, 'cursor'> & { cursor?: Cursor };

/** Position after the last row of a page: newest first by (occurred_at, seq). */
export interface Cursor {
  occurredAt: string;
  seq: number;
}

/** undefined for anything that is not a cursor this service issued. */
export function decodeAuditCursor(s: string): Cursor | undefined {
  return decodeCursor(s, (at, seq) => {
    if (typeof at !== 'string' || typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return undefined;
    const ms = Date.parse(at);
    if (!Number.isFinite(ms)) return undefined;
    const iso = new Date(ms).toISOString();
    return /^(?!0000)\d{4}-/.test(iso) ? { occurredAt: iso, seq } : undefined;
  });
}

export async function listAuditLogs(db: Queryable, f: ListFilter): Promise<{ data: AuditLogView[]; nextCursor: string | null }> {
  const c = new Conditions();
  if (f.type) c.add('event_type = ?', f.type);
  if (f.severity) c.add('severity = ?', f.severity);
  if (f.outcome) c.add('outcome = ?', f.outcome);
  if (f.userId) c.add('user_id = ?', f.userId);
  if (f.tenantId) c.add('tenant_id = ?', f.tenantId);
  if (f.resourceType) c.add('resource_type = ?', f.resourceType);
  if (f.resourceId) c.add('resource_id = ?', f.resourceId);
  if (f.from) c.add('occurred_at >= ?::timestamptz', f.from);
  if (f.to) c.add('occurred_at <= ?::timestamptz', f.to);
  if (f.cursor) c.where(`(occurred_at, seq) < (${c.param(f.cursor.occurredAt)}::timestamptz, ${c.param(f.cursor.seq)}::bigint)`);
  const { rows } = await db.query<AuditRow & Record<string, unknown>>(
    `SELECT ${COLUMNS} FROM audit_logs ${c.toSql()}
     ORDER BY occurred_at DESC, seq DESC LIMIT ${c.param(f.limit + 1)}`,
    c.values,
  );
  const page = rows.slice(0, f.limit);
  const last = page.at(-1);
  return {
    data: page.map(toView),
    nextCursor: rows.length > f.limit && last ? encodeCursor([last.occurred_at.toISOString(), Number(last.seq)]) : null,
  };
}

export async function auditStats(db: Queryable, days: number) {
  const { rows } = await db.query<{ event_type: string; severity: string; outcome: string; n: string }>(
    `SELECT event_type, severity, outcome, count(*) AS n
       FROM audit_logs WHERE occurred_at >= now() - make_interval(days => $1)
      GROUP BY event_type, severity, outcome`,
    [days],
  );
  const byType: Record<string, number> = {};
  const bySeverity: Record<string, number> = Object.fromEntries(AUDIT_SEVERITIES.map((s) => [s, 0]));
  const byOutcome: Record<string, number> = Object.fromEntries(AUDIT_OUTCOMES.map((o) => [o, 0]));
  let total = 0;
  for (const r of rows) {
    const n = Number(r.n);
    total += n;
    byType[r.event_type] = (byType[r.event_type] ?? 0) + n;
    bySeverity[r.severity] = (bySeverity[r.severity] ?? 0) + n;
    byOutcome[r.outcome] = (byOutcome[r.outcome] ?? 0) + n;
  }
  const since = new Date(Date.now() - days * 86_400_000).toISOString();
  return { days, since, total, byType, bySeverity, byOutcome };
}

export interface BrokenLink {
  id: string;
  seq: number;
  reason: 'seq_gap' | 'prev_hash_mismatch' | 'hash_mismatch';
  expectedSeq?: number;
  expectedHash: string;
  storedHash: string;
}

export interface VerifyResult {
  ok: boolean;
  checked: number;
  anchor: { seq: number; hash: string } | null;
  lastSeq: number;
  headHash: string;
  firstBroken: BrokenLink | null;
}

const PAGE = 2000;

/**
 * Walks the chain from the purge anchor (or genesis) in seq order inside one read-only
 * REPEATABLE READ snapshot, so rows written or purged meanwhile cannot produce a false break.
 * Reports the first broken link: a missing seq, a prev_hash that is not the previous row's hash,
 * or a hash that does not match the row's content.
 */
export async function verifyChain(db: Database): Promise<VerifyResult> {
  return db.transaction(async (tx) => {
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    const { rows: anchors } = await tx.query<{ seq: string; hash: Buffer }>('SELECT seq, hash FROM audit_chain_anchor WHERE id = 1');
    const anchor = anchors[0] ? { seq: Number(anchors[0].seq), hash: anchors[0].hash } : null;
    let prevSeq = anchor?.seq ?? 0;
    let prevHash = anchor?.hash ?? GENESIS_HASH;
    let checked = 0;
    const result = (firstBroken: BrokenLink | null): VerifyResult => ({
      ok: firstBroken === null,
      checked,
      anchor: anchor ? { seq: anchor.seq, hash: anchor.hash.toString('hex') } : null,
      lastSeq: prevSeq,
      headHash: prevHash.toString('hex'),
      firstBroken,
    });
    for (;;) {
      const { rows } = await tx.query<AuditRow & Record<string, unknown>>(`SELECT ${COLUMNS} FROM audit_logs WHERE seq > $1 ORDER BY seq LIMIT ${PAGE}`, [
        prevSeq,
      ]);
      for (const row of rows) {
        const seq = Number(row.seq);
        const expected = rowHash(prevHash, seq, toRecord(row));
        const broken = (reason: BrokenLink['reason'], extra: Partial<BrokenLink> = {}): VerifyResult =>
          result({ id: row.id, seq, reason, expectedHash: expected.toString('hex'), storedHash: row.hash.toString('hex'), ...extra });
        if (seq !== prevSeq + 1) return broken('seq_gap', { expectedSeq: prevSeq + 1 });
        if (!row.prev_hash.equals(prevHash))
          return broken('prev_hash_mismatch', { expectedHash: prevHash.toString('hex'), storedHash: row.prev_hash.toString('hex') });
        if (!row.hash.equals(expected)) return broken('hash_mismatch');
        prevSeq = seq;
        prevHash = row.hash;
        checked++;
      }
      if (rows.length < PAGE) return result(null);
    }
  });
}
