import type { Tracer, TracerOptions } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import { NoopSpanProcessor, type IdGenerator, type Sampler, type SpanLimits, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { limitsOf } from './lean-span';
import { LEAN_TRACER_NAMES, LeanTracer, type LeanTracerOptions } from './lean-tracer';

export interface ServiceTracerConfig {
  resource: Resource;
  sampler: Sampler;
  idGenerator: IdGenerator;
  spanLimits: SpanLimits;
  /** Every processor the spans go to; none when no exporter is configured. */
  spanProcessors: SpanProcessor[];
}

/**
 * The SDK's NodeTracerProvider, except that the service's own request-path tracers
 * (LEAN_TRACER_NAMES) make LeanSpans, with the same sampler, ids, limits, resource and processors.
 * Flushing and shutdown stay the provider's: the processors are the same objects.
 */
export class ServiceTracerProvider extends NodeTracerProvider {
  private readonly lean: LeanTracerOptions;
  private readonly leanTracers = new Map<string, LeanTracer>();

  constructor(config: ServiceTracerConfig) {
    // With no exporter, spans are still made (request ids, log correlation, exemplars), just not
    // sent. The SDK's spans want a processor to call; a LeanSpan with none skips the calls.
    super({ ...config, spanProcessors: config.spanProcessors.length > 0 ? config.spanProcessors : [new NoopSpanProcessor()] });
    this.lean = {
      resource: config.resource,
      sampler: config.sampler,
      idGenerator: config.idGenerator,
      limits: limitsOf(config.spanLimits),
      processors: config.spanProcessors,
    };
  }

  override getTracer(name: string, version?: string, options?: TracerOptions): Tracer {
    if (!LEAN_TRACER_NAMES.has(name)) return super.getTracer(name, version, options);
    const key = `${name}@${version ?? ''}:${options?.schemaUrl ?? ''}`;
    let tracer = this.leanTracers.get(key);
    if (tracer === undefined) this.leanTracers.set(key, (tracer = new LeanTracer(name, version, options?.schemaUrl, this.lean)));
    return tracer;
  }
}
