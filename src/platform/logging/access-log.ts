import { performance } from 'node:perf_hooks';
import { trace } from '@opentelemetry/api';
import type { Step } from '../pipeline';
import type { AppContext } from '../context/state';
import { loggablePath } from '../context/path';
import { routeOf } from '../context/state';
import { generatedFields, lineWriterFor, type Logger } from './logger';

/**
 * Fields of the access line whose values the service makes: the message constant, the method (the
 * HTTP parser accepts only known method tokens), the router's template, status, duration and our
 * own request id. They skip the redaction pass; path, query, address and user agent (client
 * input) and everything an error adds still go through it.
 */
const GENERATED = generatedFields(['message', 'method', 'route', 'status', 'duration_ms', 'request_id', 'slow', 'threshold_ms']);

export interface AccessLogOptions {
  logger: Logger;
  slowRequestMs: number;
  /** false: skip the line for fast successful requests (errors, slow requests, warnings still log). */
  logFastSuccess: boolean;
}

/**
 * One line per request, written after the response status is final (on success and on error),
 * with the request span's trace_id, span_id and trace_flags as instrumentation-winston would add
 * them (see lineWriterFor). The duration counts from the request span's start.
 */
export function accessLog({ logger, slowRequestMs, logFastSuccess }: AccessLogOptions): Step {
  const writeLine = lineWriterFor(logger);
  return { name: 'access log', after: writeAccessLine };

  function writeAccessLine(ctx: AppContext): void {
    const durationMs = performance.now() - ctx.state.startedAt;
    const status = ctx.status;
    const slow = durationMs > slowRequestMs;
    const level = status >= 500 ? 'error' : slow || status >= 400 ? 'warn' : 'info';
    if (level !== 'info' || logFastSuccess) {
      const state = ctx.state;
      const line: Record<string, unknown> = {
        method: ctx.method,
        route: routeOf(ctx),
        path: loggablePath(ctx.path),
        status,
        duration_ms: Math.round(durationMs * 1000) / 1000,
        request_id: state.requestId,
        client_ip: ctx.ip,
        user_agent: ctx.get('user-agent') || undefined,
      };
      const qs = ctx.querystring;
      // Raw: the logger's format (the one redaction point) redacts it parameter by parameter.
      if (qs) line.query = qs;
      const caller = state.caller;
      if (caller) line.caller = caller.kind;
      if (caller && caller.kind !== 'platform') line.tenant_id = caller.tenantId;
      if (caller?.kind === 'user') line.user_id = caller.userId;
      if (slow) {
        line.slow = true;
        line.threshold_ms = slowRequestMs;
      }
      const error = state.error;
      if (error) {
        line.error_code = error.appError.code;
        line.error_message = error.appError.message;
        if (status >= 500) {
          const o = error.original;
          line.error = o instanceof Error ? { name: o.name, message: o.message, stack: o.stack, cause: describeCause(o.cause) } : String(o);
          // The body may explain a 500; it is redacted by the logger's format like every field.
          if (ctx.request.body !== undefined) line.request_body = ctx.request.body;
          line.request_headers = ctx.headers;
        }
      }
      writeLine(level, slow ? 'slow request' : 'request', line, (state.span ?? trace.getActiveSpan())?.spanContext(), GENERATED);
    }
  }
}

function describeCause(cause: unknown): unknown {
  if (cause === undefined) return undefined;
  return cause instanceof Error ? { name: cause.name, message: cause.message } : String(cause);
}
