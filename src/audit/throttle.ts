import { LRUCache } from 'lru-cache';
import type { AuditEventType } from './catalogue';

/** Event types an attacker can trigger at will, one per request: bounded per source. */
const FLOODABLE: ReadonlySet<AuditEventType> = new Set(['SECURITY_VIOLATION', 'RATE_LIMIT_EXCEEDED', 'ACCESS_DENIED']);

export interface ThrottleOptions {
  /** Events of one floodable type allowed per source per window. */
  perWindow: number;
  windowMs: number;
}

/**
 * Per-source limit on floodable event types, so that an attack cannot flood the audit table: the
 * first `perWindow` events of a type from one client address per window are kept, the rest are
 * counted (caly.audit.dropped{reason="throttled"}) and reported in the next kept event's metadata.
 * A fixed window in an LRU is enough here: the point is a bound, not a fair share.
 */
export class SourceThrottle {
  private readonly windows: LRUCache<string, { start: number; count: number; suppressed: number }>;

  constructor(private readonly opts: ThrottleOptions = { perWindow: 60, windowMs: 60_000 }) {
    this.windows = new LRUCache({ max: 10_000 });
  }

  /** undefined: drop this event. A number: keep it; events suppressed before it in the last window. */
  admit(type: AuditEventType, source: string | undefined, now = Date.now()): number | undefined {
    if (!FLOODABLE.has(type)) return 0;
    const key = `${type}|${source ?? '-'}`;
    const w = this.windows.get(key);
    if (!w || now - w.start >= this.opts.windowMs) {
      this.windows.set(key, { start: now, count: 1, suppressed: 0 });
      return w?.suppressed ?? 0;
    }
    if (w.count < this.opts.perWindow) {
      w.count++;
      return 0;
    }
    w.suppressed++;
    return undefined;
  }
}
