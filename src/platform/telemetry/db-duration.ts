import type { Attributes, HrTime } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import type { CollectionResult, MetricProducer } from '@opentelemetry/sdk-metrics';
import { emptySeries, histogramCollection, observe, type HandSeries } from './hand-histogram';

/** The boundaries instrumentation-pg gave db.client.operation.duration, in seconds (dashboards read them). */
export const DB_DURATION_BOUNDARIES = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10] as const;

/** Series beyond this fold into one overflow series, as the SDK does (its default limit is 2000). */
const MAX_SERIES = 2000;

/** The attributes of one db.client.operation.duration series (semantic conventions). */
export interface DbSeriesAttributes {
  'db.system.name': string;
  'db.namespace': string | undefined;
  'db.operation.name': string;
  'server.address': string | undefined;
  'server.port': number | undefined;
  'error.type'?: string;
  'db.response.status_code'?: string;
}

/** One series; callers look it up once (per connection and operation) and record into it. */
export type DbSeries = HandSeries;

/**
 * The `db.client.operation.duration` histogram, kept by hand and handed to the SDK's readers as a
 * MetricProducer, for the reason http-duration.ts gives: `Histogram.record()` hashes the attribute
 * set (sorting and serialising its keys) on every call, ~2 µs of the ~5 µs a query's telemetry
 * costs (measured with the SDK started as in the service, queries answered without I/O). Here a
 * query records into a series its connection already holds: a scan over 9 boundaries. The output
 * is the cumulative explicit-bucket histogram the SDK would export, under the same name, unit,
 * boundaries and attributes, so every reader serialises it identically.
 */
export class DbDurationProducer implements MetricProducer {
  private readonly series = new Map<string, DbSeries>();
  private readonly startTime: HrTime = millisToHrTime(Date.now());

  /** The series of one attribute set, created on first use. */
  seriesFor(a: DbSeriesAttributes): DbSeries {
    const key = `${a['db.system.name']}|${a['db.namespace']}|${a['server.address']}|${a['server.port']}|${a['db.operation.name']}|${a['error.type'] ?? ''}|${a['db.response.status_code'] ?? ''}`;
    const found = this.series.get(key);
    if (found !== undefined) return found;
    if (this.series.size >= MAX_SERIES) return this.overflow();
    const attributes: Attributes = {};
    for (const [k, v] of Object.entries(a)) if (v !== undefined) attributes[k] = v;
    const s = newSeries(attributes);
    this.series.set(key, s);
    return s;
  }

  record(s: DbSeries, seconds: number): void {
    observe(s, DB_DURATION_BOUNDARIES, seconds);
  }

  private overflow(): DbSeries {
    let s = this.series.get('overflow');
    if (s === undefined) this.series.set('overflow', (s = newSeries({ 'otel.metric.overflow': true })));
    return s;
  }

  async collect(): Promise<CollectionResult> {
    // A series is made when a connection first meets an operation, before anything is recorded.
    const recorded = [...this.series.values()].filter((s) => s.count > 0);
    return histogramCollection(
      {
        scope: 'caly-api.db',
        name: 'db.client.operation.duration',
        description: 'Duration of database client operations.',
        unit: 's',
        boundaries: DB_DURATION_BOUNDARIES,
        startTime: this.startTime,
      },
      recorded,
    );
  }
}

function newSeries(attributes: Attributes): DbSeries {
  return emptySeries(attributes, DB_DURATION_BOUNDARIES);
}
