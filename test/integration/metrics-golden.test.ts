import { readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { ROOT, scrape, startService, type ServiceHandle } from '../helpers/service';

interface Pinned {
  name: string;
  type: string;
  required: string[];
  optional: string[];
}

/** Parses the golden table of otel/metrics.md: the contract rules and dashboards rely on. */
export function pinnedMetrics(): { pinned: Pinned[]; documented: Set<string> } {
  const doc = readFileSync(resolve(ROOT, 'otel/metrics.md'), 'utf8');
  const table = doc.slice(doc.indexOf('<!-- golden:begin'), doc.indexOf('<!-- golden:end'));
  const pinned: Pinned[] = [];
  for (const row of table.split('\n')) {
    const cells = row.split('|').map((c) => c.trim());
    const name = /^`([a-z_][a-z0-9_]*)`$/.exec(cells[1] ?? '')?.[1];
    if (!name) continue;
    const labels = [...(cells[3] ?? '').replace(/\([^)]*\)/g, '').matchAll(/`([a-z_][a-z0-9_]*)`(\?)?/g)];
    pinned.push({
      name,
      type: (cells[2] ?? '').split(' ')[0]!,
      required: labels.filter((l) => !l[2]).map((l) => l[1]!),
      optional: labels.filter((l) => l[2]).map((l) => l[1]!),
    });
  }
  const documented = new Set([...doc.matchAll(/^\| `([a-z_][a-z0-9_]*)`/gm)].map((m) => m[1]!));
  return { pinned, documented };
}

/** The metric family of a sample: histogram samples end in _bucket/_sum/_count, a gauge may too. */
const familyOf = (documented: Set<string>) => (sample: string) => (documented.has(sample) ? sample : sample.replace(/_(bucket|sum|count)$/, ''));

describe('telemetry contract: the /metrics scrape matches otel/metrics.md', function () {
  this.timeout(60_000);
  let tdb: TestDatabase;
  let svc: ServiceHandle;
  let samples: Awaited<ReturnType<typeof scrape>>;

  before(async () => {
    tdb = await createTestDatabase();
    svc = await startService({
      DATABASE_URL: tdb.url,
      SLOW_QUERY_MS: '1',
      SLOW_REQUEST_MS: '1',
      // one scheduled dependency scan, replaying npm's report format (the registry's audit endpoint
      // is unreachable here), so that the scanner's gauges exist
      SECURITY_SCAN_INTERVAL: '4s',
      SECURITY_SCAN_DIR: `${tdb.name}-scan`,
      CALY_SCAN_AUDIT_FILE: resolve(ROOT, 'test/fixtures/npm-audit/nested-transitive.json'),
      CALY_SCAN_OUTDATED_FILE: resolve(ROOT, 'test/fixtures/npm-outdated/outdated-long.json'),
    });
    await svc.waitForLog((l) => l.msg === 'dependency scan completed', 30_000);
    // traffic that makes every pinned series exist: routes, a 404, a slow query and request
    for (let i = 0; i < 5; i++) {
      await fetch(`${svc.url}/api/info`);
      await fetch(`${svc.url}/api/ping`);
      await fetch(`${svc.url}/definitely/not/here`);
    }
    // an SQL-injection probe: a security anomaly finding
    await fetch(`${svc.url}/api/ping?q=${encodeURIComponent("' OR 1=1 --")}`);
    // one login more than RATE_LIMIT_LOGIN_POINTS (6): a rate-limit rejection
    for (let i = 0; i < 7; i++) {
      await fetch(`${svc.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'golden@example.com', password: 'wrong-password' }),
      });
    }
    // the audit events of those logins are stored in a batch shortly after (AUDIT_FLUSH_INTERVAL_MS)
    const until = Date.now() + 10_000;
    do {
      await new Promise((r) => setTimeout(r, 200));
      samples = await scrape(svc.metricsUrl);
    } while (!samples.some((s) => s.name === 'caly_audit_flush_duration_seconds_count') && Date.now() < until);
  });
  after(async () => {
    await svc?.stop();
    rmSync(resolve(ROOT, `${tdb.name}-scan`), { recursive: true, force: true });
    await tdb?.drop();
  });

  it('names carry their unit (Prometheus naming), and every # UNIT is the suffix of its name', async () => {
    const text = await (await fetch(svc.metricsUrl)).text();
    const units = [...text.matchAll(/^# UNIT (\S+) (\S+)$/gm)].map((m) => ({ name: m[1]!, unit: m[2]! }));
    expect(units.length).to.be.greaterThan(10);
    for (const { name, unit } of units) expect(name.replace(/_total$/, '').endsWith(`_${unit}`), `${name} ${unit}`).to.equal(true);
    for (const n of [
      'http_server_request_duration_seconds_bucket',
      'db_client_operation_duration_seconds_count',
      'nodejs_eventloop_delay_p99_seconds',
      'v8js_memory_heap_used_bytes',
      'nodejs_eventloop_time_seconds_total',
    ])
      expect(
        samples.some((s) => s.name === n),
        n,
      ).to.equal(true);
  });

  it('every pinned metric is served with exactly its documented labels', () => {
    const { pinned, documented } = pinnedMetrics();
    const family = familyOf(documented);
    expect(pinned.length).to.be.greaterThan(20);
    for (const p of pinned) {
      const series = samples.filter((s) => family(s.name) === p.name || s.name === p.name);
      expect(series, `${p.name} is missing from the scrape`).to.not.be.empty;
      if (p.type === 'histogram') {
        for (const suffix of ['_bucket', '_sum', '_count'])
          expect(
            series.some((s) => s.name === p.name + suffix),
            p.name + suffix,
          ).to.equal(true);
      }
      for (const s of series) {
        const keys = Object.keys(s.labels).filter((k) => k !== 'le');
        for (const r of p.required) expect(keys, `${s.name} lacks required label ${r}`).to.include(r);
        for (const k of keys) expect([...p.required, ...p.optional], `${s.name} has undocumented label ${k}`).to.include(k);
      }
    }
  });

  it('serves no metric that the contract does not document', () => {
    const { documented } = pinnedMetrics();
    const family = familyOf(documented);
    const served = new Set(samples.map((s) => family(s.name)));
    const undocumented = [...served].filter((n) => !documented.has(n));
    expect(undocumented).to.deep.equal([]);
  });

  it('http.server.request.duration uses the semantic-convention seconds buckets and bounded routes', () => {
    const les = new Set(samples.filter((s) => s.name === 'http_server_request_duration_seconds_bucket').map((s) => s.labels.le));
    expect([...les]).to.have.members(['0.005', '0.01', '0.025', '0.05', '0.075', '0.1', '0.25', '0.5', '0.75', '1', '2.5', '5', '7.5', '10', '+Inf']);
    const routes = new Set(samples.filter((s) => s.name === 'http_server_request_duration_seconds_count').map((s) => s.labels.http_route));
    expect(routes).to.include('/api/info');
    expect([...routes].some((r) => r?.includes('definitely'))).to.equal(false); // raw paths never become labels
    const unmatched = samples.find((s) => s.name === 'http_server_request_duration_seconds_count' && s.labels.http_response_status_code === '404');
    expect(unmatched?.labels).not.to.have.property('http_route');
  });

  it('db.client.operation.duration keeps its buckets and counts every query of the service, bounded by operation', () => {
    const buckets = samples.filter((s) => s.name === 'db_client_operation_duration_seconds_bucket' && s.labels.db_namespace === tdb.name);
    expect(new Set(buckets.map((s) => s.labels.le))).to.deep.equal(new Set(['0.001', '0.005', '0.01', '0.05', '0.1', '0.5', '1', '5', '10', '+Inf']));
    const ops = new Set(buckets.map((s) => s.labels.db_operation_name));
    for (const op of ['SELECT', 'INSERT', 'BEGIN', 'COMMIT']) expect(ops, op).to.include(op); // requests, audit batches, migrations
    for (const op of ops) expect(op).to.match(/^[A-Z]+$/);
    const info = samples.find((s) => s.name === 'db_client_operation_duration_seconds_count' && s.labels.db_operation_name === 'SELECT');
    expect(info?.labels).to.include({ db_system_name: 'postgresql', db_namespace: tdb.name, server_address: '127.0.0.1', server_port: '5432' });
  });

  it('request count in the histogram equals requests served', async () => {
    const before = (await scrape(svc.metricsUrl))
      .filter((s) => s.name === 'http_server_request_duration_seconds_count' && s.labels.http_route === '/api/ping')
      .reduce((a, s) => a + s.value, 0);
    await Promise.all(Array.from({ length: 25 }, () => fetch(`${svc.url}/api/ping`).then((r) => r.arrayBuffer())));
    const after = (await scrape(svc.metricsUrl))
      .filter((s) => s.name === 'http_server_request_duration_seconds_count' && s.labels.http_route === '/api/ping')
      .reduce((a, s) => a + s.value, 0);
    expect(after - before).to.equal(25);
  });
});
