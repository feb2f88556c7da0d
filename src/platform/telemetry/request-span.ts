import { performance } from 'node:perf_hooks';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type TextMapGetter } from '@opentelemetry/api';
import type { Step } from '../pipeline';
import { loggablePath } from '../context/path';
import { routeOf } from '../context/state';
import type { Instruments } from './instruments';
import { headLine, sendHeader } from '../response-head/lines';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);
/** What an incoming x-request-id may look like to be kept (as an attribute, never as our id). */
const INCOMING_ID = /^[A-Za-z0-9._-]{1,128}$/;
const REQUEST_ID = headLine('x-request-id');

const headerGetter: TextMapGetter<Record<string, string | string[] | undefined>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

export interface RequestSpanOptions {
  instruments: Instruments;
  slowRequestMs: number;
}

/**
 * The server span, request id and duration histogram in one pipeline step, the first in the list:
 * everything after it runs inside the span's context (`within`), and the span ends on the way out
 * once everything inside has settled (`after`), on success and on error.
 *
 * Chosen over @opentelemetry/instrumentation-http + instrumentation-koa by measurement
 * (bench/README.md): those patch every middleware and cost about twice as
 * much per request, and instrumentation-koa (unmaintained) loses `http.route` whenever routers
 * are composed. This produces the same semantic-convention SERVER span: name `METHOD route`,
 * `http.route` only from the router's template, W3C trace context continued from `traceparent`.
 *
 * Why a step and not a middleware around the pipeline: a middleware must wait for the inside with
 * a `.then` of its own, one promise more per request (with its async-hook init, before and after
 * under AsyncLocalStorage); as the pipeline's first step it ends in the pipeline's own unwind.
 */
export function requestSpan({ instruments, slowRequestMs }: RequestSpanOptions): Step {
  const tracer = trace.getTracer('caly-api.http');
  const durations = instruments.httpDuration;

  return {
    name: 'request span',
    within(ctx, rest) {
      const startedAt = performance.now();
      const headers = ctx.req.headers;
      const parent = headers.traceparent === undefined ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, headers, headerGetter);
      const rawMethod = ctx.method;
      const method = KNOWN_METHODS.has(rawMethod) ? rawMethod : '_OTHER';
      const scheme = ctx.protocol;
      const span = tracer.startSpan(
        method === '_OTHER' ? 'HTTP' : method,
        {
          kind: SpanKind.SERVER,
          attributes: {
            'http.request.method': method,
            'url.path': loggablePath(ctx.path),
            'url.scheme': scheme,
            'client.address': ctx.ip,
            'user_agent.original': headers['user-agent'],
            'network.protocol.version': ctx.req.httpVersion,
          },
        },
        parent,
      );
      if (method === '_OTHER') span.setAttribute('http.request.method_original', rawMethod);
      const incoming = headers['x-request-id'];
      if (typeof incoming === 'string' && INCOMING_ID.test(incoming)) span.setAttribute('caly.request.incoming_id', incoming);

      // The request id is `<trace id>-<server span id>`. The trace id alone is not enough: every
      // request of one upstream trace shares it, and a client sending traceparent would choose it.
      // Our span id is random per request, so the pair is unique, never client-chosen, and names
      // the exact span to open in the trace.
      const sc = span.spanContext();
      const requestId = `${sc.traceId}-${sc.spanId}`;
      const state = ctx.state;
      state.requestId = requestId;
      state.span = span;
      state.startedAt = startedAt;
      state.scheme = scheme;
      sendHeader(ctx.res, REQUEST_ID, requestId);
      return context.with(trace.setSpan(parent, span), rest);
    },
    after(ctx) {
      const { span, startedAt } = ctx.state;
      const scheme = ctx.state.scheme ?? ctx.protocol; // set by within, which ran before any after
      const sc = span.spanContext();
      const method = KNOWN_METHODS.has(ctx.method) ? ctx.method : '_OTHER';
      const status = ctx.status;
      const route = routeOf(ctx);
      const elapsedMs = performance.now() - startedAt;
      if (route !== undefined) {
        span.setAttribute('http.route', route);
        span.updateName(`${method === '_OTHER' ? 'HTTP' : method} ${route}`);
      }
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) {
        span.setAttribute('error.type', String(status));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      if (elapsedMs > slowRequestMs) {
        span.addEvent('slow_request', { 'caly.duration_ms': Math.round(elapsedMs), 'caly.threshold_ms': slowRequestMs });
        instruments.slowRequests.add(1, route === undefined ? { 'http.request.method': method } : { 'http.route': route, 'http.request.method': method });
      }
      if (sc.traceFlags & TraceFlags.SAMPLED) durations.record(elapsedMs / 1000, method, route, status, scheme, sc.traceId, sc.spanId);
      else durations.record(elapsedMs / 1000, method, route, status, scheme);
      span.end();
    },
  };
}
