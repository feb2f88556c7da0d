import type { MeterProvider } from '@opentelemetry/api';
import { BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Config } from '../config';

/**
 * Batch span processor sizing, from the measured peak span rate (bench/README.md): /api/ping at
 * ~5,000 req/s is 5,000 spans/s, /api/info at ~1,900 req/s (server span + query span) ~3,800/s.
 * The processor exports one batch at a time, so its throughput is batch size ÷ export latency:
 * 4,096 spans per export keeps up with that peak while the collector answers within ~0.8 s, and
 * the queue holds ~3 s of peak traffic through a collector stall (~2 KB a span: ~32 MB at most).
 * Past that, spans are dropped and counted (otel_sdk_processor_span_processed_total with
 * error_type="queue_full"; alert CalyTraceSpansDropped). The SDK defaults (2,048 / 512 / 5 s)
 * lost 71% of spans behind a collector answering in 1 s.
 */
export const BSP_DEFAULTS = {
  maxQueueSize: 16_384,
  maxExportBatchSize: 4_096,
  scheduledDelayMillis: 500,
  exportTimeoutMillis: 10_000,
} as const;

export interface SpanPipelineOptions {
  /** Tests pass an InMemorySpanExporter here; it is wired with a SimpleSpanProcessor. */
  spanExporter?: SpanExporter;
  /** Receives the processor's and exporter's self-metrics (queue size, dropped, exported, failed). */
  meterProvider: MeterProvider;
}

export function spanProcessors(config: Config, opts: SpanPipelineOptions): SpanProcessor[] {
  const processors: SpanProcessor[] = [];
  if (opts.spanExporter) processors.push(new SimpleSpanProcessor(opts.spanExporter));
  const endpoint = config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? config.OTEL_EXPORTER_OTLP_ENDPOINT;
  const wanted = config.OTEL_TRACES_EXPORTER ?? (endpoint ? 'otlp' : 'none');
  const batch = {
    maxQueueSize: config.OTEL_BSP_MAX_QUEUE_SIZE ?? BSP_DEFAULTS.maxQueueSize,
    maxExportBatchSize: config.OTEL_BSP_MAX_EXPORT_BATCH_SIZE ?? BSP_DEFAULTS.maxExportBatchSize,
    scheduledDelayMillis: config.OTEL_BSP_SCHEDULE_DELAY ?? BSP_DEFAULTS.scheduledDelayMillis,
    exportTimeoutMillis: config.OTEL_BSP_EXPORT_TIMEOUT ?? BSP_DEFAULTS.exportTimeoutMillis,
    selfObsMeterProvider: opts.meterProvider,
  };
  if (wanted === 'otlp' && endpoint) {
    // Loaded only when used: the OTLP exporter pulls protobuf/transformer code we otherwise never need.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
    const url = config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? `${endpoint.replace(/\/$/, '')}/v1/traces`;
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url, selfObsMeterProvider: opts.meterProvider }), batch));
  } else if (wanted === 'console') {
    processors.push(new BatchSpanProcessor(new ConsoleSpanExporter(), batch));
  }
  return processors;
}
