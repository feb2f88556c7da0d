import type Router from '@koa/router';
import type { AppState } from '../context/state';
import type { Step } from '../pipeline';

/**
 * Names the route of a 405. The router matched the path but not the method, so it set no route,
 * and the span, duration histogram, error counter and access line all lost it, although the
 * template is known (`http.route` is the matched template whatever the method). Listed right after
 * the error envelope, so that on the way out it runs before the envelope renders the 405 and
 * everything outside sees the route.
 */
export function routeOnMethodNotAllowed(router: Router<AppState>): Step {
  return {
    name: 'route of a 405',
    after(ctx) {
      if (ctx.status !== 405 || ctx._matchedRoute !== undefined) return;
      const layers = router.match(ctx.path, ctx.method).path;
      for (let i = layers.length - 1; i >= 0; i--) {
        const l = layers[i]!;
        if (l.methods.length > 0 && typeof l.path === 'string') {
          ctx._matchedRoute = l.path;
          return;
        }
      }
    },
  };
}
