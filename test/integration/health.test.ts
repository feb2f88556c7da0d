import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { scrape, startService, type ServiceHandle } from '../helpers/service';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';

const TOKEN = 'health-token-for-tests-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

interface Health {
  status: string;
  reasons?: string[];
  checks?: Record<string, { status: string; [k: string]: unknown }>;
  requests?: { count: number; p50Ms: number | null; p95Ms: number | null; p99Ms: number | null; errorRate: number };
  pool?: { total: number; idle: number; used: number; waiting: number; max: number };
  slowRequests?: number;
}

describe('health, slow requests and slow queries, database outage', function () {
  this.timeout(90_000);
  let tdb: TestDatabase;
  let proxy: TcpProxy;
  let svc: ServiceHandle;

  before(async () => {
    tdb = await createTestDatabase();
    proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
    svc = await startService({
      DATABASE_URL: proxy.url(tdb.name),
      HEALTH_TOKEN: TOKEN,
      SLOW_QUERY_MS: '40',
      SLOW_REQUEST_MS: '100',
      HEALTH_CHECK_TIMEOUT_MS: '500',
      DB_CONNECTION_TIMEOUT: '500',
      DB_POOL_MIN: '0',
    });
  });
  after(async () => {
    await svc?.stop();
    await proxy?.close();
    await tdb?.drop();
  });

  it('live, ready, detailed and metrics answer healthy', async () => {
    const live = await fetch(`${svc.url}/health/live`);
    expect(live.status).to.equal(200);
    expect(((await live.json()) as Health).status).to.equal('healthy');
    const ready = await fetch(`${svc.url}/health/ready`);
    expect(ready.status).to.equal(200);
    const detailed = (await (await fetch(`${svc.url}/health/detailed`, { headers: auth })).json()) as Health;
    // event-loop delay may read "degraded" on a loaded CI machine; everything else must be healthy
    expect(detailed.status).to.be.oneOf(['healthy', 'degraded']);
    for (const name of ['database', 'migrations', 'encryption']) expect(detailed.checks![name]!.status, name).to.equal('healthy');
    expect(Object.keys(detailed.checks!)).to.include.members(['database', 'migrations', 'encryption', 'memory', 'eventLoop', 'audit']);
    expect(detailed.checks!.audit).to.include({ status: 'healthy' });
    expect(detailed.checks!.audit!.backlog).to.be.a('number');
    expect(detailed.checks!.database!.pool).to.include.keys('total', 'idle', 'used', 'waiting', 'max');
    expect(detailed.checks!.encryption!.status).to.equal('healthy');
    for (const c of Object.values(detailed.checks!)) expect(c.responseTimeMs).to.be.a('number');
  });

  it('detailed and metrics are guarded by HEALTH_TOKEN', async () => {
    for (const path of ['/health/detailed', '/health/metrics']) {
      const none = await fetch(`${svc.url}${path}`);
      expect(none.status).to.equal(401);
      const wrong = await fetch(`${svc.url}${path}`, { headers: { authorization: 'Bearer nope' } });
      expect(wrong.status).to.equal(401);
      expect(((await wrong.json()) as { error: { code: string } }).error.code).to.equal('AUTHENTICATION_ERROR');
    }
  });

  it('/health/metrics reports counts and p50/p95/p99 from the histogram Prometheus scrapes', async () => {
    for (let i = 0; i < 20; i++) await fetch(`${svc.url}/api/ping`);
    const m = (await (await fetch(`${svc.url}/health/metrics`, { headers: auth })).json()) as Health;
    expect(m.requests!.count).to.be.greaterThanOrEqual(20);
    expect(m.requests!.p50Ms).to.be.a('number').greaterThan(0);
    expect(m.requests!.p99Ms).to.be.at.least(m.requests!.p95Ms!);
    expect(m.requests!.p95Ms).to.be.at.least(m.requests!.p50Ms!);
    const samples = await scrape(svc.metricsUrl);
    const scraped = samples
      .filter((s) => s.name === 'http_server_request_duration_seconds_count' && !String(s.labels.http_route ?? '').startsWith('/health/'))
      .reduce((a, s) => a + s.value, 0);
    // the JSON view and the scrape read the same buckets (the scrape may include this request)
    expect(scraped).to.be.within(m.requests!.count, m.requests!.count + 1);
    expect(m.pool).to.include.keys('total', 'idle', 'used', 'waiting', 'max');
  });

  it('a slow query and a slow request: warn lines, span events (via metrics) and counters', async () => {
    proxy.setLatency(60);
    try {
      const res = await fetch(`${svc.url}/api/info`);
      expect(res.status).to.equal(200);
      const id = res.headers.get('x-request-id');
      const q = await svc.waitForLog((l) => l.msg === 'slow query' && l.trace_id === id?.slice(0, 32));
      expect(q.level).to.equal('warn');
      expect(q.sql).to.equal('SELECT value FROM app_meta WHERE key = $1');
      expect(JSON.stringify(q)).not.to.include('installation_id'); // parameter values never logged
      const r = await svc.waitForLog((l) => l.request_id === id && l.msg === 'slow request');
      expect(r.level).to.equal('warn');
      expect(r.slow).to.equal(true);
    } finally {
      proxy.setLatency(0);
    }
    const samples = await scrape(svc.metricsUrl);
    const slowQ = samples.find((s) => s.name === 'caly_db_slow_queries_total' && s.labels.db_operation_name === 'SELECT');
    const slowR = samples.find((s) => s.name === 'caly_http_slow_requests_total' && s.labels.http_route === '/api/info');
    expect(slowQ?.value).to.be.greaterThan(0);
    expect(slowR?.value).to.be.greaterThan(0);
  });

  it('with the database unreachable: ready 503 with reasons, detailed unhealthy, live 200, no crash; then recovers', async () => {
    proxy.cut();
    try {
      const ready = await fetch(`${svc.url}/health/ready`);
      expect(ready.status).to.equal(503);
      const body = (await ready.json()) as Health;
      expect(body.status).to.equal('unhealthy');
      expect(body.reasons!.join(' ')).to.match(/database/);
      const detailed = await fetch(`${svc.url}/health/detailed`, { headers: auth });
      expect(detailed.status).to.equal(503);
      expect(((await detailed.json()) as Health).checks!.database!.status).to.equal('unhealthy');
      expect((await fetch(`${svc.url}/health/live`)).status).to.equal(200);

      const info = await fetch(`${svc.url}/api/info`, { headers: { authorization: 'Bearer do-not-log-me', cookie: 'session=do-not-log-me-either' } });
      expect(info.status).to.equal(503);
      const env = (await info.json()) as { error: { code: string; message: string } };
      expect(env.error.code).to.equal('SERVICE_UNAVAILABLE');
      expect(env.error.message).not.to.match(/ECONNREFUSED|127\.0\.0\.1|timeout exceeded/);
      const line = await svc.waitForLog((l) => l.request_id === info.headers.get('x-request-id'));
      expect(line.level).to.equal('error');
      expect(line.request_headers).to.be.an('object'); // 5xx lines carry headers for debugging …
      expect(JSON.stringify(line)).not.to.include('do-not-log-me'); // … redacted
    } finally {
      proxy.restore();
    }
    const back = await fetch(`${svc.url}/health/ready`);
    expect(back.status).to.equal(200);
    expect(svc.child.exitCode).to.equal(null);
  });
});
