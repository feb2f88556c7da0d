import type { IncomingMessage, ServerResponse } from 'node:http';
import { metrics } from '@opentelemetry/api';
import { getNodeAutoInstrumentations } from '@opentelemetry/auto-instrumentations-node';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, type MetricReader } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { NoopSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { Config } from '../config';
import { DiagToLog, type DiagSink } from './diag';
import { DbDurationProducer } from './db-duration';
import { HttpDurationProducer } from './http-duration';
import { createInstruments, type Instruments } from './instruments';
import { metricsRequestHandler } from './metrics-endpoint';
import { sampler } from './sampler';
import { spanProcessors } from './span-pipeline';

export interface Telemetry {
  instruments: Instruments;
  /** The Prometheus reader (no server of its own); tests read metrics through it. */
  prometheus: PrometheusExporter | undefined;
  /** GET /metrics: Prometheus text, or OpenMetrics with exemplars when asked for; undefined without a Prometheus exporter. */
  metricsHandler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  meterProvider: MeterProvider;
  /** Sends the SDK's own warnings and errors (dropped spans, failed exports) to the service log. */
  attachLog(sink: DiagSink): void;
  /** Flushes spans and metrics, bounded: an unreachable collector must not hold shutdown hostage. */
  shutdown(timeoutMs: number): Promise<void>;
}

export interface TelemetryOptions {
  /** Tests pass an InMemorySpanExporter here; it is wired with a SimpleSpanProcessor. */
  spanExporter?: SpanExporter;
  /** Tests may read metrics through their own reader. */
  metricReader?: MetricReader;
}

/**
 * What the service uses: Redis (rate limits), winston, the Node runtime. PostgreSQL is not here:
 * its query spans and db.client.* metrics come from the pool's own client class
 * (db/traced-client.ts), at a fraction of instrumentation-pg's cost.
 */
const INSTRUMENTATIONS = ['ioredis', 'winston', 'runtime-node'] as const;

/**
 * The instrumentations of @opentelemetry/auto-instrumentations-node, restricted to INSTRUMENTATIONS.
 * The bundle enables every one of its ~40 instrumentations unless told otherwise and exports no
 * list of them, so the allowlist goes through its own OTEL_NODE_ENABLED_INSTRUMENTATIONS, set only
 * for this call. http and koa stay off on purpose: the service's own SERVER span middleware
 * (request-span.ts) is measurably cheaper (bench/README.md).
 */
function instrumentations() {
  const saved = process.env.OTEL_NODE_ENABLED_INSTRUMENTATIONS;
  process.env.OTEL_NODE_ENABLED_INSTRUMENTATIONS = INSTRUMENTATIONS.join(',');
  try {
    return getNodeAutoInstrumentations({
      // Redis calls (the rate limiters) as CLIENT spans under their request; the key names a
      // bucket (an address or a hashed email), so the statement is reduced to the command.
      '@opentelemetry/instrumentation-ioredis': { requireParentSpan: true, dbStatementSerializer: (cmd) => cmd },
      '@opentelemetry/instrumentation-winston': { disableLogSending: true },
      '@opentelemetry/instrumentation-runtime-node': { monitoringPrecision: 10 },
    });
  } finally {
    if (saved === undefined) delete process.env.OTEL_NODE_ENABLED_INSTRUMENTATIONS;
    else process.env.OTEL_NODE_ENABLED_INSTRUMENTATIONS = saved;
  }
}

/**
 * NodeSDK registers no tracer provider at all without a span processor, and the API's no-op tracer
 * gives every span the all-zero ids: request ids would collide and exemplars lead nowhere. With
 * no exporter configured, spans are still made (ids, log correlation), just not sent.
 */
function orNoop(processors: SpanProcessor[]): SpanProcessor[] {
  return processors.length > 0 ? processors : [new NoopSpanProcessor()];
}

/**
 * Starts tracing and metrics through NodeSDK, with the instrumentations above. Must run before
 * `ioredis` and `winston` are first required (main.ts loads the rest of the service only
 * after this returns), otherwise require-in-the-middle never sees them load.
 *
 * NodeSDK reads the standard OTEL_* variables for the resource (OTEL_SERVICE_NAME,
 * OTEL_RESOURCE_ATTRIBUTES) and builds the tracer provider. Three parts stay ours, each for a
 * reason: the sampler (sampler.ts: two deliberate deviations), the span pipeline
 * (span-pipeline.ts: the queue sized for our peak and the exporter's self-metrics, which NodeSDK's
 * env-built exporter does not wire), and the MeterProvider (the batch processor needs it before
 * NodeSDK would create one in start(); /metrics is served by our own handler).
 */
export function startTelemetry(config: Config, opts: TelemetryOptions = {}): Telemetry {
  const diagnostics = new DiagToLog().install();
  // OTEL_RESOURCE_ATTRIBUTES through the SDK's env detector; name, version and environment from
  // the validated configuration win.
  const resource = resourceFromAttributes({
    ...envDetector.detect().attributes,
    [ATTR_SERVICE_NAME]: config.OTEL_SERVICE_NAME,
    [ATTR_SERVICE_VERSION]: config.APP_VERSION,
    'deployment.environment.name': config.NODE_ENV,
  });

  const httpDuration = new HttpDurationProducer();
  const dbDuration = new DbDurationProducer();
  const readers: MetricReader[] = [];
  let prometheus: PrometheusExporter | undefined;
  if (config.OTEL_METRICS_EXPORTER === 'prometheus') {
    prometheus = new PrometheusExporter({
      preventServerStart: true,
      // Scope labels churn with every upgrade and split series; rules aggregate without them.
      withoutScopeInfo: true,
      metricProducers: [httpDuration, dbDuration],
    });
    readers.push(prometheus);
  }
  if (opts.metricReader) readers.push(opts.metricReader);
  const meterProvider = new MeterProvider({ resource, readers });
  // Before the instrumentations are built: they take the global meter provider when constructed.
  metrics.setGlobalMeterProvider(meterProvider);

  const sdk = new NodeSDK({
    resource,
    autoDetectResources: false, // the env detector ran above; host and process attributes are not wanted on every series
    sampler: sampler(config),
    spanProcessors: orNoop(spanProcessors(config, { spanExporter: opts.spanExporter, meterProvider })),
    metricReaders: [], // the MeterProvider above is the one
    logRecordProcessors: [], // logs go to stdout through winston, never over OTLP
    contextManager: new AsyncLocalStorageContextManager(),
    textMapPropagator: new W3CTraceContextPropagator(),
    instrumentations: instrumentations(),
  });
  sdk.start();

  const instruments = createInstruments(meterProvider.getMeter('caly-api'), httpDuration, dbDuration);

  return {
    instruments,
    prometheus,
    metricsHandler: prometheus ? metricsRequestHandler(prometheus, httpDuration) : undefined,
    meterProvider,
    attachLog: (sink) => diagnostics.attach(sink),
    async shutdown(timeoutMs: number) {
      const work = Promise.allSettled([sdk.shutdown(), meterProvider.shutdown()]);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
        timer.unref();
      });
      await Promise.race([work.then(() => undefined), timeout]);
      if (timer) clearTimeout(timer);
    },
  };
}
