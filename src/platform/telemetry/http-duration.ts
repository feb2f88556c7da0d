import type { Attributes, HrTime } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import type { CollectionResult, MetricProducer } from '@opentelemetry/sdk-metrics';
import { METRIC_HTTP_SERVER_REQUEST_DURATION } from '@opentelemetry/semantic-conventions';
import { emptySeries, histogramCollection, observe, type HandSeries } from './hand-histogram';

/** Semantic-convention advice for http.server.request.duration, in seconds. */
export const HTTP_DURATION_BOUNDARIES = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] as const;

/** Series beyond this fold into one overflow series, as the SDK does (its default limit is 2000). */
const MAX_SERIES = 2000;

interface Series extends HandSeries {
  /** Per bucket, the last sampled request that landed in it: an OpenMetrics exemplar. */
  exemplars: Array<Exemplar | undefined>;
}

/** A trace that landed in a bucket, shown next to the bucket in the OpenMetrics exposition. */
export interface Exemplar {
  traceId: string;
  spanId: string;
  value: number;
  /** Unix time, milliseconds. */
  timeMs: number;
}

/**
 * The `http.server.request.duration` histogram, kept by hand and handed to the SDK's readers as a
 * MetricProducer.
 *
 * Why not `meter.createHistogram()`: the SDK hashes the attribute set (sorting keys and
 * serialising them) on every `record()`, which measured ~12 µs per request on the development
 * machine, about 40% of bare Koa's whole request cost. Here a request's series is found by one
 * string key built from values we already have, and recording is a bucket scan over 14
 * boundaries. The output is the same cumulative explicit-bucket histogram the SDK would export,
 * under the same semantic-convention name, unit, boundaries and attribute keys, so the Prometheus
 * exporter and any other reader serialise it identically.
 */
export class HttpDurationProducer implements MetricProducer {
  private readonly series = new Map<string, Series>();
  private readonly startTime: HrTime = millisToHrTime(Date.now());

  /**
   * `traceId`/`spanId` (of a sampled span only: an exemplar must lead to a stored trace) replace
   * the bucket's exemplar. One small object per sampled request; Prometheus keeps the history.
   */
  record(seconds: number, method: string, route: string | undefined, status: number, scheme: string, traceId?: string, spanId?: string): void {
    const key = seriesKey(method, status, scheme, route);
    let s = this.series.get(key);
    if (s === undefined) s = this.newSeries(key, method, route, status, scheme);
    const i = observe(s, HTTP_DURATION_BOUNDARIES, seconds);
    if (traceId !== undefined && spanId !== undefined) s.exemplars[i] = { traceId, spanId, value: seconds, timeMs: Date.now() };
  }

  private newSeries(key: string, method: string, route: string | undefined, status: number, scheme: string): Series {
    if (this.series.size >= MAX_SERIES) {
      const overflow = this.series.get('overflow');
      if (overflow) return overflow;
      key = 'overflow';
    }
    const attributes: Attributes =
      key === 'overflow'
        ? { 'otel.metric.overflow': true }
        : {
            'http.request.method': method,
            'http.response.status_code': status,
            'url.scheme': scheme,
            ...(route === undefined ? {} : { 'http.route': route }),
            ...(status >= 500 ? { 'error.type': String(status) } : {}),
          };
    const s: Series = {
      ...emptySeries(attributes, HTTP_DURATION_BOUNDARIES),
      exemplars: new Array<Exemplar | undefined>(HTTP_DURATION_BOUNDARIES.length + 1).fill(undefined),
    };
    this.series.set(key, s);
    return s;
  }

  /**
   * The exemplar of one bucket, found by the labels the Prometheus exposition gives the series
   * (`http_request_method`, `http_response_status_code`, `url_scheme`, `http_route`) and its `le`.
   */
  exemplar(labels: Readonly<Record<string, string>>, le: string): Exemplar | undefined {
    const key = seriesKey(labels.http_request_method ?? '', Number(labels.http_response_status_code), labels.url_scheme ?? '', labels.http_route);
    const s = this.series.get(key) ?? (labels.otel_metric_overflow ? this.series.get('overflow') : undefined);
    if (s === undefined) return undefined;
    const i = le === '+Inf' ? HTTP_DURATION_BOUNDARIES.length : HTTP_DURATION_BOUNDARIES.indexOf(Number(le) as (typeof HTTP_DURATION_BOUNDARIES)[number]);
    return i < 0 ? undefined : s.exemplars[i];
  }

  /** Bucket counts summed over every series, optionally filtered (for /health/metrics quantiles). */
  totals(filter?: (attrs: Attributes) => boolean): { counts: number[]; count: number; sum: number; errors: number } {
    const counts = new Array<number>(HTTP_DURATION_BOUNDARIES.length + 1).fill(0);
    let count = 0;
    let sum = 0;
    let errors = 0;
    for (const s of this.series.values()) {
      if (filter && !filter(s.attributes)) continue;
      for (let i = 0; i < counts.length; i++) counts[i]! += s.counts[i]!;
      count += s.count;
      sum += s.sum;
      if ('error.type' in s.attributes) errors += s.count;
    }
    return { counts, count, sum, errors };
  }

  async collect(): Promise<CollectionResult> {
    return histogramCollection(
      {
        scope: 'caly-api.http',
        name: METRIC_HTTP_SERVER_REQUEST_DURATION,
        description: 'Duration of HTTP server requests.',
        unit: 's',
        boundaries: HTTP_DURATION_BOUNDARIES,
        startTime: this.startTime,
      },
      this.series.values(),
    );
  }
}

function seriesKey(method: string, status: number, scheme: string, route: string | undefined): string {
  return `${method} ${status} ${scheme} ${route ?? ''}`;
}

/** Linear interpolation inside the bucket, as Prometheus' histogram_quantile does. */
export function quantileFromBuckets(q: number, counts: readonly number[], total: number): number | null {
  if (total === 0) return null;
  const rank = q * total;
  let cumulative = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (cumulative + c >= rank && c > 0) {
      const lower = i === 0 ? 0 : HTTP_DURATION_BOUNDARIES[i - 1]!;
      // Above the last boundary Prometheus answers the last finite boundary; so do we.
      if (i === HTTP_DURATION_BOUNDARIES.length) return HTTP_DURATION_BOUNDARIES[i - 1]!;
      const upper = HTTP_DURATION_BOUNDARIES[i]!;
      return lower + (upper - lower) * ((rank - cumulative) / c);
    }
    cumulative += c;
  }
  return HTTP_DURATION_BOUNDARIES[HTTP_DURATION_BOUNDARIES.length - 1]!;
}
