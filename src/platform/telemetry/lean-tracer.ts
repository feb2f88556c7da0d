import {
  context as contextApi,
  INVALID_SPAN_CONTEXT,
  SamplingDecision,
  SpanKind,
  trace,
  TraceFlags,
  type Context,
  type Span,
  type SpanOptions,
  type Tracer,
} from '@opentelemetry/api';
import { isTracingSuppressed, sanitizeAttributes } from '@opentelemetry/core';
import type { IdGenerator, Sampler } from '@opentelemetry/sdk-trace-base';
import { LeanSpan, NO_LINKS, type SpanShared } from './lean-span';
import { isValidSpanContext } from '../context/span-context';

/** The tracers that make a span on every request: the SERVER span and the pg CLIENT span. */
export const LEAN_TRACER_NAMES: ReadonlySet<string> = new Set(['caly-api.http', 'caly-api.db']);

export interface LeanTracerOptions extends Omit<SpanShared, 'instrumentationScope'> {
  sampler: Sampler;
  idGenerator: IdGenerator;
}

/**
 * The SDK's Tracer.startSpan, step for step (suppressed tracing, parent, ids, sampling, the
 * non-recording span of a dropped decision), making LeanSpans (lean-span.ts says why). Spans go to
 * the same processors, with the same sampler, ids, resource and limits as the provider's other
 * tracers; the provider hands it out for LEAN_TRACER_NAMES only (sdk.ts), so instrumentations keep
 * the SDK's own spans.
 */
export class LeanTracer implements Tracer {
  private readonly shared: SpanShared;

  constructor(
    name: string,
    version: string | undefined,
    schemaUrl: string | undefined,
    private readonly options: LeanTracerOptions,
  ) {
    this.shared = { resource: options.resource, limits: options.limits, processors: options.processors, instrumentationScope: { name, version, schemaUrl } };
  }

  startSpan(name: string, options: SpanOptions = {}, context: Context = contextApi.active()): Span {
    if (options.root) context = trace.deleteSpan(context);
    if (isTracingSuppressed(context)) return trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
    const parent = trace.getSpanContext(context);
    const valid = parent !== undefined && isValidSpanContext(parent);
    const ids = this.options.idGenerator;
    const spanId = ids.generateSpanId();
    const traceId = valid ? parent.traceId : ids.generateTraceId();
    const kind = options.kind ?? SpanKind.INTERNAL;
    // as the SDK hands them to the sampler and the span: each link's attributes validated
    const links = options.links === undefined ? NO_LINKS : options.links.map((l) => ({ context: l.context, attributes: sanitizeAttributes(l.attributes) }));
    // The caller's attributes as given, where the SDK passes a validated copy: no sampler of ours
    // reads them (sampler.ts), and copying them twice is what this tracer saves.
    const sampled = this.options.sampler.shouldSample(context, traceId, name, kind, options.attributes ?? {}, links);
    const spanContext = {
      traceId,
      spanId,
      traceFlags: sampled.decision === SamplingDecision.RECORD_AND_SAMPLED ? TraceFlags.SAMPLED : TraceFlags.NONE,
      traceState: sampled.traceState ?? (valid ? parent.traceState : undefined),
    };
    if (sampled.decision === SamplingDecision.NOT_RECORD) return trace.wrapSpanContext(spanContext);
    const span = new LeanSpan(this.shared, spanContext, name, kind, valid ? parent : undefined, options.attributes, links, options.startTime);
    if (sampled.attributes !== undefined) span.setAttributes(sampled.attributes);
    return span.started(context);
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, context: Context, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, a?: SpanOptions | F, b?: Context | F, c?: F): ReturnType<F> | undefined {
    const fn = (typeof a === 'function' ? a : typeof b === 'function' ? b : c) as F | undefined;
    if (fn === undefined) return undefined;
    const options = typeof a === 'object' ? a : undefined;
    const parent = typeof b === 'object' ? b : contextApi.active();
    const span = this.startSpan(name, options, parent);
    return contextApi.with(trace.setSpan(parent, span), fn as (s: Span) => ReturnType<F>, undefined, span);
  }
}
