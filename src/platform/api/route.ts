import type Router from '@koa/router';
import { UnsupportedMediaTypeError } from '../errors/app-error';
import type { AppContext, AppState } from '../context/state';
import { validate, type InputShape } from '../validation';
import { registerRoute, type RouteDeclaration, type RouteMiddleware } from './declaration';

/** What the body parser (src/platform/http/body.ts) reads; validate() converts the form's text fields. */
export const VALIDATED_BODY_TYPES = ['application/json', 'application/x-www-form-urlencoded'] as const;

/**
 * A body the parser would silently skip (no Content-Type, or one it does not read) reaches the
 * schema as `{}` and is refused for missing fields the client did send. Said plainly instead.
 */
export function requireBodyType(types: readonly string[]): RouteMiddleware {
  return async function requireBodyTypeMiddleware(ctx: AppContext, next) {
    const hasBody = Number(ctx.get('content-length') || 0) > 0 || ctx.get('transfer-encoding') !== '';
    if (hasBody && !ctx.get('content-type'))
      throw new UnsupportedMediaTypeError(`The request body has no Content-Type header: send it as ${types[0]} (accepted: ${types.join(', ')})`);
    if (hasBody && !ctx.request.is([...types]))
      throw new UnsupportedMediaTypeError(`Content-Type ${ctx.request.type || ctx.get('content-type')} is not accepted here: send ${types.join(' or ')}`);
    await next();
  };
}

/**
 * The one way a route is put on the router: `route(router, declaration, ...guards, handler)`.
 * Its `input` schemas are compiled by the shared validator (src/validation) and run right before
 * the handler, which reads them with inputOf<I>(ctx) (src/platform/validation/validated.ts).
 */
export function route<I extends InputShape>(router: Router<AppState>, decl: RouteDeclaration<I>, ...middleware: RouteMiddleware[]): void {
  const checks: RouteMiddleware[] = [];
  if (decl.input) {
    if ((decl.input as InputShape).body !== undefined) checks.push(requireBodyType(VALIDATED_BODY_TYPES));
    checks.push(validate<I>(decl.input) as unknown as RouteMiddleware);
  }
  registerRoute(router, decl as unknown as RouteDeclaration<never>, checks, middleware);
}
