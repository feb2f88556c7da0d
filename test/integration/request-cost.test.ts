import { expect } from 'chai';
import { Agent } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { signalForJson, statusGetter } from '../helpers/preload-probe';
import { ROOT, startService, type ServiceHandle } from '../helpers/service';

/**
 * What one request costs in async resources: under AsyncLocalStorage (the OpenTelemetry context)
 * every promise, tick and timer a request creates runs Node's async-hook init, so their number is
 * a large and, unlike time, exactly repeatable part of the CPU per request (bench/README.md). The
 * budgets are the measured counts with one promise of slack: a change that adds promises to every
 * request fails here and must say why, or move the work off the hot path.
 */
const BUDGET: Record<string, { PROMISE: number; all: number }> = {
  // Measured: 2.33 promises, 15.3 resources one request at a time (bare Koa: 3 and 14; this
  // service before the step pipeline and the sliced API limiter: 22 and 34; before a synchronous
  // route settled without a promise of its own: 5.32 and 18.3, and before Koa composed the app's
  // middleware the same way: 3.33 and 16.3). Half a promise of slack: one would hide that step.
  '/api/ping': { PROMISE: 2.9, all: 16 },
  // Measured: 8.31 promises, 24.3 resources (18.35 and 33.4 before the pool's own query path and
  // the lean pg span; 36 and 51 with instrumentation-pg).
  '/api/info': { PROMISE: 9.5, all: 26 },
};

describe('async resources per request (deterministic cost budget)', function () {
  this.timeout(60_000);
  let tdb: TestDatabase;
  let svc: ServiceHandle;
  let dir: string;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });

  const get = statusGetter(() => svc.url, agent);
  /** Counts since the previous call (the service writes them on SIGUSR2). */
  const counts = () => signalForJson<Record<string, number>>(svc.child, join(dir, 'counts.json'));

  before(async () => {
    tdb = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'caly-cost-'));
    svc = await startService({
      DATABASE_URL: tdb.url,
      NODE_OPTIONS: `--require ${resolve(ROOT, 'test/fixtures/count-async-resources.cjs')}`,
      ASYNC_RESOURCE_COUNTS: join(dir, 'counts.json'),
      ACCESS_LOG: 'all',
      RATE_LIMIT_API_POINTS: '1000000', // the API budget is part of the path measured, never the answer
    });
  });
  after(async () => {
    agent.destroy();
    await svc?.stop();
    await tdb?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [path, budget] of Object.entries(BUDGET)) {
    it(`GET ${path} stays within ${budget.PROMISE} promises and ${budget.all} async resources`, async () => {
      for (let i = 0; i < 50; i++) expect(await get(path)).to.equal(200); // warm: pool connections, caches
      await counts();
      const n = 200;
      for (let i = 0; i < n; i++) expect(await get(path)).to.equal(200);
      const c = await counts();
      const perRequest = (k: string) => (c[k] ?? 0) / n;
      const all = Object.values(c).reduce((a, b) => a + b, 0) / n;
      console.log(`      ${path}: ${perRequest('PROMISE').toFixed(2)} promises, ${all.toFixed(2)} async resources per request (${JSON.stringify(c)})`);
      expect(perRequest('PROMISE')).to.be.at.most(budget.PROMISE);
      expect(all).to.be.at.most(budget.all);
    });
  }
});
