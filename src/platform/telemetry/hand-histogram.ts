import type { Attributes, HrTime } from '@opentelemetry/api';
import { ValueType } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, type CollectionResult } from '@opentelemetry/sdk-metrics';

/**
 * What the histograms kept by hand (http-duration.ts, db-duration.ts) share: the bucket a value
 * falls in, and the cumulative explicit-bucket histogram the SDK itself would export, so that
 * every reader serialises ours exactly as it would the SDK's.
 */

/** One series of a hand-kept histogram. */
export interface HandSeries {
  readonly attributes: Attributes;
  counts: Float64Array;
  sum: number;
  count: number;
  min: number;
  max: number;
}

export function emptySeries(attributes: Attributes, boundaries: readonly number[]): HandSeries {
  return { attributes, counts: new Float64Array(boundaries.length + 1), sum: 0, count: 0, min: Infinity, max: -Infinity };
}

/** Adds one value to a series; returns its bucket's index (the last one past every boundary). */
export function observe(s: HandSeries, boundaries: readonly number[], value: number): number {
  let i = 0;
  while (i < boundaries.length && value > boundaries[i]!) i++;
  s.counts[i]! += 1;
  s.sum += value;
  s.count += 1;
  if (value < s.min) s.min = value;
  if (value > s.max) s.max = value;
  return i;
}

export interface HistogramDescriptor {
  /** Instrumentation scope the reader files the metric under. */
  scope: string;
  name: string;
  description: string;
  unit: string;
  boundaries: readonly number[];
  startTime: HrTime;
}

/** A MetricProducer's answer for one cumulative histogram made of `series`. */
export function histogramCollection(d: HistogramDescriptor, series: Iterable<HandSeries>): CollectionResult {
  const endTime = millisToHrTime(Date.now());
  const dataPoints = [...series].map((s) => ({
    startTime: d.startTime,
    endTime,
    attributes: s.attributes,
    value: {
      buckets: { boundaries: [...d.boundaries], counts: Array.from(s.counts) },
      sum: s.sum,
      count: s.count,
      min: s.min,
      max: s.max,
    },
  }));
  return {
    errors: [],
    resourceMetrics: {
      // The reader keeps its SDK producer's resource and uses only our scopeMetrics.
      resource: undefined as unknown as Resource,
      scopeMetrics: [
        {
          scope: { name: d.scope },
          metrics:
            dataPoints.length === 0
              ? []
              : [
                  {
                    descriptor: { name: d.name, description: d.description, unit: d.unit, valueType: ValueType.DOUBLE },
                    aggregationTemporality: AggregationTemporality.CUMULATIVE,
                    dataPointType: DataPointType.HISTOGRAM,
                    dataPoints,
                  },
                ],
        },
      ],
    },
  };
}
