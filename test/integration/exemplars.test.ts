import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { startOtlpReceiver } from '../helpers/otlp-receiver';
import { startService, type ServiceHandle } from '../helpers/service';
import { until } from '../helpers/poll';

const OPENMETRICS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

/** From a latency bucket to the trace of a request that landed in it. */
describe('exemplars: OpenMetrics exposition links histogram buckets to traces', function () {
  this.timeout(60_000);
  let tdb: TestDatabase;
  let svc: ServiceHandle;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  before(async () => {
    tdb = await createTestDatabase();
    receiver = await startOtlpReceiver();
    svc = await startService({ DATABASE_URL: tdb.url, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '50' });
    for (let i = 0; i < 5; i++) await (await fetch(`${svc.url}/api/info`)).arrayBuffer();
    await (await fetch(`${svc.url}/no/such/route`)).arrayBuffer();
  });
  after(async () => {
    await svc?.stop();
    await receiver?.close();
    await tdb?.drop();
  });

  it('with the OpenMetrics Accept header: valid framing, and an exemplar that leads to an exported server span', async () => {
    const res = await fetch(svc.metricsUrl, { headers: { accept: OPENMETRICS_ACCEPT } });
    expect(res.headers.get('content-type')).to.match(/^application\/openmetrics-text; version=1\.0\.0/);
    const text = await res.text();
    const lines = text.split('\n');
    expect(lines.at(-1)).to.equal('');
    expect(lines.at(-2)).to.equal('# EOF');
    expect(
      lines.slice(0, -1).filter((l) => l === ''),
      'no blank lines',
    ).to.deep.equal([]);
    // A counter family is named without _total; every # UNIT is a suffix of its family name.
    expect(text).to.match(/^# TYPE caly_errors counter$/m);
    for (const m of text.matchAll(/^# UNIT (\S+) (\S+)$/gm)) expect(m[1]!.endsWith(`_${m[2]}`), m[0]).to.equal(true);

    const withExemplar = lines.filter((l) => l.startsWith('http_server_request_duration_seconds_bucket{') && l.includes(' # {'));
    expect(withExemplar.length, 'bucket lines with an exemplar').to.be.greaterThan(0);
    const info = withExemplar.find((l) => l.includes('http_route="/api/info"'))!;
    const m = /^(\S+) (\d+) # \{trace_id="([0-9a-f]{32})",span_id="([0-9a-f]{16})"\} ([0-9.e-]+) (\d+\.\d{3})$/.exec(info);
    expect(m, info).to.not.equal(null);
    const [, , , traceId, spanId, value, ts] = m!;
    const le = /le="([^"]+)"/.exec(info)![1]!;
    expect(Number(value)).to.be.at.most(le === '+Inf' ? Infinity : Number(le));
    expect(Math.abs(Number(ts) * 1000 - Date.now())).to.be.lessThan(60_000);

    const span = await until(() => receiver.spans.find((s) => s.traceId === traceId && s.spanId === spanId));
    expect(span.kind).to.equal(2);
    expect(span.name).to.equal('GET /api/info');
  });

  it('without it: Prometheus text 0.0.4, no exemplars', async () => {
    const res = await fetch(svc.metricsUrl);
    expect(res.headers.get('content-type')).to.match(/^text\/plain/);
    const text = await res.text();
    expect(text).to.include('http_server_request_duration_seconds_bucket{');
    expect(text).not.to.include('# {trace_id=');
    expect(text).not.to.include('# EOF');
  });
});
