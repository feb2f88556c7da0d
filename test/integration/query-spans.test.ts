import { Writable } from 'node:stream';
import { SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { expect } from 'chai';
import { createDatabase, type Database } from '../../src/platform/db/pool';
import { createLogger } from '../../src/platform/logging/logger';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { metricTotal } from '../helpers/metrics';
import { spanExporter, telemetry } from '../setup/telemetry';

const quietLogger = () => createLogger({ level: 'error', service: 't', environment: 'test', stream: new Writable({ write: (_c, _e, cb) => cb() }) }).logger;
const tracer = trace.getTracer('query-spans-test');

/**
 * The query CLIENT spans and db.client.operation.duration come from the pool's own client class
 * (src/platform/db/traced-client.ts), not from an instrumentation: these pin what it must produce.
 */
describe('query spans and db.client.operation.duration (own pg wrapper)', function () {
  this.timeout(30_000);
  let tdb: TestDatabase;
  let db: Database;
  const ofThisDb = (more: (a: Attributes) => boolean) => (a: Attributes) => a['db.namespace'] === tdb.name && more(a);
  const observations = (more: (a: Attributes) => boolean = () => true) => metricTotal('db.client.operation.duration', ofThisDb(more));

  /** Runs `fn` under a fresh sampled parent span; returns the finished spans of that trace. */
  async function underParent<T>(fn: () => Promise<T>): Promise<{ parent: ReadableSpan; queries: ReadableSpan[]; result: T | Error }> {
    let traceId = '';
    const result = await tracer.startActiveSpan('parent', async (span) => {
      traceId = span.spanContext().traceId;
      try {
        return await fn();
      } catch (err) {
        return err as Error;
      } finally {
        span.end();
      }
    });
    const spans = spanExporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    const parent = spans.find((s) => s.name === 'parent')!;
    const queries = spans.filter((s) => s.kind === SpanKind.CLIENT).sort((a, b) => (a.startTime[0] - b.startTime[0]) * 1e9 + (a.startTime[1] - b.startTime[1]));
    return { parent, queries, result };
  }

  before(async () => {
    tdb = await createTestDatabase();
    db = createDatabase(
      {
        connectionString: tdb.url,
        max: 2,
        min: 0,
        idleTimeoutMillis: 1000,
        connectionTimeoutMillis: 5000,
        statementTimeoutMillis: 30000,
        applicationName: 'caly-query-spans-test',
        slowQueryMs: 10_000,
        preparedStatements: 500,
      },
      quietLogger(),
      telemetry.instruments,
    );
    await db.query('CREATE TABLE t (id int PRIMARY KEY)');
  });
  after(async () => {
    await db?.close();
    await tdb?.drop();
  });
  beforeEach(() => spanExporter.reset());

  it('a query is a CLIENT span under the active span, with the semantic-convention name and attributes, and one observation', async () => {
    const before = await observations((a) => a['db.operation.name'] === 'SELECT' && !('error.type' in a));
    const { parent, queries } = await underParent(() => db.query('SELECT id FROM t WHERE id = $1', [424242]));
    expect(queries).to.have.length(1);
    const q = queries[0]!;
    expect(q.name).to.equal(`pg.query:SELECT ${tdb.name}`);
    expect(q.parentSpanContext?.spanId).to.equal(parent.spanContext().spanId);
    expect(q.attributes).to.deep.equal({
      'db.system.name': 'postgresql',
      'db.namespace': tdb.name,
      'db.operation.name': 'SELECT',
      'db.query.text': 'SELECT id FROM t WHERE id = $1',
      'server.address': '127.0.0.1',
      'server.port': 5432,
    });
    expect(q.status.code).to.equal(SpanStatusCode.UNSET);
    expect(JSON.stringify(q.attributes), 'parameter values never reach the span').not.to.include('424242');
    expect(await observations((a) => a['db.operation.name'] === 'SELECT' && !('error.type' in a))).to.equal(before + 1);
  });

  it('a failing query: span ERROR with error.type = SQLSTATE, no message that could quote a value; observed with error.type', async () => {
    const failed = (a: Attributes) => a['error.type'] === '22P02' && a['db.response.status_code'] === '22P02' && a['db.operation.name'] === 'SELECT';
    const before = await observations(failed);
    const { queries, result } = await underParent(() => db.query('SELECT $1::uuid AS u', ['not-a-uuid-SECRET']));
    expect((result as { code?: string }).code, 'the caller still gets the error').to.equal('22P02');
    expect(queries).to.have.length(1);
    const q = queries[0]!;
    expect(q.status.code).to.equal(SpanStatusCode.ERROR);
    expect(q.attributes['error.type']).to.equal('22P02');
    expect(q.attributes['db.response.status_code']).to.equal('22P02');
    expect(q.events.map((e) => e.name)).to.deep.equal(['exception']);
    // PostgreSQL's message quotes the value ('invalid input syntax for type uuid: "not-a-uuid-SECRET"')
    expect(JSON.stringify({ status: q.status, events: q.events, attributes: q.attributes })).not.to.include('SECRET');
    expect(await observations(failed)).to.equal(before + 1);
  });

  it("a transaction's BEGIN, statements and COMMIT are children of the caller's span, in order; a failed one ends in ROLLBACK", async () => {
    // a statement with values: prepared, sent to pg as its own Query (db/prepared.ts), and measured the same
    const ok = await underParent(() => db.transaction(async (tx) => tx.query('INSERT INTO t VALUES ($1)', [1])));
    expect(ok.queries.map((q) => q.attributes['db.operation.name'])).to.deep.equal(['BEGIN', 'INSERT', 'COMMIT']);
    expect(ok.queries[1]!.attributes['db.query.text']).to.equal('INSERT INTO t VALUES ($1)');
    for (const q of ok.queries) expect(q.parentSpanContext?.spanId, q.name).to.equal(ok.parent.spanContext().spanId);

    const bad = await underParent(() => db.transaction(async (tx) => tx.query('INSERT INTO t VALUES ($1)', [1])));
    expect((bad.result as { code?: string }).code).to.equal('23505');
    expect(bad.queries.map((q) => [q.attributes['db.operation.name'], q.status.code, q.attributes['error.type']])).to.deep.equal([
      ['BEGIN', SpanStatusCode.UNSET, undefined],
      ['INSERT', SpanStatusCode.ERROR, '23505'],
      ['ROLLBACK', SpanStatusCode.UNSET, undefined],
    ]);
    for (const q of bad.queries) expect(q.parentSpanContext?.spanId, q.name).to.equal(bad.parent.spanContext().spanId);
  });

  it('queries outside any span are measured but leave no (parentless) span', async () => {
    const before = await observations((a) => a['db.operation.name'] === 'SELECT');
    await db.query('SELECT 41 + 1 AS outside');
    const orphans = spanExporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT && String(s.attributes['db.query.text']).includes('outside'));
    expect(orphans).to.deep.equal([]);
    expect(await observations((a) => a['db.operation.name'] === 'SELECT')).to.equal(before + 1);
  });

  it('with more concurrent callers than connections, each query span stays under its own caller', async () => {
    const runs = await Promise.all(Array.from({ length: 8 }, (_, i) => underParent(() => db.query(`SELECT pg_sleep(0.02), ${i} AS n`))));
    for (const r of runs) {
      expect(r.queries).to.have.length(1);
      expect(r.queries[0]!.parentSpanContext?.spanId).to.equal(r.parent.spanContext().spanId);
    }
  });
});
