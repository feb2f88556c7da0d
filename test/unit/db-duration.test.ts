import { expect } from 'chai';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { DbDurationProducer, type DbSeriesAttributes } from '../../src/platform/telemetry/db-duration';

const attrs = (op: string, more: Partial<DbSeriesAttributes> = {}): DbSeriesAttributes => ({
  'db.system.name': 'postgresql',
  'db.namespace': 'caly',
  'db.operation.name': op,
  'server.address': '127.0.0.1',
  'server.port': 5432,
  ...more,
});

/** What Prometheus would scrape from a reader holding only this producer. */
async function exposition(p: DbDurationProducer): Promise<string> {
  const exporter = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true, metricProducers: [p] });
  new MeterProvider({ readers: [exporter] });
  const { resourceMetrics } = await exporter.collect();
  return new PrometheusSerializer('', false, undefined, false, true).serialize(resourceMetrics);
}

describe('db.client.operation.duration, hand-kept (db-duration.ts)', () => {
  it('serialises as the SDK histogram would: cumulative buckets with le ≥ value, sum, count, only set attributes', async () => {
    const p = new DbDurationProducer();
    const select = p.seriesFor(attrs('SELECT'));
    expect(p.seriesFor(attrs('SELECT')), 'one series per attribute set').to.equal(select);
    for (const s of [0.0005, 0.001, 0.003, 0.2, 12]) p.record(select, s);
    const text = await exposition(p);
    expect(text).to.match(/^# TYPE db_client_operation_duration histogram$/m);
    const labels = 'db_system_name="postgresql",db_namespace="caly",db_operation_name="SELECT",server_address="127.0.0.1",server_port="5432"';
    const bucket = (le: string) =>
      Number(new RegExp(`^db_client_operation_duration_bucket\\{${labels},le="${le.replace('+', '\\+')}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(['0.001', '0.005', '0.01', '0.05', '0.1', '0.5', '1', '5', '10', '+Inf'].map(bucket)).to.deep.equal([2, 3, 3, 3, 3, 4, 4, 4, 4, 5]);
    expect(text).to.include(`db_client_operation_duration_count{${labels}} 5`);
    expect(text).not.to.include('db_response_status_code'); // unset on success: no empty label
  });

  it('a failure is its own series with error.type and db.response.status_code', async () => {
    const p = new DbDurationProducer();
    p.record(p.seriesFor(attrs('INSERT', { 'error.type': '23505', 'db.response.status_code': '23505' })), 0.002);
    expect(await exposition(p)).to.match(
      /db_client_operation_duration_count\{[^}]*db_operation_name="INSERT"[^}]*error_type="23505",db_response_status_code="23505"\} 1/,
    );
  });

  it('stays bounded: past 2000 series, new attribute sets share one overflow series', () => {
    const p = new DbDurationProducer();
    for (let i = 0; i < 2000; i++) p.seriesFor(attrs(`OP${i}`));
    const a = p.seriesFor(attrs('ONE_MORE'));
    expect(a.attributes).to.deep.equal({ 'otel.metric.overflow': true });
    expect(p.seriesFor(attrs('AND_ANOTHER'))).to.equal(a);
  });
});
