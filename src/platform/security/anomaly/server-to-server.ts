import type Router from '@koa/router';
import type { Next } from 'koa';
import type { AppState } from '../../context/state';

/**
 * Route marker for callers that are servers, not browsers or SDKs (Exotel webhooks, internal
 * callbacks): they often send no User-Agent, so its absence is not an anomaly there.
 *
 *   router.post('/webhooks/exotel/status', serverToServer, handler)
 *
 * The marker does nothing when the request runs; the anomaly scan finds it in the matched route's
 * middleware stack (see routeFacts), which keeps the declaration next to the route it describes.
 */
export async function serverToServer(_ctx: unknown, next: Next): Promise<void> {
  await next();
}

export interface RouteFacts {
  /** The route template that will serve this request, or undefined (404 / 405). */
  route: string | undefined;
  serverToServer: boolean;
}

const UNMATCHED: RouteFacts = Object.freeze({ route: undefined, serverToServer: false });

/**
 * What the router will decide, asked before it runs: the anomaly scan sits in front of routing
 * (so unknown routes are scanned too) but labels findings by route template. Only called when
 * there is something to report, so the cost of matching stays off the clean path.
 */
export function routeFacts(router: Router<AppState>, method: string, path: string): RouteFacts {
  const matched = router.match(path, method).pathAndMethod;
  // Same choice as @koa/router: the last matched layer that is a route (has methods).
  let routeLayer: (typeof matched)[number] | undefined;
  for (let i = matched.length - 1; i >= 0; i--) {
    if (matched[i]!.methods.length > 0) {
      routeLayer = matched[i];
      break;
    }
  }
  if (!routeLayer) return UNMATCHED;
  return {
    route: typeof routeLayer.path === 'string' ? routeLayer.path : undefined,
    serverToServer: matched.some((layer) => layer.stack.includes(serverToServer as never)),
  };
}
