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
  /** `ctx.protocol`, read once by the request span (with TRUST_PROXY it parses X-Forwarded-Proto each time). */
  scheme?: string;
  /** Set by the error envelope when the response is an error. */
  error?: { appError: AppError; original: unknown };
  /** Who is calling, once verified: set once, by authentication or the webhook guard. */
  caller?: Caller;
  /**
   * Tenant and user a correctly signed access token names, before its session is checked. For the
   * audit trail only (so a tenant's admins see attacks on their tenant): never for budgets or access.
   */
  claimedTenantId?: string;
  claimedUserId?: string;
  /** A guard already audited its refusal of this request (audit/refusals.ts does not repeat it). */
  refusalAudited?: boolean;
  /** The audit trail's emitted-event count when the request came in (audit/context.ts). */
  auditEmittedBefore?: number;
}

/** A user's role in their tenant, most to least privileged. */
export type TenantRole = 'owner' | 'admin' | 'agent' | 'viewer';

/**
 * A verified caller. A user comes from an access token of a live session; the platform operator
 * from ADMIN_TOKEN (above every tenant, no user id); a webhook sender from its tenant's credential.
 */
export type Caller =
  | { readonly kind: 'user'; readonly tenantId: string; readonly userId: string; readonly role: TenantRole; readonly sessionId: string }
  | { readonly kind: 'platform' }
  | { readonly kind: 'webhook'; readonly tenantId: string };

/** The tenant a verified caller acts for, if any. */
export function callerTenant(state: Pick<AppState, 'caller'>): string | undefined {
  const c = state.caller;
  return c && c.kind !== 'platform' ? c.tenantId : undefined;
}

/** The user behind this request; for routes behind `authenticate`, which guarantees one. */
export function requireUser(ctx: { state: AppState }): Extract<Caller, { kind: 'user' }> {
  const c = ctx.state.caller;
  if (c?.kind !== 'user') throw new Error('route reached without an authenticated user: its guard is missing');
  return c;
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
