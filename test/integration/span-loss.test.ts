import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { startOtlpReceiver } from '../helpers/otlp-receiver';
import { scrape, startService, type ServiceHandle } from '../helpers/service';

type Sample = Awaited<ReturnType<typeof scrape>>[number];
const sum = (samples: Sample[], name: string, pred: (l: Record<string, string>) => boolean = () => true) =>
  samples.filter((s) => s.name === name && pred(s.labels)).reduce((a, s) => a + s.value, 0);

async function poll<T>(fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Spans lost on the way to the collector must show: counted on /metrics and written to the log.
 * A slow collector (every export answered after 1 s) behind a deliberately small queue drops
 * spans; the dropped count, queue size, exported and failed exports are all on /metrics.
 */
describe('span loss is visible', function () {
  this.timeout(90_000);
  let tdb: TestDatabase;
  before(async () => {
    tdb = await createTestDatabase();
  });
  after(async () => tdb?.drop());

  describe('behind a slow collector', () => {
    let svc: ServiceHandle;
    let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
    before(async () => {
      receiver = await startOtlpReceiver({ delayMs: 1000 });
      svc = await startService({
        DATABASE_URL: tdb.url,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        // small on purpose: the test must overflow the queue with a few hundred requests
        OTEL_BSP_MAX_QUEUE_SIZE: '32',
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '16',
        OTEL_BSP_SCHEDULE_DELAY: '50',
        RATE_LIMIT_API_POINTS: '100000',
      });
    });
    after(async () => {
      await svc?.stop();
      await receiver?.close();
    });

    it('dropped spans are counted on /metrics and logged; queue size and exports are reported', async () => {
      const n = 400;
      for (let i = 0; i < n; i += 50) {
        await Promise.all(Array.from({ length: 50 }, () => fetch(`${svc.url}/api/ping`).then((r) => r.arrayBuffer())));
      }
      const samples = await poll(async () => {
        const s = await scrape(svc.metricsUrl);
        return sum(s, 'otel_sdk_exporter_span_exported_total') > 0 ? s : undefined;
      });
      const dropped = sum(samples, 'otel_sdk_processor_span_processed_total', (l) => l.error_type === 'queue_full');
      expect(dropped, 'dropped spans on /metrics').to.be.greaterThan(0);
      expect(
        samples.some((s) => s.name === 'otel_sdk_processor_span_queue_size'),
        'queue size gauge',
      ).to.equal(true);
      expect(sum(samples, 'otel_sdk_processor_span_queue_capacity'), 'queue capacity').to.equal(32);
      // what arrived plus what was dropped plus what is still queued or in flight is every span
      expect(receiver.spans.length, 'spans received').to.be.lessThan(n);
      // The SDK reports the drop count when the queue next accepts a span: keep traffic coming.
      const isDropLine = (l: Record<string, unknown>) => l.component === 'opentelemetry' && /dropped \d+ spans/i.test(String(l.msg));
      const line = await poll(async () => {
        await fetch(`${svc.url}/api/ping`);
        return svc.logs.find(isDropLine);
      });
      expect(line.level).to.equal('warn');
    });
  });

  describe('collector unreachable', () => {
    let svc: ServiceHandle;
    before(async () => {
      // A port nobody listens on: take one from a closed receiver.
      const gone = await startOtlpReceiver();
      const url = gone.url;
      await gone.close();
      svc = await startService({ DATABASE_URL: tdb.url, OTEL_EXPORTER_OTLP_ENDPOINT: url, OTEL_BSP_SCHEDULE_DELAY: '50' });
    });
    after(async () => svc?.stop());

    it('failed exports are counted with their error type and logged', async () => {
      await fetch(`${svc.url}/api/ping`);
      const samples = await poll(async () => {
        const s = await scrape(svc.metricsUrl);
        return sum(s, 'otel_sdk_exporter_span_exported_total', (l) => l.error_type !== undefined) > 0 ? s : undefined;
      });
      const failed = samples.filter((s) => s.name === 'otel_sdk_exporter_span_exported_total' && s.labels.error_type);
      expect(failed.length).to.be.greaterThan(0);
      const line = await svc.waitForLog((l) => l.component === 'opentelemetry' && l.level === 'error');
      expect(String(line.msg) + String(line.detail ?? '')).to.match(/export|ECONNREFUSED/i);
    });
  });
});
