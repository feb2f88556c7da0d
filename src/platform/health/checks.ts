import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

export interface CheckResult {
  status: HealthStatus;
  message?: string;
  responseTimeMs: number;
  [extra: string]: unknown;
}

export type Check = () => Promise<{ status: HealthStatus; message?: string; [extra: string]: unknown }>;

const RANK: Record<HealthStatus, number> = { healthy: 0, degraded: 1, unhealthy: 2 };

export function worst(statuses: Iterable<HealthStatus>): HealthStatus {
  let w: HealthStatus = 'healthy';
  for (const s of statuses) if (RANK[s] > RANK[w]) w = s;
  return w;
}

/** Runs one check with its own deadline; a check that hangs reports unhealthy instead of hanging us. */
export async function runCheck(check: Check, timeoutMs: number): Promise<CheckResult> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const result = await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ...result, status: result.status, responseTimeMs: Math.round(performance.now() - t0) };
  } catch (err) {
    return { status: 'unhealthy', message: (err as Error).message, responseTimeMs: Math.round(performance.now() - t0) };
  } finally {
    clearTimeout(timer);
  }
}

export async function runChecks(checks: Record<string, Check>, timeoutMs: number) {
  const names = Object.keys(checks);
  const results = await Promise.all(names.map((n) => runCheck(checks[n]!, timeoutMs)));
  const byName: Record<string, CheckResult> = {};
  names.forEach((n, i) => (byName[n] = results[i]!));
  return { status: worst(results.map((r) => r.status)), checks: byName };
}

/**
 * Event-loop delay over a rolling window: the histogram is read and reset once a minute so that
 * /health/detailed reports the recent past, not the whole life of the process.
 */
export class EventLoopMonitor {
  private readonly h: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  private last = { p50Ms: 0, p99Ms: 0, maxMs: 0 };
  private readonly timer: NodeJS.Timeout;

  constructor(windowMs = 60_000) {
    this.h.enable();
    this.timer = setInterval(() => this.roll(), windowMs);
    this.timer.unref();
  }

  private read() {
    const ms = (ns: number) => Math.round(ns / 1e4) / 100;
    return { p50Ms: ms(this.h.percentile(50)), p99Ms: ms(this.h.percentile(99)), maxMs: ms(this.h.max) };
  }

  private roll() {
    this.last = this.read();
    this.h.reset();
  }

  snapshot() {
    // Before the first window closes, the live histogram is all we have.
    const live = this.read();
    return live.maxMs > 0 ? (live.p99Ms >= this.last.p99Ms ? live : this.last) : this.last;
  }

  stop() {
    clearInterval(this.timer);
    this.h.disable();
  }
}
