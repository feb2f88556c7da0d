import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Span, type Tracer } from '@opentelemetry/api';
import { hrTimeDuration, hrTimeToNanoseconds, suppressTracing } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
  type Sampler,
  type SpanLimits,
} from '@opentelemetry/sdk-trace-base';
import { expect } from 'chai';
import { CryptoIdGenerator } from '../../src/platform/telemetry/id-generator';
import { LeanSpan } from '../../src/platform/telemetry/lean-span';
import { ServiceTracerProvider } from '../../src/platform/telemetry/tracer-provider';

/**
 * The service's own request-path spans (LeanSpan, from ServiceTracerProvider) must reach the
 * processors and exporters exactly as the SDK's would: the same script is run against the SDK's
 * tracer and the lean one, and everything an exporter reads is compared.
 */
function pair(limits: SpanLimits = {}, sampler: Sampler = new AlwaysOnSampler()) {
  const resource = resourceFromAttributes({ 'service.name': 'lean-test' });
  const sdkOut = new InMemorySpanExporter();
  const leanOut = new InMemorySpanExporter();
  const sdk = new BasicTracerProvider({ resource, sampler, spanLimits: limits, spanProcessors: [new SimpleSpanProcessor(sdkOut)] });
  const lean = new ServiceTracerProvider({
    resource,
    sampler,
    idGenerator: new CryptoIdGenerator(),
    spanLimits: limits,
    spanProcessors: [new SimpleSpanProcessor(leanOut)],
  });
  return {
    sdk: { tracer: sdk.getTracer('caly-api.http', '1.2.3'), out: sdkOut },
    lean: { tracer: lean.getTracer('caly-api.http', '1.2.3'), out: leanOut },
  };
}

/** What an exporter reads of a span, less its ids and clock readings. */
function exported(s: ReadableSpan) {
  return {
    name: s.name,
    kind: s.kind,
    hasParent: s.parentSpanContext !== undefined,
    traceFlags: s.spanContext().traceFlags,
    attributes: s.attributes,
    events: s.events.map((e) => ({ name: e.name, attributes: e.attributes, droppedAttributesCount: e.droppedAttributesCount })),
    links: s.links.map((l) => ({ spanId: l.context.spanId, attributes: l.attributes, droppedAttributesCount: l.droppedAttributesCount })),
    status: s.status,
    ended: s.ended,
    dropped: [s.droppedAttributesCount, s.droppedEventsCount, s.droppedLinksCount],
    resource: s.resource.attributes,
    scope: s.instrumentationScope,
  };
}

function times(s: ReadableSpan) {
  const start = hrTimeToNanoseconds(s.startTime);
  const end = hrTimeToNanoseconds(s.endTime);
  return { start, end, duration: hrTimeToNanoseconds(s.duration), events: s.events.map((e) => hrTimeToNanoseconds(e.time)) };
}

const link = {
  context: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: TraceFlags.SAMPLED },
  attributes: { 'link.kind': 'retry', 'link.n': 2 },
};

const failure = Object.assign(new Error('boom'), { code: 'E_BOOM' });

/** Every operation a span offers, including the ones the SDK refuses or trims. */
function script(tracer: Tracer): Span {
  const parent = trace.setSpan(ROOT_CONTEXT, trace.wrapSpanContext({ traceId: 'c'.repeat(32), spanId: 'd'.repeat(16), traceFlags: TraceFlags.SAMPLED }));
  const span = tracer.startSpan(
    'GET',
    {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': 'GET', 'url.path': '/api/info/long-path', nothing: undefined, 'server.port': 443, list: ['ab', 'abcdefghij'] },
      links: [link],
    },
    parent,
  );
  span.setAttribute('', 'no key');
  span.setAttribute('bad', { not: 'a value' } as never);
  span.setAttributes({ 'http.route': '/api/info', 'http.response.status_code': 200, 'user_agent.original': 'a very long user agent string' });
  span.addEvent('slow_request', { 'caly.duration_ms': 1500, 'caly.threshold_ms': 1000, '': 'dropped', bad: {} as never });
  span.addEvent('no attributes');
  span.addLink({ context: link.context });
  span.recordException(failure);
  span.recordException('a plain message');
  span.setStatus({ code: SpanStatusCode.ERROR, message: 'failed' });
  span.setStatus({ code: SpanStatusCode.UNSET });
  span.updateName('GET /api/info');
  span.end();
  span.setAttribute('after.end', 1);
  span.addEvent('after end');
  span.setStatus({ code: SpanStatusCode.OK });
  span.updateName('renamed after end');
  span.end();
  return span;
}

describe('lean spans (the request path’s own, as the SDK would make them)', () => {
  it('the service’s request-path tracers make them; every other tracer stays the SDK’s', () => {
    const { lean } = pair();
    expect(lean.tracer.startSpan('x')).to.be.instanceOf(LeanSpan);
    const provider = new ServiceTracerProvider({
      resource: resourceFromAttributes({}),
      sampler: new AlwaysOnSampler(),
      idGenerator: new CryptoIdGenerator(),
      spanLimits: {},
      spanProcessors: [],
    });
    expect(provider.getTracer('caly-api.db').startSpan('q')).to.be.instanceOf(LeanSpan);
    expect(provider.getTracer('@opentelemetry/instrumentation-ioredis').startSpan('r')).not.to.be.instanceOf(LeanSpan);
  });

  it('exports what the SDK’s span exports for the same calls: attributes, events, links, status, name, counts', () => {
    const { sdk, lean } = pair();
    script(sdk.tracer);
    const made = script(lean.tracer);
    expect(made).to.be.instanceOf(LeanSpan);
    const [a] = sdk.out.getFinishedSpans();
    const [b] = lean.out.getFinishedSpans();
    expect(sdk.out.getFinishedSpans()).to.have.length(1);
    expect(lean.out.getFinishedSpans()).to.have.length(1);
    expect(exported(b!)).to.deep.equal(exported(a!));
    expect(b!.parentSpanContext?.spanId).to.equal('d'.repeat(16));
    expect(b!.spanContext().traceId).to.equal('c'.repeat(32));
  });

  it('applies the same limits: attribute count, value length, events, links, attributes per event and link', () => {
    const limits = {
      attributeCountLimit: 3,
      attributeValueLengthLimit: 5,
      eventCountLimit: 2,
      linkCountLimit: 1,
      attributePerEventCountLimit: 1,
      attributePerLinkCountLimit: 1,
    };
    const { sdk, lean } = pair(limits);
    script(sdk.tracer);
    script(lean.tracer);
    const a = sdk.out.getFinishedSpans()[0]!;
    const b = lean.out.getFinishedSpans()[0]!;
    expect(exported(b)).to.deep.equal(exported(a));
    // the script goes past every limit, so each one was exercised
    expect(Object.keys(b.attributes)).to.have.length(3);
    expect(b.attributes['url.path']).to.equal('/api/');
    expect(b.events).to.have.length(2);
    expect(b.droppedEventsCount).to.be.greaterThan(0);
    expect(b.droppedLinksCount).to.equal(1);
    expect(b.droppedAttributesCount).to.be.greaterThan(0);
  });

  it('start attributes: a copy the caller cannot change later, trimmed by the limits like the SDK’s', () => {
    for (const limits of [{}, { attributeCountLimit: 2 }, { attributeValueLengthLimit: 3 }]) {
      const { sdk, lean } = pair(limits);
      for (const tracer of [sdk.tracer, lean.tracer]) {
        const given = { 'http.request.method': 'GET', 'server.port': 443, 'tls.used': true };
        tracer.startSpan('plain', { attributes: given }).end();
        given['http.request.method'] = 'changed';
      }
      const a = sdk.out.getFinishedSpans()[0]!;
      const b = lean.out.getFinishedSpans()[0]!;
      expect(exported(b), JSON.stringify(limits)).to.deep.equal(exported(a));
      expect(b.attributes['http.request.method']).not.to.equal('changed');
    }
  });

  it('status as the SDK sets it: OK is final, UNSET is ignored, an ERROR message must be a string', () => {
    const { sdk, lean } = pair();
    for (const tracer of [sdk.tracer, lean.tracer]) {
      const ok = tracer.startSpan('ok');
      ok.setStatus({ code: SpanStatusCode.OK });
      ok.setStatus({ code: SpanStatusCode.ERROR, message: 'too late' });
      ok.end();
      const odd = tracer.startSpan('odd message');
      odd.setStatus({ code: SpanStatusCode.ERROR, message: 42 as never });
      odd.end();
      const exception = tracer.startSpan('exceptions');
      exception.recordException({ name: 'NamedOnly' });
      exception.recordException({ message: 'message only', stack: 'at somewhere' });
      exception.recordException({} as never);
      exception.end();
    }
    const a = sdk.out.getFinishedSpans().map(exported);
    const b = lean.out.getFinishedSpans().map(exported);
    expect(b).to.deep.equal(a);
    expect(b[0]!.status).to.deep.equal({ code: SpanStatusCode.OK });
    expect(b[1]!.status).to.deep.equal({ code: SpanStatusCode.ERROR });
    expect(b[2]!.events.map((e) => e.name)).to.deep.equal(['exception', 'exception']);
  });

  it('keeps the clock as the SDK does: start ≤ events ≤ end, duration = end − start', () => {
    const { lean } = pair();
    script(lean.tracer);
    const s = lean.out.getFinishedSpans()[0]!;
    const t = times(s);
    const now = Date.now() * 1e6;
    expect(t.start).to.be.within(now - 5e9, now + 1e6);
    expect(t.end).to.be.at.least(t.start);
    expect(s.duration).to.deep.equal(hrTimeDuration(s.startTime, s.endTime));
    for (const e of t.events) expect(e).to.be.within(t.start, t.end);
  });

  it('takes explicit start, event and end times as the SDK does (epoch ms, Date, hrtime)', () => {
    const { sdk, lean } = pair();
    const start = Date.now() - 5_000;
    for (const tracer of [sdk.tracer, lean.tracer]) {
      const span = tracer.startSpan('timed', { startTime: start });
      span.addEvent('at', new Date(start + 1_000));
      span.addEvent('hr', [Math.floor(start / 1000) + 2, 0]);
      span.end(start + 3_000);
    }
    expect(times(lean.out.getFinishedSpans()[0]!)).to.deep.equal(times(sdk.out.getFinishedSpans()[0]!));
    const t = times(lean.out.getFinishedSpans()[0]!);
    expect(t.duration).to.equal(3_000 * 1e6);
  });

  it('an end before the start is clamped to a zero duration, as the SDK does', () => {
    const { sdk, lean } = pair();
    const start = Date.now();
    for (const tracer of [sdk.tracer, lean.tracer]) tracer.startSpan('backwards', { startTime: start }).end(start - 1_000);
    expect(times(lean.out.getFinishedSpans()[0]!)).to.deep.equal(times(sdk.out.getFinishedSpans()[0]!));
    expect(times(lean.out.getFinishedSpans()[0]!).duration).to.equal(0);
  });

  it('a dropped sampling decision gives a non-recording span with real ids and no export', () => {
    const { sdk, lean } = pair({}, new AlwaysOffSampler());
    const a = sdk.tracer.startSpan('dropped');
    const b = lean.tracer.startSpan('dropped');
    a.end();
    b.end();
    expect(b.isRecording()).to.equal(a.isRecording()).and.equal(false);
    expect(b.spanContext().traceFlags).to.equal(a.spanContext().traceFlags);
    expect(trace.isSpanContextValid(b.spanContext())).to.equal(true);
    expect(lean.out.getFinishedSpans()).to.have.length(0);
  });

  it('suppressed tracing gives the invalid span context, as the SDK does', () => {
    const { lean } = pair();
    const span = lean.tracer.startSpan('suppressed', {}, suppressTracing(context.active()));
    expect(trace.isSpanContextValid(span.spanContext())).to.equal(false);
    expect(span.isRecording()).to.equal(false);
  });

  it('root: true starts a new trace under an active parent, as the SDK does', () => {
    const { lean } = pair();
    const parent = trace.setSpan(ROOT_CONTEXT, trace.wrapSpanContext({ traceId: 'c'.repeat(32), spanId: 'd'.repeat(16), traceFlags: TraceFlags.SAMPLED }));
    lean.tracer.startSpan('root', { root: true }, parent).end();
    const s = lean.out.getFinishedSpans()[0]!;
    expect(s.parentSpanContext).to.equal(undefined);
    expect(s.spanContext().traceId).not.to.equal('c'.repeat(32));
  });

  it('startActiveSpan runs the callback with the span active and returns what it returns', () => {
    const { lean } = pair();
    const result = lean.tracer.startActiveSpan('active', (span) => {
      expect(trace.getActiveSpan()).to.equal(span);
      span.end();
      return 42;
    });
    expect(result).to.equal(42);
    expect(lean.out.getFinishedSpans()).to.have.length(1);
  });
});
