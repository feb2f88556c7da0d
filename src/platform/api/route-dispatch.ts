import type Router from '@koa/router';
import type { Layer } from '@koa/router';
import type { Middleware, Next } from 'koa';
import { composeSettling, type ChainMiddleware } from '../pipeline/compose';

/** What @koa/router leaves on the context as it dispatches (its RouterContext, loosely typed). */
interface Routed {
  path: string;
  method: string;
  request: { params?: Record<string, string> };
  matched?: unknown[];
  router?: unknown;
  routeMatched?: boolean;
  captures?: string[];
  params?: Record<string, string>;
  routerPath?: string | RegExp;
  routerName?: string;
  newRouterPath?: string;
  _matchedRoute?: string | RegExp;
  _matchedRouteName?: string;
  [REQUEST_PATH]?: string;
}
const REQUEST_PATH = Symbol('caly.routePath');

/** The route's middleware composed once, and the route the router names for it. */
interface Chain {
  run: (ctx: Routed, next: Next) => Promise<unknown>;
  route: Layer | undefined;
}

/** Whether `layer`'s pattern can capture anything (a parameter, or a group of a RegExp path). */
function captures(layer: Layer): boolean {
  return layer.paramNames.length > 0 || new RegExp(`${layer.regexp.source}|`).exec('')!.length > 1;
}

/** Per layer, what @koa/router's dispatch does before the layer's own middleware. */
function enterLayer(layer: Layer) {
  const capturing = captures(layer);
  return (ctx: Routed, next: Next): Promise<unknown> => {
    const path = ctx[REQUEST_PATH]!;
    const captured = capturing ? layer.captures(path) : [];
    ctx.captures = captured;
    ctx.request.params = layer.params(path, captured, ctx.params);
    ctx.params = ctx.request.params;
    ctx.routerPath = layer.path;
    ctx.routerName = layer.name || undefined;
    ctx._matchedRoute = layer.path;
    if (layer.name) ctx._matchedRouteName = layer.name;
    return next();
  };
}

function chainOf(layers: readonly Layer[]): Chain {
  const middleware = layers.flatMap((layer) => [enterLayer(layer), ...layer.stack]) as unknown as ChainMiddleware<Routed>[];
  const route = [...layers].reverse().find((layer) => layer.methods.length > 0);
  // A chain that finishes synchronously comes back as SETTLED: no promise of its own (compose.ts)
  return { run: composeSettling(middleware), route };
}

/**
 * The router's middleware, with the work it redoes per request done once per route.
 *
 * Why by hand: on every request @koa/router's dispatch reads `ctx.host` (for a host option this app
 * does not set), makes a closure per matched layer, composes them (koa-compose flattens the list
 * with `concat`), and reverses the matched layers to name the route: ~13 k of the ~243 k instructions
 * of a GET /api/ping (bench/README.md, "Seventh round"). The match itself is kept per method and
 * path by route-match-cache.ts, which freezes each answer; the composed chain is kept beside that
 * answer, and the request runs the same middleware with the same context fields as the router's
 * own dispatch (test/unit/route-dispatch.test.ts compares them field by field).
 *
 * Everything else goes through the router's own middleware: no route for the method and path (its
 * NotFound handlers, then `next`), an answer the cache did not keep (a very long path), and a router
 * built with options this app does not use (host, exclusive, routerPath).
 */
export function dispatchRoutes<S>(router: Router<S>): Middleware {
  const own = router.routes() as unknown as (ctx: Routed, next: Next) => Promise<unknown>;
  if (router.host !== undefined || router.exclusive || router.opts.routerPath) return own as unknown as Middleware;
  const chains = new WeakMap<readonly Layer[], Chain>();

  const routes = (ctx: Routed, next: Next): Promise<unknown> => {
    if (ctx.matched !== undefined) return own(ctx, next);
    const path = ctx.newRouterPath || ctx.path || (typeof ctx.routerPath === 'string' ? ctx.routerPath : '');
    const found = router.match(path, ctx.method);
    const layers = found.pathAndMethod as readonly Layer[];
    if (!found.route || !Object.isFrozen(layers)) return own(ctx, next);
    let chain = chains.get(layers);
    if (chain === undefined) {
      chain = chainOf(layers);
      chains.set(layers, chain);
    }
    ctx.matched = found.path;
    ctx.router = router;
    ctx.routeMatched = true;
    if (chain.route !== undefined) {
      ctx._matchedRoute = chain.route.path;
      if (chain.route.name) ctx._matchedRouteName = chain.route.name;
    }
    ctx[REQUEST_PATH] = path;
    return chain.run(ctx, next);
  };
  return routes as unknown as Middleware;
}
