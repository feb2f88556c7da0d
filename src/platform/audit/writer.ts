import { isIP } from 'node:net';
import type { Database } from '../db/pool';
import { GENESIS_HASH, rowHash } from './hash';
import type { AuditRecord } from './record';
import { inTransaction, withClient } from '../db/pool';

/** Serializes extension of the global chain across replicas (pg_advisory_xact_lock key). */
export const CHAIN_LOCK_KEY = 727_002;

export interface BatchResult {
  inserted: number;
  /** Events already stored (a replay, or a retry after a commit whose answer was lost). */
  duplicates: number;
}

const TAIL_SQL = `SELECT seq, hash FROM (SELECT seq, hash FROM audit_logs ORDER BY seq DESC LIMIT 1) t
  UNION ALL SELECT seq, hash FROM audit_chain_anchor WHERE id = 1
  ORDER BY seq DESC LIMIT 1`;

/** The seq and hash the next row continues from: the last row, else the purge anchor, else genesis. */
const tailOf = (r: { seq: string; hash: Buffer } | undefined) => (r ? { seq: Number(r.seq), hash: r.hash } : { seq: 0, hash: GENESIS_HASH });

/**
 * One JSON document per batch, expanded by jsonb_to_recordset: PostgreSQL parses it in C, where
 * 19 parallel arrays would each be escaped element by element in JavaScript (measured: the
 * parameter encoding cost more than the hashing).
 */
const INSERT_SQL = `INSERT INTO audit_logs (seq, event_id, occurred_at, event_type, severity, outcome, tenant_id, user_id, client_ip,
    user_agent, request_id, trace_id, resource_type, resource_id, description, changes, metadata, prev_hash, hash)
  SELECT seq, event_id, occurred_at, event_type, severity, outcome, tenant_id, user_id, client_ip, user_agent, request_id,
    trace_id, resource_type, resource_id, description, changes, metadata, decode(prev_hash, 'hex'), decode(hash, 'hex')
  FROM jsonb_to_recordset($1::jsonb) AS x(seq bigint, event_id uuid, occurred_at timestamptz, event_type text, severity text,
    outcome text, tenant_id text, user_id text, client_ip inet, user_agent text, request_id text, trace_id text,
    resource_type text, resource_id text, description text, changes jsonb, metadata jsonb, prev_hash text, hash text)`;

/**
 * Stores one batch in one transaction, extending the chain. The advisory lock makes the chain tail
 * read and the insert atomic with respect to every other writer (other replicas included), so seq
 * stays gap-free and each prev_hash is the real previous hash. Events that may already be stored
 * (`mayExist`: replayed from the journal, or retried after a failure that may have followed a
 * commit) are looked up and skipped before seq numbers are assigned (ON CONFLICT DO NOTHING would
 * leave seq gaps), which makes replay and retry exactly-once. The UNIQUE event_id still guards
 * the rest: a violation rolls the batch back and its retry takes the lookup path.
 */
export async function storeBatch(db: Database, batch: readonly AuditRecord[], mayExist = true): Promise<BatchResult> {
  // One round trip for BEGIN, the lock and the tail (simple protocol, no parameters).
  const opening = `BEGIN; SELECT pg_advisory_xact_lock(${CHAIN_LOCK_KEY}); ${TAIL_SQL}`;
  return withClient(db.pool, (client, discard) =>
    inTransaction(
      client,
      discard,
      async (opened) => {
        let { seq, hash } = tailOf((opened as unknown as Array<{ rows: Array<{ seq: string; hash: Buffer }> }>)[2]?.rows[0]);

        let fresh: AuditRecord[] = [...batch];
        if (mayExist) {
          const { rows: known } = await client.query<{ event_id: string }>('SELECT event_id::text FROM audit_logs WHERE event_id = ANY($1::uuid[])', [
            batch.map((r) => r.eventId),
          ]);
          const seen = new Set(known.map((k) => k.event_id));
          fresh = [];
          for (const r of batch) {
            if (seen.has(r.eventId)) continue;
            seen.add(r.eventId); // also collapses a duplicate inside the batch itself
            fresh.push(r);
          }
        }
        if (fresh.length === 0) return { inserted: 0, duplicates: batch.length };

        // The hash covers the address exactly as PostgreSQL prints it back. IPv4 from net.isIP is
        // already in that form; IPv6 spellings vary, so PostgreSQL normalizes those first.
        const v6 = fresh.filter((r) => r.clientIp !== null && isIP(r.clientIp) === 6);
        if (v6.length > 0) {
          const { rows } = await client.query<{ ips: string[] }>(
            'SELECT array(SELECT host(x::inet) FROM unnest($1::text[]) WITH ORDINALITY AS u(x, n) ORDER BY n) AS ips',
            [v6.map((r) => r.clientIp)],
          );
          v6.forEach((r, i) => (r.clientIp = rows[0]!.ips[i] ?? null));
        }

        const rows = fresh.map((r) => {
          seq += 1;
          const h = rowHash(hash, seq, r);
          const row = {
            seq,
            event_id: r.eventId,
            occurred_at: r.occurredAt,
            event_type: r.type,
            severity: r.severity,
            outcome: r.outcome,
            tenant_id: r.tenantId,
            user_id: r.userId,
            client_ip: r.clientIp,
            user_agent: r.userAgent,
            request_id: r.requestId,
            trace_id: r.traceId,
            resource_type: r.resourceType,
            resource_id: r.resourceId,
            description: r.description,
            changes: r.changes,
            metadata: r.metadata,
            prev_hash: hash.toString('hex'),
            hash: h.toString('hex'),
          };
          hash = h;
          return row;
        });
        await client.query(INSERT_SQL, [JSON.stringify(rows)]);
        return { inserted: fresh.length, duplicates: batch.length - fresh.length };
      },
      opening,
    ),
  );
}
