import { performance } from 'node:perf_hooks';
import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import pg from 'pg';
import type { DbDurationProducer, DbSeries, DbSeriesAttributes } from '../telemetry/db-duration';
import { operationOf } from './operation';

/**
 * The CLIENT span and the `db.client.operation.duration` observation of every query, made by the
 * pool's own client class instead of @opentelemetry/instrumentation-pg.
 *
 * Why by hand: per query, instrumentation-pg's telemetry cost 5.5 µs of CPU and this class costs
 * 2.7 µs (bench/README.md, "The pg CLIENT span from our own client class": the SDK started as in
 * the service, queries answered without I/O). The instrumentation wraps pool.connect, builds its attributes twice, records the duration
 * through the metrics SDK (which hashes the attribute set on every record) and binds callbacks to
 * the active context. None of that binding is needed here: the pool's callers send each query in
 * the caller's own context (`withClient` awaits `pool.connect()` in it; `queryOnce` restores it
 * when the pool hands over a client from another request), so its parent is simply the active
 * span, and the caller's `await` resumes in its own context whatever socket callback settled the
 * query. What is left is one span and one record into a hand-kept histogram series, under the
 * names and semantic-convention attributes the instrumentation produced (span
 * `pg.query:<OPERATION> <database>`, `db.system.name`, `db.namespace`, `db.query.text` with
 * parameters as placeholders, `server.address`, `server.port`), plus `db.operation.name`, and on
 * failure ERROR status, `error.type` (the SQLSTATE, else the error's name) and
 * `db.response.status_code`.
 *
 * Every query of a pool built with this class is seen, whichever path issued it (db.query,
 * transactions with their BEGIN/COMMIT, migrations, the audit writer, advisory locks). A query
 * outside any request still records its duration; its span is dropped by the sampler
 * (NoOrphanClientSpans in telemetry/sampler.ts), as before.
 */

const TRACER_NAME = 'caly-api.db';

export interface QueryTelemetry {
  /** db.client.operation.duration, hand-kept (telemetry/db-duration.ts). */
  duration: DbDurationProducer;
}

/** What a span and a series carry on failure. */
function errorAttributes(err: unknown): { 'error.type': string; 'db.response.status_code'?: string } {
  const code = (err as { code?: unknown } | undefined)?.code;
  const type = typeof code === 'string' && code !== '' ? code : err instanceof Error ? err.name : '_OTHER';
  return err instanceof pg.DatabaseError && typeof code === 'string' ? { 'error.type': type, 'db.response.status_code': code } : { 'error.type': type };
}

/**
 * A PostgreSQL message can quote a value ('invalid input syntax for type uuid: "…"'), so neither
 * the span status nor its exception event carries it: only the error's name and code (the wording
 * instrumentation-pg used for its exception event).
 */
function sanitized(err: unknown): string {
  const e = err as { name?: unknown; code?: unknown } | undefined;
  return `PostgreSQL error of type '${String(e?.name ?? 'PostgreSQLError')}' occurred (code: ${String(e?.code ?? 'UNKNOWN')})`;
}

type Callback = (err: Error | null, res?: unknown) => void;
/** pg's Query as this class reads it: its text, and the callback it answers through. */
type OwnQuery = pg.Query & { text: string; callback: Callback };

/**
 * A pg.Client subclass for `new pg.Pool({ Client })`. Query text and callback shapes are pg's,
 * plus pg's own Query carrying a callback (how db.query sends a named statement). Any other
 * Submittable (cursor, stream) or a config object carrying its own callback goes through
 * unmeasured: the service uses neither.
 *
 * Attribute objects are written out as literals on purpose: built with object spread, V8 made
 * them slow for the SDK to walk, and a query's telemetry cost 8 µs instead of 5.
 */
export function tracedClientClass(telemetry: QueryTelemetry): typeof pg.Client {
  const tracer = trace.getTracer(TRACER_NAME);
  const durations = telemetry.duration;

  return class TracedClient extends pg.Client {
    /** This connection's successful-query series by operation: a record is then a bucket scan. */
    private readonly series = new Map<string, DbSeries>();

    // One signature for pg's overloads; the subclass only passes arguments through.
    override query(config: unknown, values?: unknown, callback?: unknown): never {
      // a named statement arrives as pg's own Query with its callback (db/row-shapes.ts, NamedQuery)
      const own = config instanceof pg.Query && typeof (config as { callback?: unknown }).callback === 'function' ? (config as OwnQuery) : undefined;
      const text = typeof config === 'string' ? config : own ? own.text : textOf(config);
      if (text === undefined) return super.query(config as never, values as never, callback as never) as never;
      const cb = (typeof values === 'function' ? values : callback) as Callback | undefined;
      if (typeof values === 'function') values = undefined;

      const op = operationOf(text);
      const span = tracer.startSpan(this.database ? `pg.query:${op} ${this.database}` : `pg.query:${op}`, {
        kind: SpanKind.CLIENT,
        attributes: {
          'db.system.name': 'postgresql',
          'db.namespace': this.database,
          'db.operation.name': op,
          'db.query.text': text,
          'server.address': this.host,
          'server.port': this.port,
        },
      });
      const t0 = performance.now();
      const done = (err: unknown) => {
        const seconds = (performance.now() - t0) / 1000;
        if (err) {
          const failure = errorAttributes(err);
          span.setAttributes(failure);
          fail(span, err);
          durations.record(durations.seriesFor({ ...this.seriesAttributes(op), ...failure }), seconds);
        } else {
          let s = this.series.get(op);
          if (s === undefined) this.series.set(op, (s = durations.seriesFor(this.seriesAttributes(op))));
          durations.record(s, seconds);
        }
        span.end();
      };

      let result: Promise<unknown>;
      try {
        if (own !== undefined) {
          own.callback = measured(done, own.callback);
          return super.query(own as never) as never;
        }
        if (cb !== undefined) return super.query(config as never, values as never, measured(done, cb) as never) as never;
        // pg's own promise (it rewrites a failure's stack to lead back to the caller); our handler
        // is attached first, so the span has ended before the caller resumes.
        result = super.query(config as never, values as never) as unknown as Promise<unknown>;
      } catch (err) {
        done(err); // a malformed call pg refuses synchronously
        throw err;
      }
      result.then(
        () => done(undefined),
        (err: unknown) => done(err ?? new Error('query failed')),
      );
      return result as never;
    }

    private seriesAttributes(op: string): DbSeriesAttributes {
      return {
        'db.system.name': 'postgresql',
        'db.namespace': this.database,
        'db.operation.name': op,
        'server.address': this.host,
        'server.port': this.port,
      };
    }
  };
}

/** `inner`, with the query's span ended and its duration recorded first. */
function measured(done: (err: unknown) => void, inner: Callback): Callback {
  return function (this: unknown, err, res) {
    done(err);
    inner.call(this, err, res);
  };
}

function textOf(config: unknown): string | undefined {
  if (typeof config !== 'object' || config === null) return undefined;
  const c = config as { text?: unknown; submit?: unknown; callback?: unknown };
  return typeof c.text === 'string' && typeof c.submit !== 'function' && c.callback === undefined ? c.text : undefined;
}

function fail(span: Span, err: unknown): void {
  const message = sanitized(err);
  span.addEvent('exception', { 'exception.type': String((err as { name?: unknown } | undefined)?.name ?? 'Error'), 'exception.message': message });
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}
