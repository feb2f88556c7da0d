import { SpanStatusCode } from '@opentelemetry/api';
import type { Step } from '../pipeline';
import type { AppContext } from '../context/state';
import { routeOf } from '../context/state';
import type { Instruments } from '../telemetry/instruments';
import { AppError, MethodNotAllowedError, NotFoundError } from '../errors/app-error';
import { toAppError } from '../errors/to-app-error';

export interface ErrorBody {
  error: {
    code: string;
    message: string;
    requestId: string;
    timestamp: string;
    details?: unknown;
    retryAfter?: number;
  };
}

const GENERIC_500 = 'An unexpected error occurred';

/**
 * Renders every error in the one envelope. Sits inside the span and access-log middleware so both
 * see the final status, and outside everything that can throw. Headers set earlier (request id,
 * security headers, rate-limit headers) are kept: Koa's own error handling would drop them.
 */
export function errorEnvelope(opts: { instruments: Instruments; production: boolean }): Step {
  const { instruments, production } = opts;

  // Both paths end in `fail`: an error thrown inside, and a request nothing answered.
  return {
    name: 'error envelope',
    recover: fail,
    after(ctx, failure) {
      // Nothing answered: an unknown route (404) or a known route with the wrong method (405).
      if (failure === undefined && ctx.body == null && (ctx.status === 404 || ctx.status === 405 || ctx.status === 501)) {
        const allow = ctx.response.get('Allow');
        fail(ctx, allow ? new MethodNotAllowedError(allow.split(/,\s*/)) : new NotFoundError('Route'));
      }
    },
  };

  function fail(ctx: AppContext, err: unknown): void {
    const appError = toAppError(err);
    ctx.state.error = { appError, original: err };
    const span = ctx.state.span;
    if (span) {
      span.recordException(err instanceof Error ? err : new Error(String(err)));
      // HTTP semantic conventions: a server span is an error only for 5xx; a 4xx is the client's
      // mistake, answered correctly (its code stays on caly.error.code and the exception event).
      if (appError.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: appError.code });
      span.setAttribute('caly.error.code', appError.code);
    }
    const route = routeOf(ctx);
    instruments.errors.add(
      1,
      route === undefined
        ? { 'caly.error.code': appError.code, 'http.response.status_code': appError.status }
        : { 'caly.error.code': appError.code, 'http.route': route, 'http.response.status_code': appError.status },
    );
    render(ctx, appError, production);
  }
}

function render(ctx: AppContext, err: AppError, production: boolean): void {
  // Content headers a handler may have set for a body it never finished must not describe ours.
  ctx.remove('Content-Disposition');
  ctx.remove('Content-Encoding');
  if (err.headers) for (const [k, v] of Object.entries(err.headers)) ctx.set(k, v);
  const body: ErrorBody = {
    error: {
      code: err.code,
      message: err.expose ? err.message : production ? GENERIC_500 : `${GENERIC_500}: ${err.message}`,
      requestId: ctx.state.requestId,
      timestamp: new Date().toISOString(),
    },
  };
  if (err.details !== undefined) body.error.details = err.details;
  const retryAfter = (err as AppError & { retryAfter?: number }).retryAfter;
  if (retryAfter !== undefined) body.error.retryAfter = retryAfter;
  ctx.status = err.status;
  ctx.type = 'application/json';
  ctx.body = body;
}

export { AppError };
