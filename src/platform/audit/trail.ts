import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { trace } from '@opentelemetry/api';
import type { Database } from '../db/pool';
import type { Logger } from '../logging/logger';
import type { Instruments } from '../telemetry/instruments';
import type { AuditEventInput, AuditRequestContext, AuditSink } from './catalogue';
import { Journal, segmentName } from './journal';
import { toRecord, type AuditRecord } from './record';
import { SourceThrottle } from './throttle';
import { storeBatch, type BatchResult } from './writer';

export interface AuditTrailOptions {
  db: Database;
  logger: Logger;
  instruments: Instruments;
  /** The logger's redactor key test: changes and metadata are redacted with it, at any depth. */
  isSensitiveKey: (key: string) => boolean;
  journalDir: string;
  batchSize: number;
  flushIntervalMs: number;
  maxBacklog: number;
  /** Pending events with no batch stored for this long: the writer is stalled (health). Default 30 s. */
  stallAfterMs?: number;
  /** Injected for tests and the benchmark; defaults to the real batch writer. */
  store?: (db: Database, batch: readonly AuditRecord[], mayExist: boolean) => Promise<BatchResult>;
  throttle?: SourceThrottle;
}

/** `replayed`: read back from the journal, so possibly stored already by an earlier run. */
type Queued = { rec: AuditRecord; seg: number; replayed?: true };

const RETRY_BASE_MS = 100;
const RETRY_MAX_MS = 5_000;

class ClosingError extends Error {}

/**
 * The durable audit sink. `emit` does the cheap part on the request path: build and redact the
 * record, span event, counter, journal append (written once per event-loop turn) and an in-memory
 * queue push. Everything else happens off the request path: batches of up to AUDIT_BATCH_SIZE go
 * to PostgreSQL when the queue reaches that size or every AUDIT_FLUSH_INTERVAL_MS, retried with
 * exponential backoff and jitter while the database fails, and a journal segment is deleted only
 * once every event in it is stored.
 *
 * Back-pressure (docs/audit.md): past AUDIT_MAX_BACKLOG queued events, new events are journaled
 * only (durable, never dropped, never blocking) and re-read from the journal, in order, once the
 * queue has drained. Replay after a restart is the same path: leftover segments are "journaled
 * only" events.
 */
export class AuditTrail implements AuditSink {
  private readonly journal: Journal;
  private readonly store: NonNullable<AuditTrailOptions['store']>;
  private readonly throttle: SourceThrottle;
  private readonly segmentMaxLines: number;

  private queue: Queued[] = [];
  /** Closed segments whose events are only in the journal, oldest first. */
  private spilled: number[] = [];
  /** New events go to the journal only: the active segment is part of the spill. */
  private journalOnly = false;
  private spilledEvents = 0;

  private emitted = 0;
  private readonly counts = new Map<string, number>();
  private pumping: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closingDeadline: number | undefined;
  private closed = false;
  private failures = 0;
  /** When a batch was last stored, or the backlog last seen empty. */
  private lastProgressAt = Date.now();

  constructor(private readonly opts: AuditTrailOptions) {
    this.store = opts.store ?? storeBatch;
    this.throttle = opts.throttle ?? new SourceThrottle();
    this.segmentMaxLines = Math.max(opts.batchSize, Math.min(10_000, opts.maxBacklog));
    this.journal = new Journal(opts.journalDir, opts.logger, (lines) => {
      // Queued events still reach PostgreSQL; only journal-only ones are gone.
      if (this.journalOnly) opts.instruments.auditDropped.add(lines, { reason: 'journal_write_failed' });
    });
    opts.instruments.observe('auditBacklog', () => this.queue.length + this.spilledEvents);
    opts.instruments.observe('auditJournalPending', () => this.journal.pendingEvents);
  }

  /**
   * Opens the journal and schedules replay of what a previous run left in it. Replay runs in the
   * background, before any event emitted from now on (which waits, journaled, behind it).
   */
  async start(): Promise<{ replaySegments: number }> {
    const leftover = await this.journal.open(join(this.opts.journalDir, await journalScope(this.opts.db)));
    if (leftover.length > 0) {
      this.spilled = [...leftover];
      this.journalOnly = true;
      this.opts.logger.info('audit journal: replaying events left by the previous run', { segments: leftover.length });
    }
    this.timer = setInterval(() => {
      this.summarise();
      void this.pump(true);
    }, this.opts.flushIntervalMs);
    this.timer.unref();
    void this.pump(true);
    return { replaySegments: leftover.length };
  }

  emit(input: AuditEventInput, request?: AuditRequestContext): void {
    try {
      const anonymous = !(input.tenantId ?? request?.tenantId) && !(input.userId ?? request?.userId);
      if (!this.throttle.admit(input.type, request?.clientIp, anonymous)) {
        // Held back, not dropped: counted here, stored as part of an AUDIT_SUMMARY row (summarise).
        this.opts.instruments.auditHeldBack.add(1, { event_type: input.type });
        trace.getActiveSpan()?.addEvent('audit.held_back', { 'caly.audit.event_type': input.type });
        return;
      }
      const span = trace.getActiveSpan();
      const ctx = request?.traceId || !span ? request : { ...request, traceId: span.spanContext().traceId };
      const rec = toRecord(input, ctx, this.opts.isSensitiveKey);
      span?.addEvent(`audit.${rec.type}`, {
        'caly.audit.event_type': rec.type,
        'caly.audit.severity': rec.severity,
        'caly.audit.outcome': rec.outcome,
        'caly.audit.event_id': rec.eventId,
      });
      this.count(rec);
      this.emitted++;
      this.accept(rec);
    } catch (err) {
      // emit never throws into a request; a failure here is a bug worth a log line.
      this.opts.logger.error('audit emit failed', { error: { message: (err as Error).message }, event_type: input?.type });
      this.opts.instruments.auditDropped.add(1, { reason: 'emit_error' });
    }
  }

  /**
   * One AUDIT_SUMMARY row per source and event type whose throttle window has ended with events
   * held back (all of them on shutdown): source, type, count, first and last seen.
   */
  private summarise(all = false): void {
    for (const h of this.throttle.summaries(Date.now(), all)) {
      this.emit(
        {
          type: 'AUDIT_SUMMARY',
          outcome: 'FAILURE',
          description: `${h.count} anonymous ${h.eventType} events from one source held back by the audit throttle`,
          resourceType: 'audit_throttle',
          metadata: { source: h.source, event_type: h.eventType, count: h.count, first_seen: h.firstSeen.toISOString(), last_seen: h.lastSeen.toISOString() },
        },
        h.source === '-' ? undefined : { clientIp: h.source },
      );
    }
  }

  /**
   * caly.audit.events, added once per event-loop turn per (type, severity, outcome): the SDK hashes
   * the attribute set on every add, a large share of emit() in the profile (bench/README.md).
   */
  private count(rec: AuditRecord): void {
    const key = `${rec.type}|${rec.severity}|${rec.outcome}`;
    const n = this.counts.get(key);
    this.counts.set(key, (n ?? 0) + 1);
    if (this.counts.size === 1 && n === undefined) {
      setImmediate(() => {
        for (const [k, v] of this.counts) {
          const [event_type, severity, outcome] = k.split('|') as [string, string, string];
          this.opts.instruments.auditEvents.add(v, { event_type, severity, outcome });
        }
        this.counts.clear();
      });
    }
  }

  /** Where this trail's journal lives (AUDIT_JOURNAL_DIR/db-<installation id>), once started. */
  get journalPath(): string {
    return this.journal.path;
  }

  /** Events emitted since start; the request middleware waits for the journal only when this moved. */
  emittedCount(): number {
    return this.emitted;
  }

  /** Resolves once every event emitted so far is in the journal file. Never rejects. */
  flushJournal(): Promise<void> {
    return this.journal.flush();
  }

  /** Test and shutdown helper: resolves when everything accepted so far is stored (or the deadline passes). */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    await this.journal.flush();
    while (this.backlog() > 0 && Date.now() < deadline) {
      await Promise.race([this.pump(true), sleep(Math.max(1, deadline - Date.now()))]);
      if (this.backlog() > 0) await sleep(Math.min(20, Math.max(1, deadline - Date.now())));
    }
    return this.backlog() === 0;
  }

  /**
   * For /health/detailed: unhealthy when events are pending and no batch has been stored for
   * stallAfterMs (a writer that hangs looks busy, not failed, to every other signal); degraded
   * while the backlog is above 80 % of AUDIT_MAX_BACKLOG.
   */
  healthCheck(): { status: 'healthy' | 'degraded' | 'unhealthy'; backlog: number; journalPending: number; stalledForMs?: number; message?: string } {
    const backlog = this.backlog();
    const journalPending = this.journal.pendingEvents;
    if (backlog === 0) this.lastProgressAt = Date.now();
    const idleMs = Date.now() - this.lastProgressAt;
    if (backlog > 0 && idleMs > (this.opts.stallAfterMs ?? 30_000)) {
      return {
        status: 'unhealthy',
        backlog,
        journalPending,
        stalledForMs: idleMs,
        message: `audit writer stalled: ${backlog} events pending and nothing stored for ${Math.round(idleMs / 1000)} s (they stay in the journal)`,
      };
    }
    return backlog > this.opts.maxBacklog * 0.8
      ? { status: 'degraded', backlog, journalPending, message: 'audit backlog near its bound: PostgreSQL is not keeping up' }
      : { status: 'healthy', backlog, journalPending };
  }

  backlog(): number {
    return this.queue.length + this.spilledEvents + (this.spilled.length > 0 || this.journalOnly ? 1 : 0);
  }

  /** Graceful shutdown: store everything within the bound; what is left stays journaled for the next start. */
  async close(timeoutMs: number): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.summarise(true);
    this.closingDeadline = Date.now() + timeoutMs;
    const ok = await this.drain(timeoutMs).catch(() => false);
    this.closed = true;
    await this.journal.close();
    if (ok) this.opts.logger.info('audit trail flushed', { emitted: this.emitted });
    else this.opts.logger.warn('audit trail: events left in the journal for the next start', { pending: this.journal.pendingEvents });
  }

  private accept(rec: AuditRecord): void {
    const line = JSON.stringify(rec);
    if (this.closed) {
      // A late emit after shutdown: straight into a fresh segment, replayed at the next start.
      void appendFile(join(this.journal.path, segmentName(this.journal.activeSegment)), `${line}\n`, { mode: 0o600 }).catch(() => undefined);
      return;
    }
    if (!this.journalOnly && this.queue.length >= this.opts.maxBacklog) {
      this.journal.rotate(); // the closed segment's events are all queued; the new one holds the spill
      this.journalOnly = true;
      this.opts.logger.warn('audit backlog full: journaling only until the database catches up', { backlog: this.queue.length });
    }
    if (this.journalOnly && this.journal.activeSegmentLines >= this.segmentMaxLines) this.spilled.push(this.journal.rotate());
    const seg = this.journal.append(line);
    if (this.journalOnly) {
      this.spilledEvents++;
      return;
    }
    this.queue.push({ rec, seg });
    if (this.queue.length === this.opts.batchSize) setImmediate(() => void this.pump(false));
  }

  /** One writer at a time: the chain is extended in queue order. */
  private pump(force: boolean): Promise<void> {
    if (this.pumping) return this.pumping;
    this.pumping = this.run(force).finally(() => (this.pumping = undefined));
    return this.pumping;
  }

  private async run(force: boolean): Promise<void> {
    try {
      for (;;) {
        if (this.queue.length === 0) {
          if (!(await this.loadSpill())) return;
          continue;
        }
        if (this.queue.length < this.opts.batchSize && !force) return;
        const stored = await this.storeWithRetry(this.queue.slice(0, this.opts.batchSize));
        const done = this.queue.splice(0, stored);
        for (const q of done) this.journal.settle(q.seg);
      }
    } catch (err) {
      if (!(err instanceof ClosingError)) this.opts.logger.error('audit writer stopped unexpectedly', { error: { message: (err as Error).message } });
    }
  }

  /** Moves the oldest journal-only segment into the queue. Only called with an empty queue. */
  private async loadSpill(): Promise<boolean> {
    let no: number;
    if (this.spilled.length > 0) no = this.spilled.shift()!;
    else if (this.journalOnly) {
      no = this.journal.rotate();
      this.journalOnly = false; // events emitted from here on are newer than the segment: queue them
    } else return false;
    const recs = await this.journal.read(no);
    this.journal.setPending(no, recs.length);
    this.spilledEvents = Math.max(0, this.spilledEvents - recs.length);
    if (this.spilled.length === 0 && !this.journalOnly) this.spilledEvents = 0;
    this.queue.unshift(...recs.map((rec): Queued => ({ rec, seg: no, replayed: true })));
    return true;
  }

  /**
   * Stores a prefix of `batch` and returns its length. Connection and server failures are retried
   * with backoff. A batch PostgreSQL rejects as data (SQLSTATE 22/23) is split until the bad event
   * is alone; that one is set aside in quarantine.jsonl so it cannot block the trail forever.
   */
  private async storeWithRetry(batch: Queued[]): Promise<number> {
    let attempt = 0;
    let part = batch;
    let failedBefore = false; // a failed attempt may still have committed: look events up from now on
    for (;;) {
      const t0 = performance.now();
      try {
        const mayExist = failedBefore || part.some((q) => q.replayed);
        await this.store(
          this.opts.db,
          part.map((q) => q.rec),
          mayExist,
        );
        this.opts.instruments.auditFlushDuration.record((performance.now() - t0) / 1000, { outcome: 'success' });
        this.lastProgressAt = Date.now();
        if (this.failures > 0) this.opts.logger.info('audit writes recovered', { failed_attempts: this.failures });
        this.failures = 0;
        return part.length;
      } catch (err) {
        this.opts.instruments.auditFlushDuration.record((performance.now() - t0) / 1000, { outcome: 'failure' });
        this.opts.instruments.auditWriteFailures.add(1);
        this.failures++;
        failedBefore = true;
        const code = String((err as { code?: unknown }).code ?? '');
        if (/^2[23]/.test(code)) {
          if (part.length > 1) {
            part = part.slice(0, Math.ceil(part.length / 2));
            continue;
          }
          await this.quarantine(part[0]!.rec, err as Error);
          return 1;
        }
        if (this.failures === 1 || this.failures % 20 === 0) {
          this.opts.logger.warn('audit batch write failed; retrying, events stay journaled', {
            error: { message: (err as Error).message, code },
            attempts: this.failures,
            backlog: this.queue.length + this.spilledEvents,
          });
        }
        const wait = backoff(attempt++);
        if (this.closingDeadline !== undefined && Date.now() + wait > this.closingDeadline) throw new ClosingError();
        await sleep(wait);
      }
    }
  }

  private async quarantine(rec: AuditRecord, err: Error): Promise<void> {
    this.opts.instruments.auditDropped.add(1, { reason: 'rejected_by_database' });
    this.opts.logger.error('audit event rejected by the database; set aside in quarantine.jsonl', {
      event_id: rec.eventId,
      event_type: rec.type,
      error: { message: err.message },
    });
    await appendFile(join(this.journal.path, 'quarantine.jsonl'), `${JSON.stringify(rec)}\n`, { mode: 0o600 }).catch(() => undefined);
  }
}

/**
 * The journal feeds one database: its segments live under that database's installation id, so a
 * DATA_DIR reused against another database (or tests running side by side) never replays events
 * into the wrong one.
 */
async function journalScope(db: Database): Promise<string> {
  const { rows } = await db.query<{ value: string }>("SELECT value FROM app_meta WHERE key = 'installation_id'");
  const id = (rows[0]?.value ?? 'default').replace(/[^A-Za-z0-9-]/g, '');
  return `db-${id || 'default'}`;
}

/** Exponential backoff with full jitter between half and all of the step. */
export function backoff(attempt: number): number {
  const step = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(attempt, 16));
  return Math.round(step / 2 + Math.random() * (step / 2));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
