import type Router from '@koa/router';
import { route } from '../api/route';
import type { Keyring } from '../crypto/encryption';
import type { Database } from '../db/pool';
import { pendingMigrations } from '../db/migrate';
import type { Migration } from '../db/migrations';
import type { AppState } from '../context/state';
import { quantileFromBuckets } from '../telemetry/http-duration';
import type { Instruments } from '../telemetry/instruments';
import * as contract from './contract';
import { runChecks, type Check, type EventLoopMonitor } from './checks';
import { healthGuard } from './guard';

export interface HealthDeps {
  db: Database;
  keyring: Keyring;
  instruments: Instruments;
  eventLoop: EventLoopMonitor;
  version: string;
  checkTimeoutMs: number;
  healthToken: string | undefined;
  /** Whether a loopback client address may stand in for HEALTH_TOKEN (see guard.ts). */
  trustProxy: boolean;
  host: string;
  /** True from the moment shutdown begins: readiness must fail at once. */
  isShuttingDown(): boolean;
  /** Extra checks other concerns contribute (audit backlog …). */
  extraChecks?: Record<string, Check>;
  /** Every migration this build knows (platform and modules): readiness fails while one is pending. */
  migrations: readonly Migration[];
}

const HEAP_DEGRADED_BYTES = 1.5 * 1024 ** 3;

/**
 * /health/live: the process answers. /health/ready: it can serve (database reachable,
 * migrations applied, not shutting down). /health/detailed and /health/metrics: guarded views for
 * operators. healthy and degraded answer 200, unhealthy 503.
 */
export function registerHealthRoutes(router: Router<AppState>, deps: HealthDeps): void {
  const startedAt = Date.now();
  const guard = healthGuard(deps.healthToken, { trustProxy: deps.trustProxy, host: deps.host });
  const respond = (ctx: { status: number; body: unknown; set(k: string, v: string): void }, body: { status: string }) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.status = body.status === 'unhealthy' ? 503 : 200;
    ctx.body = body;
  };

  const database: Check = async () => {
    await deps.db.query('SELECT 1');
    return { status: 'healthy' };
  };
  const migrations: Check = async () => {
    const pending = await pendingMigrations(deps.db, deps.migrations);
    return pending.length === 0 ? { status: 'healthy' } : { status: 'unhealthy', message: `pending migrations: ${pending.join(', ')}` };
  };

  route(router, contract.liveRoute, (ctx) => {
    respond(ctx, { status: 'healthy', uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) } as { status: string });
  });

  route(router, contract.readyRoute, async (ctx) => {
    if (deps.isShuttingDown()) {
      respond(ctx, { status: 'unhealthy', reasons: ['shutting down'] } as { status: string });
      return;
    }
    const result = await runChecks({ database, migrations }, deps.checkTimeoutMs);
    const reasons = Object.entries(result.checks)
      .filter(([, c]) => c.status === 'unhealthy')
      .map(([name, c]) => `${name}: ${c.message ?? 'unhealthy'}`);
    // Readiness is binary: degraded still serves traffic.
    respond(ctx, { status: result.status === 'unhealthy' ? 'unhealthy' : 'healthy', ...(reasons.length ? { reasons } : {}) } as { status: string });
  });

  route(router, contract.detailedRoute, guard, async (ctx) => {
    const checks: Record<string, Check> = {
      database: async () => {
        const stats = deps.db.stats();
        await deps.db.query('SELECT 1');
        const saturated = stats.waiting > 0 && stats.used >= stats.max;
        return { status: saturated ? 'degraded' : 'healthy', pool: stats, ...(saturated ? { message: 'pool saturated' } : {}) };
      },
      migrations,
      encryption: async () => {
        const probe = `probe-${Date.now()}`;
        const ok = deps.keyring.decrypt(deps.keyring.encrypt(probe)) === probe;
        return ok ? { status: 'healthy', keyId: deps.keyring.currentKeyId } : { status: 'unhealthy', message: 'round trip mismatch' };
      },
      memory: async () => {
        const m = process.memoryUsage();
        const mb = (b: number) => Math.round(b / 1024 / 1024);
        return {
          status: m.heapUsed > HEAP_DEGRADED_BYTES ? 'degraded' : 'healthy',
          rssMB: mb(m.rss),
          heapUsedMB: mb(m.heapUsed),
          heapTotalMB: mb(m.heapTotal),
          externalMB: mb(m.external),
        };
      },
      eventLoop: async () => {
        const s = deps.eventLoop.snapshot();
        return { status: s.p99Ms > 500 ? 'unhealthy' : s.p99Ms > 100 ? 'degraded' : 'healthy', ...s };
      },
      ...deps.extraChecks,
    };
    const result = await runChecks(checks, deps.checkTimeoutMs);
    respond(ctx, {
      status: result.status,
      timestamp: new Date().toISOString(),
      version: deps.version,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      checks: result.checks,
    } as { status: string });
  });

  route(router, contract.healthMetricsRoute, guard, (ctx) => {
    // Quantiles come from the very buckets Prometheus scrapes, over the life of the process;
    // probes are left out so that they do not flatter the figures.
    const t = deps.instruments.httpDuration.totals((a) => !String(a['http.route'] ?? '').startsWith('/health/'));
    const q = (p: number) => {
      const v = quantileFromBuckets(p, t.counts, t.count);
      return v === null ? null : Math.round(v * 1e6) / 1e3;
    };
    respond(ctx, {
      status: 'healthy',
      timestamp: new Date().toISOString(),
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      requests: {
        count: t.count,
        errors5xx: t.errors,
        errorRate: t.count === 0 ? 0 : t.errors / t.count,
        meanMs: t.count === 0 ? null : Math.round((t.sum / t.count) * 1e6) / 1e3,
        p50Ms: q(0.5),
        p95Ms: q(0.95),
        p99Ms: q(0.99),
      },
      slowRequests: deps.instruments.slowRequestCount(),
      pool: deps.db.stats(),
    } as { status: string });
  });
}
