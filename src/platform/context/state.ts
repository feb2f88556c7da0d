import type { Span } from '@opentelemetry/api';
import type { ParameterizedContext } from 'koa';
import type { AppError } from '../errors/app-error';

/** What earlier middleware leaves on `ctx.state` for later middleware and handlers. */
export interface AppState {
  /** The trace id of this request's server span; also sent back as `x-request-id`. */
  requestId: string;
  span: Span;
  /** Monotonic start, from performance.now(). */
  startedAt: number;
  /** Set by the error envelope when the response is an error. */
  error?: { appError: AppError; original: unknown };
  /** Filled in by authentication once it exists; logged when present. */
  tenantId?: string;
  userId?: string;
  /** Set by authentication (src/auth): the caller's role; `platform` is the ADMIN_TOKEN operator. */
  role?: 'owner' | 'admin' | 'agent' | 'viewer' | 'platform';
  /** Set by authentication: the login session (refresh-token family) an access token belongs to. */
  sessionId?: string;
  /**
   * Tenant and user a correctly signed access token names, before its session is checked. For the
   * audit trail only (so a tenant's admins see attacks on their tenant): never for budgets or access.
   */
  claimedTenantId?: string;
  claimedUserId?: string;
  /** A guard already audited its refusal of this request (audit/refusals.ts does not repeat it). */
  refusalAudited?: boolean;
}

export type AppContext = ParameterizedContext<AppState> & {
  /** Set by @koa/router on match: the route template, never the raw path. */
  _matchedRoute?: string | RegExp;
};

/** The matched route template, or undefined for unmatched requests (which must carry no route). */
export function routeOf(ctx: AppContext): string | undefined {
  const r = ctx._matchedRoute;
  return typeof r === 'string' ? r : undefined;
}
