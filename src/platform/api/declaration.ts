import type Router from '@koa/router';
import type { RouterMiddleware } from '@koa/router';
import type { SchemaObject } from 'ajv';
import type { ErrorCode } from '../errors/app-error';
import type { AppState } from '../context/state';
import type { InputShape, SchemasFor } from '../validation';

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
/** How a caller proves who they are. A route lists the ones it accepts (any one suffices); none: public. */
export type Security = 'bearer' | 'adminToken' | 'healthToken' | 'webhookCredential';
/** The rate limiters a request to the route spends from (names as in src/platform/security/rate-limit). */
export type Limiter = 'api' | 'login' | 'upload' | 'webhook';

export interface MediaDoc {
  schema: SchemaObject;
  examples?: Record<string, { summary: string; value: unknown }>;
}

export interface ResponseDoc {
  description: string;
  /** Absent: no body (204, 302 …). */
  content?: Record<string, MediaDoc>;
  headers?: Record<string, { description: string; schema: SchemaObject }>;
}

/**
 * Everything a client needs to know about one route, beside its handler. `input` is checked by the
 * shared validator before the handler runs; `params`, `query` and `body` document what a handler parses
 * itself (the audit list's own checker, Exotel's lenient payloads).
 */
export interface RouteDeclaration<I extends InputShape = InputShape> {
  method: Method;
  /** Koa template: `/api/calls/:id`. */
  path: string;
  /** The route group in the reference. */
  tag: string;
  summary: string;
  description?: string;
  security: readonly Security[];
  limiters: readonly Limiter[];
  input?: SchemasFor<I>;
  params?: SchemaObject;
  query?: SchemaObject;
  body?: { required: boolean; description?: string; content: Record<string, MediaDoc> };
  /** Success (and non-error redirect) answers, by status. */
  responses: Readonly<Record<number, ResponseDoc>>;
  /** The errors this route itself can answer with; those every request can meet are added (openapi.ts). */
  errors: readonly ErrorCode[];
}

/** Identity function that fixes I for a declaration, so `input` is checked against the handler's type. */
export function declare<I extends InputShape = Record<never, never>>(d: RouteDeclaration<I>): RouteDeclaration<I> {
  return d;
}

export const routeKey = (method: string, path: string) => `${method.toUpperCase()} ${path}`;

const declared = new WeakMap<object, Map<string, RouteDeclaration>>();

/** Declarations registered on this router through route(), in registration order. */
export function declarationsOf(router: object): RouteDeclaration[] {
  return [...(declared.get(router)?.values() ?? [])];
}

/** `METHOD path` of every route on the router that was not registered through route(). */
export function undeclaredRoutes(router: Router<AppState>): string[] {
  const known = declared.get(router) ?? new Map<string, RouteDeclaration>();
  const out: string[] = [];
  for (const layer of router.stack) {
    if (typeof layer.path !== 'string') continue;
    // HEAD is added by the router for every GET: it is the GET's, not a route of its own.
    for (const m of layer.methods.filter((x) => x !== 'HEAD')) if (!known.has(routeKey(m, layer.path))) out.push(routeKey(m, layer.path));
    if (layer.methods.length === 0) out.push(`(middleware) ${layer.path}`);
  }
  return out;
}

export type RouteMiddleware = RouterMiddleware<AppState>;

/**
 * Registers a route from its declaration: the given middleware (guards, limiters) in order, then
 * the declaration's own checks (body content type, input schemas), then the handler (the last
 * argument). Checks are compiled here, once, at startup.
 */
export function registerRoute(
  router: Router<AppState>,
  decl: RouteDeclaration<never>,
  checks: readonly RouteMiddleware[],
  middleware: readonly RouteMiddleware[],
): void {
  if (middleware.length === 0) throw new Error(`${routeKey(decl.method, decl.path)}: no handler`);
  const map = declared.get(router) ?? new Map<string, RouteDeclaration>();
  declared.set(router, map);
  const key = routeKey(decl.method, decl.path);
  if (map.has(key)) throw new Error(`${key} is registered twice`);
  map.set(key, decl as RouteDeclaration);
  const handler = middleware[middleware.length - 1]!;
  const chain = [...middleware.slice(0, -1), ...checks, handler];
  const verb = decl.method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete';
  (router[verb] as (path: string, ...mw: RouteMiddleware[]) => unknown).call(router, decl.path, ...chain);
}
