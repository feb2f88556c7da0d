import type Router from '@koa/router';
import { route } from '../../platform/api/route';
import { dependencyReportRoute } from './contract';
import type pg from 'pg';
import { adminTokenGuard } from '../../platform/security/admin-token';
import type { Config } from '../../platform/config';
import { NotFoundError } from '../../platform/errors/app-error';
import type { AppState } from '../../platform/context/state';
import { withClient } from '../../platform/db/pool';
import type { Logger } from '../../platform/logging/logger';
import type { Instruments } from '../../platform/telemetry/instruments';
import { label, outdatedPackages, SEVERITIES, type CompletedReport, type Report } from './model';
import { replayFromEnv, runScan, ScanAbortedError } from './scan';
import { firstDelayMs, intervalMs, nextDelayMs } from './schedule';
import { readLatestReports, writeReport } from './store';
import type { ServiceModule } from '../../platform/module';

/**
 * Dependency scans inside the service (SECURITY_SCAN_INTERVAL). Never on the request path: the
 * scan runs npm in child processes from a timer, and requests only read the last result.
 * One replica at a time: each run first takes a session advisory lock on a dedicated pool client
 * and skips when another replica holds it. A failed scan counts a failure and keeps the last good
 * values, so an unreachable registry never reads as "no vulnerabilities".
 */

/** Arbitrary but fixed (migrations use 727_001): the lock every replica tries before scanning. */
export const SCAN_LOCK_KEY = 727_007;
/** Per npm command; a scan is two of them. */
const NPM_TIMEOUT_MS = 120_000;

export interface DependencyScanDeps {
  config: Pick<Config, 'SECURITY_SCAN_INTERVAL' | 'SECURITY_SCAN_DIR' | 'SECURITY_SCAN_KEEP' | 'ADMIN_TOKEN'>;
  pool: pg.Pool;
  logger: Logger;
  instruments: Instruments;
  /** The project whose dependencies are audited; the service's working directory by default. */
  cwd?: string;
  /** Read for the replay files (CALY_SCAN_AUDIT_FILE, CALY_SCAN_OUTDATED_FILE). */
  env?: NodeJS.ProcessEnv;
}

export interface DependencyScans extends ServiceModule {
  /** Adds GET /api/security/dependencies (admin only). */
  registerRoutes(router: Router<AppState>): void;
  /** Loads the last reports from disk and schedules the first scan; no-op when off. */
  start(): void;
  /** Cancels the timer and stops a running scan (its npm processes are killed). */
  stop(): Promise<void>;
}

export function createDependencyScans(deps: DependencyScanDeps): DependencyScans {
  const { config, pool, logger, instruments } = deps;
  const interval = intervalMs(config.SECURITY_SCAN_INTERVAL);
  const env = deps.env ?? process.env;

  let latest: Report | undefined;
  let lastSuccessful: CompletedReport | undefined;
  let outdatedCount: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const abort = new AbortController();

  function remember(report: Report): void {
    latest = report;
    if (report.status === 'UNKNOWN') return;
    lastSuccessful = report;
    if (report.outdated.ok) outdatedCount = outdatedPackages(report.outdated.rows);
  }

  // Gauges report the last successful scan only; until there is one they produce no series.
  instruments.observe('dependencyVulnerabilities', () =>
    lastSuccessful ? SEVERITIES.map((s) => ({ value: lastSuccessful!.summary[label(s)], attributes: { severity: s } })) : [],
  );
  instruments.observe('dependencyOutdated', () => (outdatedCount === undefined ? [] : outdatedCount));
  instruments.observe('dependencyLastScan', () => (lastSuccessful ? Date.parse(lastSuccessful.generatedAt) / 1000 : []));

  async function scanOnce(): Promise<void> {
    const report = await runScan({
      cwd: deps.cwd ?? process.cwd(),
      scope: 'production',
      timeoutMs: NPM_TIMEOUT_MS,
      signal: abort.signal,
      ...replayFromEnv(env),
    });
    remember(report);
    try {
      await writeReport(config.SECURITY_SCAN_DIR, report, config.SECURITY_SCAN_KEEP);
    } catch (err) {
      logger.warn('dependency scan report could not be written', { dir: config.SECURITY_SCAN_DIR, error: { message: (err as Error).message } });
    }
    if (report.status === 'UNKNOWN') {
      instruments.dependencyScanFailures.add(1, { reason: report.failure.reason });
      logger.warn('dependency scan failed', { reason: report.failure.reason, error: { message: report.failure.message } });
    } else {
      logger.info('dependency scan completed', {
        status: report.status,
        summary: report.summary,
        advisories: report.advisories.length,
        outdated: outdatedCount,
      });
    }
  }

  /** One scheduled run under the advisory lock. Never throws: a timer has nobody to throw to. */
  async function tick(): Promise<void> {
    try {
      await withClient(pool, async (client) => {
        const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [SCAN_LOCK_KEY]);
        if (!rows[0]?.locked) {
          logger.info('dependency scan skipped: another replica is scanning');
          return;
        }
        try {
          await scanOnce();
        } finally {
          // A failed unlock rejects, and withClient then destroys the connection (and its lock).
          await client.query('SELECT pg_advisory_unlock($1)', [SCAN_LOCK_KEY]);
        }
      });
    } catch (err) {
      if (err instanceof ScanAbortedError) return;
      logger.warn('dependency scan could not start', { error: { message: (err as Error).message } });
    }
  }

  function schedule(delay: number): void {
    if (stopped || interval === 'off') return;
    timer = setTimeout(() => {
      running = tick().finally(() => {
        running = undefined;
        // Chained, not setInterval: a slow scan can never overlap the next one.
        schedule(nextDelayMs(interval));
      });
    }, delay);
    timer.unref();
  }

  return {
    name: 'scanner',
    registerRoutes(router) {
      route(router, dependencyReportRoute, adminTokenGuard(config.ADMIN_TOKEN), (ctx) => {
        if (!latest) throw new NotFoundError('Dependency scan report');
        ctx.body = { latest, lastSuccessful: lastSuccessful ?? null };
      });
    },

    start() {
      if (interval === 'off') {
        logger.info('dependency scans are off (SECURITY_SCAN_INTERVAL=off)');
        return;
      }
      const first = firstDelayMs(interval);
      const replay = replayFromEnv(env);
      logger.info('dependency scans scheduled', {
        interval: config.SECURITY_SCAN_INTERVAL,
        first_in_ms: first,
        dir: config.SECURITY_SCAN_DIR,
        // Said out loud: a replay left configured in production would hide the real audit.
        source: replay.auditFile ? `replay of ${replay.auditFile}` : 'npm audit',
      });
      // What the previous process last saw serves until the first scan here finishes.
      void readLatestReports(config.SECURITY_SCAN_DIR).then(
        (found) => {
          if (latest) return; // a scan here already finished: it is newer
          if (found.lastSuccessful) remember(found.lastSuccessful);
          if (found.latest) latest = found.latest;
        },
        (err: Error) => logger.warn('previous dependency reports could not be read', { error: { message: err.message } }),
      );
      schedule(first);
    },

    async stop() {
      stopped = true;
      clearTimeout(timer);
      abort.abort();
      await running;
    },
  };
}
