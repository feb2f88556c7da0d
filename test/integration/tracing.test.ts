import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { startInProcessApp, type InProcessApp } from '../helpers/inprocess';
import { startOtlpReceiver } from '../helpers/otlp-receiver';
import { startService, type ServiceHandle } from '../helpers/service';
import { startTcpProxy } from '../helpers/tcp-proxy';
import { spanExporter } from '../setup/telemetry';
import { until } from '../helpers/poll';

describe('tracing', function () {
  let tdb: TestDatabase;
  before(async () => {
    tdb = await createTestDatabase();
  });
  after(async () => tdb?.drop());

  describe('in process (in-memory span exporter)', () => {
    let app: InProcessApp;
    before(async () => {
      app = await startInProcessApp({
        databaseUrl: tdb.url,
        plugins: [
          (router) =>
            router.get('/test-tracing/boom', () => {
              throw new Error('a bug');
            }),
        ],
      });
    });
    after(async () => app?.close());

    it('one SERVER span per request named by the route template, with a child span per query', async () => {
      spanExporter.reset();
      const res = await fetch(`${app.url}/api/info`);
      expect(res.status).to.equal(200);
      const id = res.headers.get('x-request-id')!;
      expect(id).to.match(/^[0-9a-f]{32}-[0-9a-f]{16}$/);
      const spans = spanExporter.getFinishedSpans().filter((s) => s.spanContext().traceId === id.slice(0, 32));
      const server = spans.filter((s) => s.kind === SpanKind.SERVER);
      expect(server).to.have.length(1);
      expect(server[0]!.name).to.equal('GET /api/info');
      expect(server[0]!.attributes['http.route']).to.equal('/api/info');
      expect(server[0]!.attributes['http.request.method']).to.equal('GET');
      expect(server[0]!.attributes['http.response.status_code']).to.equal(200);
      const queries = spans.filter((s) => s.kind === SpanKind.CLIENT && s.attributes['db.system.name'] === 'postgresql');
      expect(queries, 'query spans').to.have.length.greaterThan(0);
      for (const q of queries) expect(q.parentSpanContext?.spanId).to.equal(server[0]!.spanContext().spanId);
      // parameters are placeholders, never values
      expect(JSON.stringify(queries.map((q) => q.attributes))).not.to.include('installation_id');
    });

    it('continues an incoming W3C traceparent; the request id is trace id and server span id', async () => {
      spanExporter.reset();
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const res = await fetch(`${app.url}/api/ping`, { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
      const span = spanExporter.getFinishedSpans().find((s) => s.spanContext().traceId === traceId)!;
      expect(span.parentSpanContext?.spanId).to.equal('00f067aa0ba902b7');
      expect(res.headers.get('x-request-id')).to.equal(`${traceId}-${span.spanContext().spanId}`);
    });

    it('requests of one upstream trace get distinct request ids, each leading to its own server span', async () => {
      spanExporter.reset();
      const traceId = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
      const headers = { traceparent: `00-${traceId}-00f067aa0ba902b7-01` };
      const ids = await Promise.all(Array.from({ length: 20 }, async () => (await fetch(`${app.url}/api/ping`, { headers })).headers.get('x-request-id')!));
      expect(new Set(ids).size, 'distinct request ids').to.equal(20);
      const servers = spanExporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER);
      for (const id of ids) {
        const [t, sp] = id.split('-');
        expect(t).to.equal(traceId);
        expect(
          servers.filter((s) => s.spanContext().traceId === t && s.spanContext().spanId === sp),
          id,
        ).to.have.length(1);
      }
    });

    it('a trace exists even when the upstream did not sample (flags 00)', async () => {
      spanExporter.reset();
      const traceId = '0af7651916cd43dd8448eb211c80319c';
      const res = await fetch(`${app.url}/api/info`, { headers: { traceparent: `00-${traceId}-b7ad6b7169203331-00` } });
      const id = res.headers.get('x-request-id')!;
      expect(id.startsWith(`${traceId}-`)).to.equal(true);
      const spans = spanExporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
      expect(
        spans.filter((s) => s.kind === SpanKind.SERVER),
        'server span recorded',
      ).to.have.length(1);
      expect(
        spans.filter((s) => s.kind === SpanKind.CLIENT),
        'its queries too',
      ).to.have.length.greaterThan(0);
    });

    it('a client cannot choose its request id (neither by x-request-id nor by traceparent alone)', async () => {
      const traceId = 'ffeeddccbbaa99887766554433221100';
      const a = await fetch(`${app.url}/api/ping`, { headers: { 'x-request-id': 'mine', traceparent: `00-${traceId}-1111111111111111-01` } });
      const b = await fetch(`${app.url}/api/ping`, { headers: { 'x-request-id': 'mine', traceparent: `00-${traceId}-1111111111111111-01` } });
      expect(a.headers.get('x-request-id')).not.to.equal('mine');
      expect(a.headers.get('x-request-id')).not.to.equal(b.headers.get('x-request-id'));
    });

    it('keeps a valid incoming x-request-id only as an attribute; drops an invalid one', async () => {
      spanExporter.reset();
      const ok = await fetch(`${app.url}/api/ping`, { headers: { 'x-request-id': 'lb-req.123_abc' } });
      const bad = await fetch(`${app.url}/api/ping`, { headers: { 'x-request-id': 'evil id with spaces and {json}' } });
      const long = await fetch(`${app.url}/api/ping`, { headers: { 'x-request-id': 'a'.repeat(129) } });
      const byId = (r: Response) =>
        spanExporter.getFinishedSpans().find((s) => `${s.spanContext().traceId}-${s.spanContext().spanId}` === r.headers.get('x-request-id'))!;
      expect(ok.headers.get('x-request-id')).not.to.equal('lb-req.123_abc');
      expect(byId(ok).attributes['caly.request.incoming_id']).to.equal('lb-req.123_abc');
      expect(byId(bad).attributes).not.to.have.property('caly.request.incoming_id');
      expect(byId(long).attributes).not.to.have.property('caly.request.incoming_id');
    });

    it('server span status: ERROR for 5xx only; 4xx stay UNSET (HTTP semantic conventions)', async () => {
      spanExporter.reset();
      const statusOf = async (path: string, init?: RequestInit) => {
        const res = await fetch(`${app.url}${path}`, init);
        const id = res.headers.get('x-request-id')!;
        const span = spanExporter.getFinishedSpans().find((s) => `${s.spanContext().traceId}-${s.spanContext().spanId}` === id)!;
        return { http: res.status, span: span.status.code, errorType: span.attributes['error.type'] };
      };
      expect(await statusOf('/no/such/route')).to.deep.equal({ http: 404, span: SpanStatusCode.UNSET, errorType: undefined });
      expect(await statusOf('/api/ping', { method: 'PUT' })).to.deep.equal({ http: 405, span: SpanStatusCode.UNSET, errorType: undefined });
      expect(await statusOf('/test-tracing/boom')).to.deep.equal({ http: 500, span: SpanStatusCode.ERROR, errorType: '500' });
    });

    it('a 405 carries the route of the path it was sent to (span name, http.route, access line)', async () => {
      spanExporter.reset();
      const res = await fetch(`${app.url}/api/ping`, { method: 'DELETE' });
      expect(res.status).to.equal(405);
      const id = res.headers.get('x-request-id')!;
      const span = spanExporter.getFinishedSpans().find((s) => `${s.spanContext().traceId}-${s.spanContext().spanId}` === id)!;
      expect(span.attributes['http.route']).to.equal('/api/ping');
      expect(span.name).to.equal('DELETE /api/ping');
      const line = await until(() => app.logs.find((l) => l.request_id === id && l.msg === 'request'), 10_000);
      expect(line.route).to.equal('/api/ping');
    });

    it('log lines inside a request carry trace_id and span_id of its span', async () => {
      const res = await fetch(`${app.url}/api/ping`);
      const id = res.headers.get('x-request-id');
      const line = await until(() => app.logs.find((l) => l.request_id === id), 10_000);
      expect(line.trace_id).to.equal(id!.slice(0, 32));
      expect(line.span_id).to.match(/^[0-9a-f]{16}$/);
    });
  });

  describe('slow paths as span events', () => {
    it('slow_query and slow_request events on the server span, never parameter values', async () => {
      const proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
      const app = await startInProcessApp({ databaseUrl: proxy.url(tdb.name), env: { SLOW_QUERY_MS: '20', SLOW_REQUEST_MS: '20' } });
      try {
        await fetch(`${app.url}/api/ping`); // warm the pool first: only the measured query is slow
        proxy.setLatency(40);
        spanExporter.reset();
        const res = await fetch(`${app.url}/api/info`);
        const id = res.headers.get('x-request-id')!.slice(0, 32);
        const span = spanExporter.getFinishedSpans().find((s) => s.spanContext().traceId === id && s.kind === SpanKind.SERVER)!;
        const names = span.events.map((e) => e.name);
        expect(names).to.include.members(['slow_query', 'slow_request']);
        const sq = span.events.find((e) => e.name === 'slow_query')!;
        expect(sq.attributes!['db.operation.name']).to.equal('SELECT');
        expect(sq.attributes!['caly.threshold_ms']).to.equal(20);
        expect(JSON.stringify(span.events)).not.to.include('installation_id');
      } finally {
        await app.close();
        await proxy.close();
      }
    });
  });

  describe('service as a child process, exporting over OTLP/HTTP', function () {
    this.timeout(60_000);
    let svc: ServiceHandle;
    let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
    before(async () => {
      receiver = await startOtlpReceiver();
      svc = await startService({ DATABASE_URL: tdb.url, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    });
    after(async () => {
      await svc?.stop();
      await receiver?.close();
    });

    it('request spans and query spans reach the collector (fails if either silently stops)', async () => {
      const res = await fetch(`${svc.url}/api/info`);
      const id = res.headers.get('x-request-id')!.slice(0, 32);
      const server = await until(() => receiver.spans.find((s) => s.traceId === id && s.kind === 2), 10_000);
      expect(server.name).to.equal('GET /api/info');
      expect(server.attributes['http.route']).to.equal('/api/info');
      const query = await until(() => receiver.spans.find((s) => s.traceId === id && s.kind === 3 && s.parentSpanId === server.spanId), 10_000);
      expect(query.attributes['db.system.name']).to.equal('postgresql');
    });

    it('an error response leads to its trace: exception event; a 4xx is not a server ERROR', async () => {
      const res = await fetch(`${svc.url}/api/ping`, { method: 'PUT' });
      expect(res.status).to.equal(405);
      const id = res.headers.get('x-request-id')!;
      const span = await until(() => receiver.spans.find((s) => `${s.traceId}-${s.spanId}` === id), 10_000);
      expect(span.status?.code ?? 0, 'UNSET').to.equal(0);
      expect(span.attributes['caly.error.code']).to.equal('METHOD_NOT_ALLOWED');
      expect(span.events.map((e) => e.name)).to.include('exception');
      const line = await svc.waitForLog((l) => l.request_id === id);
      expect(line.error_code).to.equal('METHOD_NOT_ALLOWED');
    });
  });
});
