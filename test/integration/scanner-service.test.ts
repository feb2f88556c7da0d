import { expect } from 'chai';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import type { Report } from '../../src/modules/scanner/model';
import { SCAN_LOCK_KEY } from '../../src/modules/scanner/service';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { scrape, startService, type ServiceHandle } from '../helpers/service';

/**
 * SECURITY_SCAN_INTERVAL in the running service: the built service as a child process on real
 * PostgreSQL (the advisory lock), its /metrics scraped, its admin route called over HTTP. The
 * scan reads npm's output from a file (CALY_SCAN_AUDIT_FILE) that the test rewrites between
 * scans, replaying npm's documented wire format because the registry cannot audit here.
 */

const TOKEN = 'scanner-admin-token-0123456789';
const admin = { authorization: `Bearer ${TOKEN}` };
const AUDIT = (name: string) => resolve(__dirname, '..', 'fixtures', 'npm-audit', name);
const OUTDATED = (name: string) => resolve(__dirname, '..', 'fixtures', 'npm-outdated', name);

type Samples = Awaited<ReturnType<typeof scrape>>;
const series = (samples: Samples, name: string) => samples.filter((s) => s.name === name);
const bySeverity = (samples: Samples) => Object.fromEntries(series(samples, 'caly_dependency_vulnerabilities').map((s) => [s.labels.severity, s.value]));
const value = (samples: Samples, name: string, labels: Record<string, string> = {}) =>
  series(samples, name).find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

interface ErrorBody {
  error: { code: string; message: string; requestId: string };
}
interface ReportBody {
  latest: Report;
  lastSuccessful: Report | null;
}

describe('scanner in the service: scheduled scans, gauges, admin report', function () {
  this.timeout(150_000);
  let tdb: TestDatabase;
  let dir: string;
  const started: ServiceHandle[] = [];

  const start = async (env: Record<string, string>) => {
    const svc = await startService({ DATABASE_URL: tdb.url, ADMIN_TOKEN: TOKEN, DATA_DIR: join(dir, 'data'), DB_POOL_MIN: '0', ...env }, { timeoutMs: 60_000 });
    started.push(svc);
    return svc;
  };

  before(async () => {
    tdb = await createTestDatabase('caly_test_scanner');
    dir = await mkdtemp(join(tmpdir(), 'caly-scan-svc-'));
  });
  after(async () => {
    await Promise.all(started.map((s) => s.stop()));
    await tdb?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('off by default: no scan, no dependency series, 404 NOT_FOUND in the envelope for admins, 401 without the token', async () => {
    const svc = await start({ SECURITY_SCAN_DIR: join(dir, 'reports-off') });
    await svc.waitForLog((l) => l.msg === 'dependency scans are off (SECURITY_SCAN_INTERVAL=off)');

    const anonymous = await fetch(`${svc.url}/api/security/dependencies`);
    expect(anonymous.status).to.equal(401);
    expect(((await anonymous.json()) as ErrorBody).error.code).to.equal('AUTHENTICATION_ERROR');
    const wrong = await fetch(`${svc.url}/api/security/dependencies`, { headers: { authorization: 'Bearer not-the-admin-token' } });
    expect(wrong.status).to.equal(401);

    const none = await fetch(`${svc.url}/api/security/dependencies`, { headers: admin });
    expect(none.status).to.equal(404);
    const body = (await none.json()) as ErrorBody;
    expect(body.error.code).to.equal('NOT_FOUND');
    expect(body.error.message).to.equal('Dependency scan report not found');
    expect(body.error.requestId).to.be.a('string').and.not.equal('');

    const samples = await scrape(svc.metricsUrl);
    expect(series(samples, 'caly_dependency_vulnerabilities')).to.deep.equal([]);
    expect(series(samples, 'caly_dependency_last_scan_timestamp_seconds')).to.deep.equal([]);
    expect(await svc.stop()).to.equal(0);
  });

  describe('with SECURITY_SCAN_INTERVAL=2s', () => {
    let svc: ServiceHandle;
    let auditFile: string;
    let reports: string;
    let lastSuccessfulAt: string;

    before(async () => {
      auditFile = join(dir, 'audit.json');
      reports = join(dir, 'reports');
      await copyFile(AUDIT('nested-transitive.json'), auditFile);
    });

    it('skips while another replica holds the lock, then scans and exports the gauges', async () => {
      // Play the other replica: hold the scan lock on the same database.
      const other = new pg.Client({ connectionString: tdb.url });
      await other.connect();
      await other.query('SELECT pg_advisory_lock($1)', [SCAN_LOCK_KEY]);
      try {
        svc = await start({
          SECURITY_SCAN_INTERVAL: '2s',
          SECURITY_SCAN_DIR: reports,
          SECURITY_SCAN_KEEP: '5',
          CALY_SCAN_AUDIT_FILE: auditFile,
          CALY_SCAN_OUTDATED_FILE: OUTDATED('outdated-long.json'),
        });
        await svc.waitForLog((l) => l.msg === 'dependency scan skipped: another replica is scanning', 20_000);
        expect(svc.logs.some((l) => l.msg === 'dependency scan completed')).to.equal(false);
        expect((await fetch(`${svc.url}/api/security/dependencies`, { headers: admin })).status).to.equal(404);
      } finally {
        await other.end(); // the session ends, so does its lock
      }

      const done = await svc.waitForLog((l) => l.msg === 'dependency scan completed', 20_000);
      expect(done.status).to.equal('FAILED');
      const samples = await scrape(svc.metricsUrl);
      expect(bySeverity(samples)).to.deep.equal({ critical: 4, high: 1, moderate: 2, low: 0, info: 0 });
      expect(value(samples, 'caly_dependency_outdated')).to.equal(5);
      const lastScan = value(samples, 'caly_dependency_last_scan_timestamp_seconds')!;
      expect(lastScan).to.be.within(Date.now() / 1000 - 60, Date.now() / 1000 + 1);
      expect(series(samples, 'caly_dependency_scan_failures_total')).to.deep.equal([]);
    });

    it('serves the last report to admins at GET /api/security/dependencies and keeps it on disk', async () => {
      const res = await fetch(`${svc.url}/api/security/dependencies`, { headers: admin });
      expect(res.status).to.equal(200);
      const body = (await res.json()) as ReportBody;
      expect(body.latest.status).to.equal('FAILED');
      expect(body.latest.scope).to.equal('production');
      expect(body.latest.status !== 'UNKNOWN' && body.latest.advisories.map((a) => a.package)).to.include('minimist');
      expect(body.lastSuccessful?.status).to.equal('FAILED');
      expect((await readdir(reports)).filter((n) => n.startsWith('report-'))).to.not.be.empty;
    });

    it('a failed scan counts a failure by reason, reports UNKNOWN, and keeps the last good values', async () => {
      await copyFile(AUDIT('error-405.json'), auditFile);
      const failed = await svc.waitForLog((l) => l.msg === 'dependency scan failed', 20_000);
      expect(failed.reason).to.equal('audit_unavailable');

      let samples = await scrape(svc.metricsUrl);
      const body = (await (await fetch(`${svc.url}/api/security/dependencies`, { headers: admin })).json()) as ReportBody;
      expect(value(samples, 'caly_dependency_scan_failures_total', { reason: 'audit_unavailable' })).to.be.at.least(1);
      expect(bySeverity(samples)).to.deep.equal({ critical: 4, high: 1, moderate: 2, low: 0, info: 0 });
      // The timestamp is the last good scan's, older than the failed one.
      lastSuccessfulAt = body.lastSuccessful!.generatedAt;
      expect(value(samples, 'caly_dependency_last_scan_timestamp_seconds')).to.equal(Date.parse(lastSuccessfulAt) / 1000);
      expect(Date.parse(lastSuccessfulAt)).to.be.below(Date.parse(body.latest.generatedAt));
      expect(body.latest.status).to.equal('UNKNOWN');
      expect(body.latest.status === 'UNKNOWN' && body.latest.failure.reason).to.equal('audit_unavailable');
      expect(body.latest.status === 'UNKNOWN' && body.latest.failure.message).to.match(/405 Method Not Allowed/);
      expect(body.lastSuccessful?.status).to.equal('FAILED');

      // Output that is not a report at all is a parse_error, counted separately.
      await copyFile(AUDIT('truncated.txt'), auditFile);
      await svc.waitForLog((l) => l.msg === 'dependency scan failed' && l.reason === 'parse_error', 20_000);
      samples = await scrape(svc.metricsUrl);
      expect(value(samples, 'caly_dependency_scan_failures_total', { reason: 'parse_error' })).to.be.at.least(1);
      expect(bySeverity(samples).critical).to.equal(4);
      // Rotation keeps SECURITY_SCAN_KEEP files however many scans ran.
      expect((await readdir(reports)).filter((n) => n.startsWith('report-')).length).to.be.at.most(5);
    });

    it('stops its schedule on shutdown and exits cleanly', async () => {
      expect(await svc.stop()).to.equal(0);
      expect(svc.logs.some((l) => l.msg === 'shutdown hook failed')).to.equal(false);
    });

    it('after a restart, serves the reports left on disk (and their gauges) until its own first scan', async () => {
      const again = await start({ SECURITY_SCAN_INTERVAL: '1d', SECURITY_SCAN_DIR: reports, CALY_SCAN_AUDIT_FILE: auditFile });
      await again.waitForLog((l) => l.msg === 'dependency scans scheduled');
      let body: ReportBody | undefined;
      for (let i = 0; i < 50 && !body; i++) {
        const res = await fetch(`${again.url}/api/security/dependencies`, { headers: admin });
        if (res.status === 200) body = (await res.json()) as ReportBody;
        else await new Promise((r) => setTimeout(r, 100));
      }
      expect(body, 'the reports on disk were not loaded').to.not.equal(undefined);
      expect(body!.latest.status).to.equal('UNKNOWN');
      expect(body!.lastSuccessful?.generatedAt).to.equal(lastSuccessfulAt);
      const samples = await scrape(again.metricsUrl);
      expect(bySeverity(samples)).to.deep.equal({ critical: 4, high: 1, moderate: 2, low: 0, info: 0 });
      expect(value(samples, 'caly_dependency_last_scan_timestamp_seconds')).to.equal(Date.parse(lastSuccessfulAt) / 1000);
      expect(again.logs.some((l) => String(l.msg).startsWith('dependency scan '))).to.equal(false); // no scan of its own yet
      expect(await again.stop()).to.equal(0);
    });
  });
});
