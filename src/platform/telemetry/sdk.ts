import type { IncomingMessage, ServerResponse } from 'node:http';
import { metrics } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { getNumberFromEnv, W3CTraceContextPropagator } from '@opentelemetry/core';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { RuntimeNodeInstrumentation } from '@opentelemetry/instrumentation-runtime-node';
import { WinstonInstrumentation } from '@opentelemetry/instrumentation-winston';
import { envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, type MetricReader } from '@opentelemetry/sdk-metrics';
import type { SpanExporter, SpanLimits } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { Config } from '../config';
import { DiagToLog, type DiagSink } from './diag';
import { DbDurationProducer } from './db-duration';
import { HttpDurationProducer } from './http-duration';
import { createInstruments, type Instruments } from './instruments';
import { metricsRequestHandler } from './metrics-endpoint';
import { sampler } from './sampler';
import { CryptoIdGenerator } from './id-generator';
import { spanProcessors } from './span-pipeline';
import { ServiceTracerProvider } from './tracer-provider';

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
 * (db/traced-client.ts), at a fraction of instrumentation-pg's cost. http and koa stay off on
 * purpose: the service's own SERVER span step (request-span.ts) is measurably cheaper.
 *
 * Each package is named here rather than taken from @opentelemetry/auto-instrumentations-node
 * with an allowlist: the bundle requires all of its ~40 instrumentations (and NodeSDK its log,
 * OTLP and resource-detector packages) even when three are enabled, ~525 modules that held
 * 13 MB of RSS and 7 MB of heap for nothing (bench/README.md, "Fourth round").
 */
function instrumentations() {
  return [
    // Redis calls (the rate limiters) as CLIENT spans under their request; the key names a
    // bucket (an address or a hashed email), so the statement is reduced to the command.
    new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: (cmd) => cmd }),
    new WinstonInstrumentation({ disableLogSending: true }),
    new RuntimeNodeInstrumentation({ monitoringPrecision: 10 }),
  ];
}

/** The OTEL_SPAN_* / OTEL_ATTRIBUTE_* limits, read as NodeSDK read them; unset ones keep the SDK's defaults. */
function spanLimitsFromEnv(): SpanLimits {
  return {
    attributeCountLimit: getNumberFromEnv('OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT') ?? getNumberFromEnv('OTEL_ATTRIBUTE_COUNT_LIMIT'),
    attributeValueLengthLimit: getNumberFromEnv('OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT') ?? getNumberFromEnv('OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT'),
    eventCountLimit: getNumberFromEnv('OTEL_SPAN_EVENT_COUNT_LIMIT'),
    linkCountLimit: getNumberFromEnv('OTEL_SPAN_LINK_COUNT_LIMIT'),
    attributePerEventCountLimit: getNumberFromEnv('OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT'),
    attributePerLinkCountLimit: getNumberFromEnv('OTEL_SPAN_ATTRIBUTE_PER_LINK_COUNT_LIMIT'),
  };
}

/**
 * Starts tracing and metrics, with the instrumentations above. Must run before `ioredis` and
 * `winston` are first required (main.ts loads the rest of the service only after this returns),
 * otherwise require-in-the-middle never sees them load.
 *
 * The parts NodeSDK would assemble are put together here, each for a reason: the resource from
 * OTEL_RESOURCE_ATTRIBUTES plus the validated configuration; the sampler (sampler.ts: two
 * deliberate deviations); the span pipeline (span-pipeline.ts: the queue sized for our peak and
 * the exporter's self-metrics); the MeterProvider (the batch processor needs it first; /metrics
 * is served by our own handler); span limits from the standard OTEL_SPAN_* variables.
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

  const tracerProvider = new ServiceTracerProvider({
    resource,
    sampler: sampler(config),
    idGenerator: new CryptoIdGenerator(),
    spanLimits: spanLimitsFromEnv(),
    spanProcessors: spanProcessors(config, { spanExporter: opts.spanExporter, meterProvider }),
  });
  tracerProvider.register({ contextManager: new AsyncLocalStorageContextManager(), propagator: new W3CTraceContextPropagator() });
  registerInstrumentations({ instrumentations: instrumentations(), tracerProvider, meterProvider });

  const instruments = createInstruments(meterProvider.getMeter('caly-api'), httpDuration, dbDuration);

  return {
    instruments,
    prometheus,
    metricsHandler: prometheus ? metricsRequestHandler(prometheus, httpDuration) : undefined,
    meterProvider,
    attachLog: (sink) => diagnostics.attach(sink),
    async shutdown(timeoutMs: number) {
      const work = Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
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
