import type { Database } from '../db/pool';
import type { Logger } from '../logging/logger';
import type { AuditSink } from './catalogue';
import { CHAIN_LOCK_KEY } from './writer';

/** Only one replica purges at a time (pg_try_advisory_xact_lock key). */
export const PURGE_LOCK_KEY = 727_003;
/** Rows per delete transaction, so the chain lock is never held for long. */
const CHUNK = 5_000;

export interface PurgeResult {
  /** false: another replica holds the purge lock. */
  ran: boolean;
  deleted: number;
  /** The new anchor: the last purged row's seq and hash; the first remaining row continues from it. */
  anchor: { seq: number; hash: string } | null;
}

/**
 * Deletes rows older than the retention period from the head of the chain. Purging follows seq
 * order and stops at the first row still within retention (a replayed old event stored late can
 * therefore outlive retention by a little: the chain must stay contiguous). The last deleted row
 * becomes the anchor verify starts from, and the purge itself is audited (AUDIT_PURGED, carrying
 * the anchor, so the anchor is attested by a later link of the same chain).
 */
export async function purgeExpired(db: Database, retentionDays: number, audit: AuditSink): Promise<PurgeResult> {
  let deleted = 0;
  let anchor: PurgeResult['anchor'] = null;
  let ran = false;
  for (;;) {
    const chunk = await db.transaction(async (tx) => {
      const { rows: lock } = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [PURGE_LOCK_KEY]);
      if (!lock[0]?.ok) return undefined;
      await tx.query('SELECT pg_advisory_xact_lock($1)', [CHAIN_LOCK_KEY]); // writers wait for one chunk at most
      const { rows } = await tx.query<{ seq: string; hash: Buffer; n: string }>(
        `WITH expired AS (
           SELECT seq, hash FROM audit_logs
            WHERE seq < coalesce((SELECT seq FROM audit_logs WHERE occurred_at >= now() - make_interval(days => $1)
                                   ORDER BY seq LIMIT 1), 9223372036854775807)
            ORDER BY seq LIMIT $2
         ), gone AS (
           DELETE FROM audit_logs a USING expired e WHERE a.seq = e.seq RETURNING a.seq, a.hash
         )
         SELECT seq, hash, (SELECT count(*) FROM gone) AS n FROM gone ORDER BY seq DESC LIMIT 1`,
        [retentionDays, CHUNK],
      );
      const last = rows[0];
      if (!last) return { n: 0 };
      await tx.query(
        `INSERT INTO audit_chain_anchor (id, seq, hash, purged_at) VALUES (1, $1, $2, now())
         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, purged_at = excluded.purged_at`,
        [last.seq, last.hash],
      );
      return { n: Number(last.n), anchor: { seq: Number(last.seq), hash: last.hash.toString('hex') } };
    });
    if (chunk === undefined) break;
    ran = true;
    deleted += chunk.n;
    if (chunk.anchor) anchor = chunk.anchor;
    if (chunk.n < CHUNK) break;
  }
  if (deleted > 0 && anchor) {
    audit.emit({
      type: 'AUDIT_PURGED',
      outcome: 'SUCCESS',
      description: `Purged ${deleted} audit events older than ${retentionDays} days`,
      resourceType: 'audit_logs',
      metadata: { deleted, retentionDays, anchorSeq: anchor.seq, anchorHash: anchor.hash },
    });
  }
  return { ran, deleted, anchor };
}

/** Runs the purge every `intervalMs` (first run after one interval); returns the stop function. */
export function startPurgeJob(opts: { db: Database; audit: AuditSink; logger: Logger; retentionDays: number; intervalMs: number }): () => Promise<void> {
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = purgeExpired(opts.db, opts.retentionDays, opts.audit)
      .then((r) => {
        if (r.deleted > 0) opts.logger.info('audit retention purge', { deleted: r.deleted, anchor_seq: r.anchor?.seq });
      })
      .catch((err: Error) => opts.logger.warn('audit retention purge failed; retried next interval', { error: { message: err.message } }))
      .finally(() => (running = undefined));
  }, opts.intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
