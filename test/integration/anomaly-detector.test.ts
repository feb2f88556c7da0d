import { request as httpRequest } from 'node:http';
import { expect } from 'chai';
import type { AuditEventInput, AuditRequestContext, AuditSink } from '../../src/platform/audit/catalogue';
import { decodeForScan } from '../../src/platform/security/anomaly/decode';
import { BODY_MAX_DEPTH, inspectBody, inspectRequestLine } from '../../src/platform/security/anomaly/inspect';
import { serverToServer } from '../../src/platform/security/anomaly';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { startInProcessApp, type InProcessApp } from '../helpers/inprocess';
import { spanExporter } from '../setup/telemetry';

const line = (querystring: string, headers: Record<string, string> = { 'user-agent': 't', host: 'h' }, path = '/api/x') =>
  inspectRequestLine({ path, querystring, headers }, { userAgentOptional: () => false });

describe('anomaly detection: decoder', () => {
  it('decodes percent-encoding up to two nested levels, and no further', () => {
    expect(decodeForScan('%27', false)).to.equal("'");
    expect(decodeForScan('%2527', false)).to.equal("'");
    expect(decodeForScan('%252527', false)).to.equal("'");
    expect(decodeForScan('%25252527', false), 'a fourth level stays encoded').to.equal('%27');
  });

  it('turns + into a space only where asked (query and Referer), and keeps %2B a plus', () => {
    expect(decodeForScan('a+b', true)).to.equal('a b');
    expect(decodeForScan('a+b', false)).to.equal('a+b');
    expect(decodeForScan('%2B91+98765', true)).to.equal('+91 98765');
  });

  it('survives malformed input and decodes what it can: lone %, truncated and overlong UTF-8, IIS %u', () => {
    expect(decodeForScan('100%', false)).to.equal('100%');
    expect(decodeForScan('50% off %27x', false)).to.equal("50% off 'x");
    expect(decodeForScan('..%c0%af..%c1%9c', false)).to.equal('../..\\');
    expect(decodeForScan('%e0%80%ae%e0%80%ae/', false)).to.equal('../');
    expect(decodeForScan('%u003cscript%u003e', false)).to.equal('<script>');
    expect(decodeForScan('%E0%A4', false)).to.be.a('string');
  });

  it('decodes HTML entities (also double-encoded), JS escapes, NFKC forms, and drops null bytes', () => {
    expect(decodeForScan('&lt;script&gt;', false)).to.equal('<script>');
    expect(decodeForScan('&amp;lt;b&amp;gt;', false)).to.equal('<b>');
    expect(decodeForScan('&#x6A;&#97;', false)).to.equal('ja');
    expect(decodeForScan('\\u003cx\\x3e', false)).to.equal('<x>');
    expect(decodeForScan('＜ｓｃｒｉｐｔ＞', false)).to.equal('<script>');
    expect(decodeForScan('../etc/passwd%00.png', false)).to.equal('../etc/passwd.png');
    expect(decodeForScan('मेरा ऑर्डर', false)).to.equal('मेरा ऑर्डर');
  });
});

describe('anomaly detection: request inspection', () => {
  it('scans each query key and value separately, so `&` between parameters is never a finding', () => {
    expect(line('a=1&b=2&c=3&name=O%27Brien&q=Tom+%26+Jerry&empty=&flag')).to.deep.equal([]);
    expect(line('a=1&q=%3Bcat+%2Fetc%2Fpasswd&z=2').map((f) => `${f.kind}@${f.location}`)).to.deep.equal([
      'command_injection@query.q',
      'path_traversal@query.q',
    ]);
  });

  it('never puts a payload in a location: an attacking key is `$key`, an odd key name is `?`', () => {
    const findings = line(`${encodeURIComponent('<script>')}=1&${encodeURIComponent('we ird')}=${encodeURIComponent('<svg onload=alert(1)>')}`);
    expect(findings.map((f) => f.location)).to.deep.equal(['query.$key', 'query.?']);
    const body = inspectBody({ "x' OR 1=1 --": 1, ok: { 'a b': '../../etc/passwd' } }, { budget: 1000, maxDepth: BODY_MAX_DEPTH }).findings;
    expect(body.map((f) => `${f.kind}@${f.location}`)).to.deep.equal(['sql_injection@body.$key', 'path_traversal@body.ok.?']);
  });

  it('bounds the body scan by ANOMALY_BODY_SCAN_BYTES and by depth, and says it stopped early', () => {
    const attack = '<script>alert(1)</script>';
    const inside = inspectBody({ pad: 'x'.repeat(100), note: attack }, { budget: 1000, maxDepth: BODY_MAX_DEPTH });
    expect(inside.findings.map((f) => f.kind)).to.deep.equal(['xss']);
    expect(inside.complete).to.equal(true);
    const beyond = inspectBody({ pad: 'x'.repeat(2000), note: attack }, { budget: 1000, maxDepth: BODY_MAX_DEPTH });
    expect(beyond.findings).to.deep.equal([]);
    expect(beyond.complete).to.equal(false);
    let deep: unknown = attack;
    for (let i = 0; i < BODY_MAX_DEPTH + 2; i++) deep = { d: deep };
    const tooDeep = inspectBody(deep, { budget: 100_000, maxDepth: BODY_MAX_DEPTH });
    expect(tooDeep.findings).to.deep.equal([]);
    expect(tooDeep.complete).to.equal(false);
    expect(inspectBody([['a', ['b', [attack]]]], { budget: 1000, maxDepth: BODY_MAX_DEPTH }).findings.map((f) => f.location)).to.deep.equal(['body[][][][]']);
  });

  it('caps findings per request', () => {
    const qs = Array.from({ length: 40 }, (_, i) => `p${i}=${encodeURIComponent("' OR 1=1--")}`).join('&');
    expect(line(qs)).to.have.length(16);
  });
});

/** Records what the detector emits, to check the per-source audit limit (the real trail is exercised in anomaly-e2e). */
class RecordingSink implements AuditSink {
  readonly events: Array<{ event: AuditEventInput; request?: AuditRequestContext }> = [];
  emit(event: AuditEventInput, request?: AuditRequestContext): void {
    this.events.push({ event, request });
  }
}

function get(base: string, path: string, headers: Record<string, string>, method = 'GET'): Promise<{ status: number; requestId: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, method, headers }, (res) => {
      res.resume().on('end', () => resolve({ status: res.statusCode ?? 0, requestId: String(res.headers['x-request-id']) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('anomaly detection: in process (spans, server-to-server routes, audit limit)', function () {
  this.timeout(30_000);
  let tdb: TestDatabase;
  let app: InProcessApp;
  const audit = new RecordingSink();

  before(async () => {
    tdb = await createTestDatabase();
    app = await startInProcessApp({
      databaseUrl: tdb.url,
      audit,
      env: { RATE_LIMIT_API_POINTS: '10000' },
      plugins: [
        (router) => {
          router.post('/test-anomaly/hook', serverToServer, (ctx) => {
            ctx.body = { ok: true };
          });
          router.post('/test-anomaly/plain', (ctx) => {
            ctx.body = { ok: true };
          });
        },
      ],
    });
  });
  after(async () => {
    await app?.close();
    await tdb?.drop();
  });

  const anomalyLogs = (requestId: string) => app.logs.filter((l) => l.msg === 'security anomaly' && l.request_id === requestId);

  it('records a security.anomaly span event with kind, rule and location, never the payload', async () => {
    spanExporter.reset();
    const payload = '<img src=x onerror=alert(document.cookie)>';
    const res = await get(app.url, `/api/ping?comment=${encodeURIComponent(payload)}`, { 'user-agent': 'span-test' });
    expect(res.status).to.equal(200);
    const span = spanExporter.getFinishedSpans().find((s) => s.spanContext().traceId === res.requestId.slice(0, 32))!;
    const events = span.events.filter((e) => e.name === 'security.anomaly');
    expect(events).to.have.length(1);
    expect(events[0]!.attributes).to.deep.equal({
      'caly.anomaly.kind': 'xss',
      'caly.anomaly.rule': 'xss.event_handler',
      'caly.anomaly.location': 'query.comment',
      'caly.anomaly.action': 'flagged',
    });
    const everything = JSON.stringify({ attributes: span.attributes, events: span.events.map((e) => e.attributes) });
    for (const fragment of ['onerror', 'document.cookie', 'alert(']) expect(everything).to.not.include(fragment);
  });

  it('a route declared serverToServer may omit the User-Agent; an ordinary route may not', async () => {
    const hook = await get(app.url, '/test-anomaly/hook', {}, 'POST');
    const plain = await get(app.url, '/test-anomaly/plain', {}, 'POST');
    expect([hook.status, plain.status]).to.deep.equal([200, 200]);
    expect(anomalyLogs(hook.requestId)).to.deep.equal([]);
    expect(anomalyLogs(plain.requestId).map((l) => [l.kind, l.route])).to.deep.equal([['missing_user_agent', '/test-anomaly/plain']]);
  });

  it('audits every finding (the audit trail, not the reporter, throttles anonymous floods); logs count every finding', async () => {
    audit.events.length = 0;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await get(app.url, `/api/ping?q=${encodeURIComponent('1; DROP TABLE calls')}`, { 'user-agent': 'audit-test' })).requestId);
    await get(app.url, `/api/ping?f=${encodeURIComponent('../../etc/passwd')}`, { 'user-agent': 'audit-test' });
    expect(ids.flatMap((id) => anomalyLogs(id))).to.have.length(5);
    const sqli = audit.events.filter((e) => e.event.metadata?.kind === 'sql_injection');
    expect(sqli).to.have.length(5);
    expect(sqli.map((e) => e.request?.requestId)).to.deep.equal(ids);
    expect(sqli[0]!.event).to.include({ type: 'SECURITY_VIOLATION', outcome: 'SECURITY_ALERT' });
    expect(sqli[0]!.event.metadata).to.deep.include({ kind: 'sql_injection', rule: 'sqli.stacked_query', location: 'query.q' });
    expect(sqli[0]!.request).to.include({ requestId: ids[0], clientIp: '127.0.0.1', userAgent: 'audit-test' });
    expect(audit.events.filter((e) => e.event.metadata?.kind === 'path_traversal')).to.have.length(1);
  });
});
