import { request as httpRequest } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { scrape, startService, type LogLine, type ServiceHandle } from '../helpers/service';

/**
 * Anomaly detection end to end: the built service as a child process, real PostgreSQL (its audit
 * trail included), real HTTP, a real /metrics scrape. Requests go through node:http so that each
 * header (or its absence, for User-Agent) is exactly what the test says.
 */
const UA = 'caly-anomaly-e2e/1.0';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(base: string, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: opts.method ?? 'GET',
        path,
        headers: {
          ...(opts.body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(opts.body)) } : {}),
          ...opts.headers,
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

type Sample = { name: string; labels: Record<string, string>; value: number };
const total = (samples: Sample[], name: string, labels: Record<string, string | undefined>) =>
  samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => (v === undefined ? !(k in s.labels) : s.labels[k] === v)))
    .reduce((a, s) => a + s.value, 0);

const anomalyLines = (svc: ServiceHandle, requestId?: string): LogLine[] =>
  svc.logs.filter((l) => l.msg === 'security anomaly' && (requestId === undefined || l.request_id === requestId));

const SQLI = "' OR '1'='1' --";

describe('anomaly detection: service process, monitor mode', function () {
  this.timeout(60_000);
  let tdb: TestDatabase;
  let dataDir: string;
  let svc: ServiceHandle;

  before(async () => {
    tdb = await createTestDatabase();
    dataDir = await mkdtemp(join(tmpdir(), 'caly-anomaly-'));
    svc = await startService({
      DATABASE_URL: tdb.url,
      DATA_DIR: dataDir,
      DB_POOL_MIN: '0',
      ANOMALY_MODE: 'monitor',
      BODY_LIMIT_BYTES: '2048',
      RATE_LIMIT_API_POINTS: '10000',
    });
  });
  after(async () => {
    await svc?.stop();
    await tdb?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('benign traffic produces no finding: apostrophes, SQL words in prose, several parameters, + phone numbers, JSON punctuation, URLs', async () => {
    const before = svc.logs.length;
    const qs = new URLSearchParams({
      name: "Seán O'Brien",
      q: 'please select the order and update me; drop me a line',
      phone: '+91 98765 43210',
      page: '2',
      redirect: 'https://example.com/a?b=1&c=2',
      note: 'मेरा ऑर्डर #123 (urgent) - refund?',
    }).toString();
    const replies = await Promise.all([
      send(svc.url, `/api/ping?${qs}`, { headers: { 'user-agent': UA, referer: 'https://app.caly.ai/calls?tab=open&page=2' } }),
      send(svc.url, '/api/ping?name=D%27Souza&phone=%2B919876543210&sort=id', { headers: { 'user-agent': UA, 'x-forwarded-for': '203.0.113.9' } }),
      send(svc.url, '/api/does-not-exist', {
        method: 'POST',
        headers: { 'user-agent': UA },
        body: JSON.stringify({
          name: "O'Neil & Sons",
          note: 'call back @ 5pm; ask for Priya (manager) :-)',
          meta: { tags: ['vip', 'a/b'], b64: 'aGVsbG8gd29ybGQ=' },
        }),
      }),
      send(svc.url, '/health/live', { headers: { 'user-agent': UA } }),
    ]);
    expect(replies.map((r) => r.status)).to.deep.equal([200, 200, 404, 200]);
    expect(svc.logs.slice(before).filter((l) => l.msg === 'security anomaly')).to.deep.equal([]);
    const samples = await scrape(svc.metricsUrl);
    expect(samples.filter((s) => s.name === 'caly_security_anomalies_total')).to.deep.equal([]);
  });

  it('SQL injection in a query string is flagged on an existing route (metric, warn line) and the request is still served', async () => {
    const res = await send(svc.url, `/api/ping?page=1&q=${encodeURIComponent(SQLI)}`, { headers: { 'user-agent': UA } });
    expect(res.status).to.equal(200);
    const requestId = String(res.headers['x-request-id']);
    const line = await svc.waitForLog((l) => l.msg === 'security anomaly' && l.request_id === requestId);
    expect(line).to.include({ level: 'warn', kind: 'sql_injection', location: 'query.q', route: '/api/ping', action: 'flagged' });
    expect(String(line.rule)).to.match(/^sqli\./);
    const raw = JSON.stringify(line);
    for (const fragment of ["'1'='1", '1=1', "OR '1", '%27']) expect(raw, 'the payload never reaches the warn line').to.not.include(fragment);
    const samples = await scrape(svc.metricsUrl);
    expect(total(samples, 'caly_security_anomalies_total', { kind: 'sql_injection', http_route: '/api/ping' })).to.be.at.least(1);
  });

  it('SQL injection on an unknown route is flagged too, without a route label', async () => {
    const res = await send(svc.url, `/no/such/route?id=${encodeURIComponent('1 UNION SELECT password FROM users--')}`, { headers: { 'user-agent': UA } });
    expect(res.status).to.equal(404);
    const requestId = String(res.headers['x-request-id']);
    const line = await svc.waitForLog((l) => l.msg === 'security anomaly' && l.request_id === requestId);
    expect(line).to.include({ kind: 'sql_injection', location: 'query.id', rule: 'sqli.union_select' });
    expect(line.route).to.equal(undefined);
    const samples = await scrape(svc.metricsUrl);
    expect(total(samples, 'caly_security_anomalies_total', { kind: 'sql_injection', http_route: undefined })).to.be.at.least(1);
  });

  it('decodes before matching: double-encoded, plus-as-space and entity-encoded payloads in the path, query and body', async () => {
    const path = await send(svc.url, '/static/..%252f..%252fetc%252fpasswd', { headers: { 'user-agent': UA } });
    const plus = await send(svc.url, "/api/ping?q=1'+or+'a'='a", { headers: { 'user-agent': UA } });
    const body = await send(svc.url, '/api/whatever', {
      method: 'POST',
      headers: { 'user-agent': UA },
      body: JSON.stringify({ ticket: { comment: '&lt;img src=x onerror=alert(1)&gt;' } }),
    });
    const kindsOf = (r: Reply) => anomalyLines(svc, String(r.headers['x-request-id'])).map((l) => `${l.kind}@${l.location}`);
    await svc.waitForLog((l) => l.request_id === body.headers['x-request-id'] && l.msg === 'security anomaly');
    expect(kindsOf(path)).to.include('path_traversal@path');
    expect(kindsOf(plus)).to.include('sql_injection@query.q');
    expect(kindsOf(body)).to.include('xss@body.ticket.comment');
  });

  it('a missing User-Agent is flagged on /api/ping but not on /health/live', async () => {
    const api = await send(svc.url, '/api/ping');
    const probe = await send(svc.url, '/health/live');
    expect([api.status, probe.status]).to.deep.equal([200, 200]);
    const line = await svc.waitForLog((l) => l.msg === 'security anomaly' && l.request_id === api.headers['x-request-id']);
    expect(line).to.include({ kind: 'missing_user_agent', rule: 'ua.missing', route: '/api/ping' });
    // The access line is written after everything the request logged: once it is in, an anomaly
    // line for the probe would be too.
    await svc.waitForLog((l) => l.request_id === probe.headers['x-request-id'] && typeof l.status === 'number');
    expect(anomalyLines(svc, String(probe.headers['x-request-id']))).to.deep.equal([]);
    const samples = await scrape(svc.metricsUrl);
    expect(total(samples, 'caly_security_anomalies_total', { kind: 'missing_user_agent', http_route: '/api/ping' })).to.be.at.least(1);
    expect(total(samples, 'caly_security_anomalies_total', { kind: 'missing_user_agent', http_route: '/health/live' })).to.equal(0);
  });

  it('flags X-Original-URL, X-Rewrite-URL and an X-Forwarded-Host that differs from Host, not a matching one', async () => {
    const original = await send(svc.url, '/api/ping', { headers: { 'user-agent': UA, 'x-original-url': '/admin' } });
    const rewrite = await send(svc.url, '/api/ping', { headers: { 'user-agent': UA, 'x-rewrite-url': '/admin' } });
    const host = new URL(svc.url).host;
    const differs = await send(svc.url, '/api/ping', { headers: { 'user-agent': UA, 'x-forwarded-host': 'evil.example' } });
    const same = await send(svc.url, '/api/ping', { headers: { 'user-agent': UA, 'x-forwarded-host': host } });
    await svc.waitForLog((l) => l.request_id === differs.headers['x-request-id'] && l.msg === 'security anomaly');
    const rules = (r: Reply) => anomalyLines(svc, String(r.headers['x-request-id'])).map((l) => l.rule);
    expect(rules(original)).to.deep.equal(['hdr.x_original_url']);
    expect(rules(rewrite)).to.deep.equal(['hdr.x_rewrite_url']);
    expect(rules(differs)).to.deep.equal(['hdr.forwarded_host_mismatch']);
    expect(rules(same)).to.deep.equal([]);
  });

  it('a body over the limit is refused with 413 by the parser and recorded as oversized', async () => {
    const res = await send(svc.url, '/api/anything', { method: 'POST', headers: { 'user-agent': UA }, body: JSON.stringify({ blob: 'x'.repeat(4096) }) });
    expect(res.status).to.equal(413);
    expect(JSON.parse(res.body).error.code).to.equal('PAYLOAD_TOO_LARGE');
    const line = await svc.waitForLog((l) => l.msg === 'security anomaly' && l.request_id === res.headers['x-request-id']);
    expect(line).to.include({ kind: 'oversized', rule: 'size.body_limit', location: 'body' });
    const samples = await scrape(svc.metricsUrl);
    expect(total(samples, 'caly_security_anomalies_total', { kind: 'oversized' })).to.be.at.least(1);
  });

  it('audits every finding as SECURITY_VIOLATION: stored, or held back and counted for a summary, never dropped', async () => {
    // Several findings from 127.0.0.1 by now (earlier tests), plus a flood of SQL injection probes.
    for (let i = 0; i < 80; i++) await send(svc.url, `/api/ping?q=${encodeURIComponent(SQLI)}`, { headers: { 'user-agent': UA } });
    const client = new pg.Client({ connectionString: tdb.url });
    await client.connect();
    try {
      const stored = async () =>
        Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM audit_logs WHERE event_type = 'SECURITY_VIOLATION'`)).rows[0]!.n);
      const counts = async () => {
        const samples = await scrape(svc.metricsUrl);
        return {
          findings: total(samples, 'caly_security_anomalies_total', {}),
          heldBack: total(samples, 'caly_audit_held_back_total', { event_type: 'SECURITY_VIOLATION' }),
        };
      };
      let c = await counts();
      let rows = await stored();
      for (let i = 0; i < 100 && rows + c.heldBack !== c.findings; i++) {
        await new Promise((r) => setTimeout(r, 100));
        [c, rows] = [await counts(), await stored()];
      }
      expect(c.findings).to.be.greaterThan(80);
      expect(rows + c.heldBack, `${rows} stored + ${c.heldBack} held back = ${c.findings} findings`).to.equal(c.findings);
      expect(c.heldBack, 'an anonymous flood is throttled past AUDIT_THROTTLE_PER_MINUTE').to.be.greaterThan(0);
      const kinds = await client.query<{ kind: string; outcome: string }>(
        `SELECT DISTINCT metadata->>'kind' AS kind, outcome FROM audit_logs WHERE event_type = 'SECURITY_VIOLATION'`,
      );
      expect(kinds.rows.map((r) => r.kind)).to.include.members(['sql_injection', 'missing_user_agent', 'suspicious_headers', 'oversized']);
      expect(kinds.rows.every((r) => r.outcome === 'SECURITY_ALERT')).to.equal(true);
      const text = await client.query<{ text: string }>(`SELECT row_to_json(a)::text AS text FROM audit_logs a WHERE event_type = 'SECURITY_VIOLATION'`);
      for (const r of text.rows) expect(r.text, 'no payload in the audit trail').to.not.match(/1'='1|UNION SELECT|onerror/i);
    } finally {
      await client.end();
    }
  });
});

describe('anomaly detection: service process, block mode', function () {
  this.timeout(60_000);
  let tdb: TestDatabase;
  let dataDir: string;
  let svc: ServiceHandle;

  before(async () => {
    tdb = await createTestDatabase();
    dataDir = await mkdtemp(join(tmpdir(), 'caly-anomaly-block-'));
    svc = await startService({ DATABASE_URL: tdb.url, DATA_DIR: dataDir, DB_POOL_MIN: '0', ANOMALY_MODE: 'block', RATE_LIMIT_API_POINTS: '10000' });
  });
  after(async () => {
    await svc?.stop();
    await tdb?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses a flagged request with 403 SECURITY_VIOLATION in the envelope and counts it', async () => {
    const res = await send(svc.url, `/api/ping?q=${encodeURIComponent(SQLI)}`, { headers: { 'user-agent': UA } });
    expect(res.status).to.equal(403);
    const body = JSON.parse(res.body) as { error: { code: string; message: string; requestId: string } };
    expect(body.error.code).to.equal('SECURITY_VIOLATION');
    expect(body.error.requestId).to.equal(res.headers['x-request-id']);
    expect(body.error.message, 'names no rule').to.not.match(/sql|inject|rule/i);
    const line = await svc.waitForLog((l) => l.msg === 'security anomaly' && l.request_id === body.error.requestId);
    expect(line).to.include({ kind: 'sql_injection', action: 'blocked' });
    const samples = await scrape(svc.metricsUrl);
    expect(total(samples, 'caly_security_blocked_total', { kind: 'sql_injection', http_route: '/api/ping' })).to.equal(1);
    expect(total(samples, 'caly_errors_total', { caly_error_code: 'SECURITY_VIOLATION' })).to.be.at.least(1);
  });

  it('refuses a flagged JSON body and an unknown-route probe, and still serves benign requests', async () => {
    const body = await send(svc.url, '/api/x', { method: 'POST', headers: { 'user-agent': UA }, body: JSON.stringify({ cmd: '; cat /etc/passwd' }) });
    const unknown = await send(svc.url, '/wp-admin/../../etc/passwd', { headers: { 'user-agent': UA } });
    const benign = await send(svc.url, `/api/ping?name=${encodeURIComponent("O'Brien")}&q=${encodeURIComponent('drop me a line')}`, {
      headers: { 'user-agent': UA },
    });
    expect([body.status, unknown.status, benign.status]).to.deep.equal([403, 403, 200]);
    expect(JSON.parse(body.body).error.code).to.equal('SECURITY_VIOLATION');
    const samples = await scrape(svc.metricsUrl);
    expect(total(samples, 'caly_security_blocked_total', { kind: 'command_injection', http_route: undefined })).to.equal(1);
    expect(total(samples, 'caly_security_blocked_total', { kind: 'path_traversal', http_route: undefined })).to.equal(1);
  });
});
