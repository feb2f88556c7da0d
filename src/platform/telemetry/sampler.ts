import { SpanKind, trace, type Attributes, type Context, type Link } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SamplingResult,
} from '@opentelemetry/sdk-trace-base';
import type { Config } from '../config';

/*
 * The sampler stays ours rather than NodeSDK's OTEL_TRACES_SAMPLER mapping: the same names are
 * honoured, with two deliberate differences the SDK cannot express (both below).
 */

/**
 * Drops CLIENT spans that start no trace of their own: queries and Redis calls outside a request
 * (audit writes, purge, probes, warm-up) are not worth a trace. They must still be measured: the
 * query wrapper (db/traced-client.ts) records db.client.operation.duration for every query and
 * leaves the span decision to this one rule, which covers the Redis spans too.
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

export function sampler(config: Config): Sampler {
  return new NoOrphanClientSpans(fromName(config));
}

function fromName(config: Config): Sampler {
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
