import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, metrics, propagation, SpanKind, trace, type Attributes, type Context, type Link } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { RuntimeNodeInstrumentation } from '@opentelemetry/instrumentation-runtime-node';
import { WinstonInstrumentation } from '@opentelemetry/instrumentation-winston';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, type MetricReader } from '@opentelemetry/sdk-metrics';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SamplingResult,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { Config } from '../config';
import { createInstruments, type Instruments } from './instruments';
import { DiagToLog, type DiagSink } from './diag';
import { HttpDurationProducer } from './http-duration';
import { metricsRequestHandler } from './metrics-endpoint';
import { spanProcessors } from './span-pipeline';

export interface Telemetry {
  instruments: Instruments;
  /** Serves the Prometheus text exposition; mounted on the internal metrics port. */
  prometheus: PrometheusExporter | undefined;
  /** GET /metrics: Prometheus text, or OpenMetrics with exemplars when asked for; undefined without a Prometheus exporter. */
  metricsHandler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  tracerProvider: NodeTracerProvider;
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
 * Drops CLIENT spans that start no trace of their own: queries and Redis calls outside a request
 * (audit writes, purge, probes, warm-up) are not worth a trace. They must still be measured, so
 * this is done here rather than with instrumentation-pg's requireParentSpan, which skips the
 * query's db.client.operation.duration observation together with its span.
 */
export class NoOrphanClientSpans implements Sampler {
  constructor(private readonly inner: Sampler) {}
  shouldSample(ctx: Context, traceId: string, name: string, kind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult {
    if (kind === SpanKind.CLIENT && trace.getSpanContext(ctx) === undefined) return { decision: SamplingDecision.NOT_RECORD };
    return this.inner.shouldSample(ctx, traceId, name, kind, attributes, links);
  }
  toString(): string {
    return `NoOrphanClientSpans{${this.inner.toString()}}`;
  }
}

/**
 * Follows a sampled caller; a caller that did not sample (or a client sending flags 00 to switch
 * tracing off) is decided by our own root sampler instead, so a request id always leads to a trace
 * when the root sampler keeps it.
 */
function parentBased(root: Sampler): Sampler {
  return new ParentBasedSampler({ root, remoteParentNotSampled: root });
}

function sampler(config: Config): Sampler {
  const ratio = config.OTEL_TRACES_SAMPLER_ARG ?? 1;
  switch (config.OTEL_TRACES_SAMPLER) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_off':
      return parentBased(new AlwaysOffSampler());
    case 'parentbased_traceidratio':
      return parentBased(new TraceIdRatioBasedSampler(ratio));
    default:
      return parentBased(new AlwaysOnSampler());
  }
}

function resourceAttributes(config: Config): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const pair of (config.OTEL_RESOURCE_ATTRIBUTES ?? '').split(',')) {
    const i = pair.indexOf('=');
    if (i > 0) attrs[decodeURIComponent(pair.slice(0, i).trim())] = decodeURIComponent(pair.slice(i + 1).trim());
  }
  attrs[ATTR_SERVICE_NAME] = config.OTEL_SERVICE_NAME;
  attrs[ATTR_SERVICE_VERSION] = config.APP_VERSION;
  attrs['deployment.environment.name'] = config.NODE_ENV;
  return attrs;
}

/**
 * Starts tracing and metrics and patches pg and winston. Must run before `pg` and `winston` are
 * first required (main.ts loads the rest of the service only after this returns), otherwise
 * require-in-the-middle never sees them and query spans silently disappear.
 */
export function startTelemetry(config: Config, opts: TelemetryOptions = {}): Telemetry {
  const diagnostics = new DiagToLog().install();
  const resource = resourceFromAttributes(resourceAttributes(config));

  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());

  const httpDuration = new HttpDurationProducer();
  const readers: MetricReader[] = [];
  let prometheus: PrometheusExporter | undefined;
  if (config.OTEL_METRICS_EXPORTER === 'prometheus') {
    prometheus = new PrometheusExporter({
      preventServerStart: true,
      // Scope labels churn with every upgrade and split series; rules aggregate without them.
      withoutScopeInfo: true,
      metricProducers: [httpDuration],
    });
    readers.push(prometheus);
  }
  if (opts.metricReader) readers.push(opts.metricReader);
  const meterProvider = new MeterProvider({ resource, readers });
  metrics.setGlobalMeterProvider(meterProvider);

  const tracerProvider = new NodeTracerProvider({
    resource,
    sampler: new NoOrphanClientSpans(sampler(config)),
    spanProcessors: spanProcessors(config, { spanExporter: opts.spanExporter, meterProvider }),
  });
  trace.setGlobalTracerProvider(tracerProvider);

  registerInstrumentations({
    tracerProvider,
    meterProvider,
    instrumentations: [
      new PgInstrumentation({
        // Queries outside a request get no span (NoOrphanClientSpans) but are still measured.
        requireParentSpan: false,
        ignoreConnectSpans: true,
        enhancedDatabaseReporting: false,
      }),
      new WinstonInstrumentation({ disableLogSending: true }),
      new RuntimeNodeInstrumentation({ monitoringPrecision: 10 }),
    ],
  });

  const instruments = createInstruments(meterProvider.getMeter('caly-api'), httpDuration);

  return {
    instruments,
    prometheus,
    metricsHandler: prometheus ? metricsRequestHandler(prometheus, httpDuration) : undefined,
    tracerProvider,
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
