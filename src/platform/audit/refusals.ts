import type { Next } from 'koa';
import { AppError } from '../errors/app-error';
import { routeOf, type AppContext } from '../context/state';
import type { AuditSink } from './catalogue';
import { auditFromCtx } from './context';

type Guard<C extends AppContext> = (ctx: C, next: Next) => Promise<void>;

/**
 * Wraps a guard so that a caller it refuses (401 or 403) leaves an ACCESS_DENIED event. Errors
 * thrown after the guard admitted the request (validation, a handler's 404 …) are not access
 * decisions and are not audited here. ACCESS_DENIED is bounded per source by the audit throttle,
 * so a flood of bad credentials cannot flood the table.
 */
export function auditRefusals<C extends AppContext>(audit: AuditSink, guard: Guard<C>, resourceType: string): Guard<C> {
  return async function auditedGuard(ctx, next) {
    let admitted = false;
    try {
      await guard(ctx, () => {
        admitted = true;
        return next();
      });
    } catch (err) {
      if (!admitted && !ctx.state.refusalAudited && err instanceof AppError && (err.status === 401 || err.status === 403)) {
        audit.emit(
          {
            type: 'ACCESS_DENIED',
            outcome: 'FAILURE',
            description: `Refused: ${err.message}`,
            resourceType,
            metadata: { route: routeOf(ctx) ?? null, code: err.code },
          },
          auditFromCtx(ctx),
        );
      }
      throw err;
    }
  };
}
