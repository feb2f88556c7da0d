import { LRUCache } from 'lru-cache';
import type { AuditEventType } from './catalogue';

/** Event types an anonymous caller can trigger at will, one per request. */
const FLOODABLE: ReadonlySet<AuditEventType> = new Set(['SECURITY_VIOLATION', 'RATE_LIMIT_EXCEEDED', 'ACCESS_DENIED', 'LOGIN_FAILURE']);

export interface ThrottleOptions {
  /** Anonymous events of one floodable type kept per source per window. */
  perWindow: number;
  windowMs: number;
}

/** What one source's held-back events of one type add up to; becomes one AUDIT_SUMMARY row. */
export interface HeldBack {
  source: string;
  eventType: AuditEventType;
  count: number;
  firstSeen: Date;
  lastSeen: Date;
}

interface Bucket {
  start: number;
  kept: number;
  held: number;
  firstHeld: number;
  lastHeld: number;
}

/**
 * Bounds anonymous noise without hiding anything. Only events that name no tenant and no user are
 * ever throttled: what happens to a known principal or tenant is always stored, so a flood of
 * anonymous requests cannot push a real user's refusals out of the trail (they used to share one
 * bucket per source). Anonymous events are bucketed per source and type; past `perWindow` in a
 * window they are held back, counted, and handed to the trail as one summary per bucket when its
 * window ends (`summaries`), so the trail says "source X: 940 ACCESS_DENIED between t1 and t2".
 * Buckets evicted from the LRU under a flood of sources are summarised too (onEvict), never lost.
 */
export class SourceThrottle {
  private readonly buckets: LRUCache<string, Bucket>;
  private ready: HeldBack[] = [];

  constructor(private readonly opts: ThrottleOptions = { perWindow: 60, windowMs: 60_000 }) {
    this.buckets = new LRUCache({
      max: 10_000,
      dispose: (b, key, reason) => {
        if (reason !== 'set' && b.held > 0) this.ready.push(toHeldBack(key, b));
      },
    });
  }

  /** true: store the event. false: held back (counted into this source's next summary). */
  admit(type: AuditEventType, source: string | undefined, anonymous: boolean, now = Date.now()): boolean {
    if (!anonymous || !FLOODABLE.has(type)) return true;
    const key = `${type}|${source ?? '-'}`;
    let b = this.buckets.get(key);
    if (b && now - b.start >= this.opts.windowMs) {
      if (b.held > 0) this.ready.push(toHeldBack(key, b));
      b = undefined;
    }
    if (!b) {
      this.buckets.set(key, { start: now, kept: 1, held: 0, firstHeld: 0, lastHeld: 0 });
      return true;
    }
    if (b.kept < this.opts.perWindow) {
      b.kept++;
      return true;
    }
    if (b.held === 0) b.firstHeld = now;
    b.held++;
    b.lastHeld = now;
    return false;
  }

  /** Held-back totals of windows that have ended (all windows with `all`), each reported once. */
  summaries(now = Date.now(), all = false): HeldBack[] {
    for (const [key, b] of this.buckets.entries()) {
      if (b.held > 0 && (all || now - b.start >= this.opts.windowMs)) {
        this.ready.push(toHeldBack(key, b));
        b.held = 0;
      }
    }
    const out = this.ready;
    this.ready = [];
    return out;
  }
}

function toHeldBack(key: string, b: Bucket): HeldBack {
  const i = key.indexOf('|');
  return {
    eventType: key.slice(0, i) as AuditEventType,
    source: key.slice(i + 1),
    count: b.held,
    firstSeen: new Date(b.firstHeld),
    lastSeen: new Date(b.lastHeld),
  };
}
