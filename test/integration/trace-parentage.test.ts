import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { startOtlpReceiver } from '../helpers/otlp-receiver';
import { scrape, startService, type ServiceHandle } from '../helpers/service';
import { until } from '../helpers/poll';

const SERVER = 2;
const CLIENT = 3;
const CLOCK_SLACK_NS = 1_000_000n;

/** Count of db_client_operation_duration_seconds observations for our database, over every label set. */
async function queryObservations(metricsUrl: string, database: string): Promise<number> {
  const samples = await scrape(metricsUrl);
  return samples
    .filter((s) => /^db_client_operation_duration_seconds_count$/.test(s.name) && s.labels.db_namespace === database)
    .reduce((a, s) => a + s.value, 0);
}

/**
 * Query spans under a saturated pool: more concurrent requests than DB_POOL_MAX, so most queries
 * wait in the pool's queue and resume when another request releases a client. Each trace must
 * still hold exactly its own queries, inside its own lifetime, and every query must be measured.
 */
describe('trace parentage under a busy pool', function () {
  this.timeout(90_000);
  let tdb: TestDatabase;
  let svc: ServiceHandle;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  before(async () => {
    tdb = await createTestDatabase();
    receiver = await startOtlpReceiver();
    svc = await startService({
      DATABASE_URL: tdb.url,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      DB_POOL_MAX: '4',
      DB_POOL_MIN: '0',
      RATE_LIMIT_API_POINTS: '100000',
      HEALTH_CHECK_TIMEOUT_MS: '20000',
    });
  });
  after(async () => {
    await svc?.stop();
    await receiver?.close();
    await tdb?.drop();
  });

  const routes = ['/api/info', '/health/ready'] as const;

  it('32 concurrent requests over DB_POOL_MAX=4: each trace holds exactly its own queries, within its lifetime', async () => {
    // What one request of each route issues when alone: the expected children under load.
    const expected = new Map<string, number>();
    for (const path of routes) {
      const res = await fetch(`${svc.url}${path}`);
      expect(res.status).to.equal(200);
      const traceId = traceIdOf(res);
      const server = await until(() => receiver.spans.find((s) => s.traceId === traceId && s.kind === SERVER));
      // a quiet request's queries arrive in the same export batch as their parent, or the next
      await new Promise((r) => setTimeout(r, 1200));
      const n = receiver.spans.filter((s) => s.traceId === traceId && s.kind === CLIENT && s.parentSpanId === server.spanId).length;
      expect(n, `${path} queries`).to.be.greaterThan(0);
      expected.set(path, n);
    }

    const before = await queryObservations(svc.metricsUrl, tdb.name);
    const paths = Array.from({ length: 32 }, (_, i) => routes[i % routes.length]!);
    const responses = await Promise.all(paths.map(async (path) => ({ path, res: await fetch(`${svc.url}${path}`) })));
    const requests = responses.map(({ path, res }) => {
      expect(res.status, path).to.equal(200);
      return { path, traceId: traceIdOf(res) };
    });
    const total = requests.reduce((a, r) => a + expected.get(r.path)!, 0);

    // Every query span of these traces, once the exporter has delivered them (bounded poll).
    const ids = new Set(requests.map((r) => r.traceId));
    const inTraces = () => receiver.spans.filter((s) => ids.has(s.traceId));
    await until(() =>
      inTraces().filter((s) => s.kind === CLIENT).length >= total && inTraces().filter((s) => s.kind === SERVER).length >= 32 ? true : undefined,
    );

    for (const { path, traceId } of requests) {
      const spans = receiver.spans.filter((s) => s.traceId === traceId);
      const server = spans.filter((s) => s.kind === SERVER);
      expect(server, `${path} server spans`).to.have.length(1);
      const parent = server[0]!;
      const queries = spans.filter((s) => s.kind === CLIENT);
      expect(queries.length, `${path} ${traceId}: query spans`).to.equal(expected.get(path));
      for (const q of queries) {
        expect(q.parentSpanId, `${path}: query parent`).to.equal(parent.spanId);
        // The SDK anchors each span's clock to Date.now() when the span starts (millisecond
        // resolution), so two spans' timestamps can disagree by up to 1 ms: allow exactly that.
        expect(q.startTimeUnixNano >= parent.startTimeUnixNano - CLOCK_SLACK_NS, `${path}: query starts inside its request`).to.equal(true);
        expect(q.endTimeUnixNano <= parent.endTimeUnixNano + CLOCK_SLACK_NS, `${path}: query ends before its request`).to.equal(true);
      }
    }
    // No query span of ours landed in a trace that is not its request's.
    const strays = receiver.spans.filter((s) => s.kind === CLIENT && !ids.has(s.traceId) && s.attributes['db.namespace'] === tdb.name && s.parentSpanId);
    const strayParents = new Set(strays.map((s) => s.parentSpanId));
    const ourServers = new Set(receiver.spans.filter((s) => ids.has(s.traceId) && s.kind === SERVER).map((s) => s.spanId));
    expect([...strayParents].filter((p) => ourServers.has(p!))).to.deep.equal([]);

    // Every query is measured, inside a request or not (audit writes, probes count too).
    const after = await queryObservations(svc.metricsUrl, tdb.name);
    expect(after - before, 'db_client_operation_duration_seconds observations').to.be.at.least(total);
  });

  it('queries outside any request (audit writes, purge, probes) are measured too', async () => {
    // Migrations ran at start, before any request: each of their statements is an observation.
    const n = await queryObservations(svc.metricsUrl, tdb.name);
    const requestQueries = receiver.spans.filter((s) => s.kind === CLIENT && s.attributes['db.namespace'] === tdb.name).length;
    expect(n, 'observations beyond the traced request queries').to.be.greaterThan(requestQueries);
  });
});

function traceIdOf(res: Response): string {
  // The request id begins with the trace id of the request's server span.
  return res.headers.get('x-request-id')!.slice(0, 32);
}
