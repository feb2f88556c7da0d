import type Router from '@koa/router';
import type { AppState } from '../context/state';
import { routeOf } from '../context/state';
import type { Step } from '../pipeline';
import type { Instruments, LoginOutcome } from './instruments';

/** Routes whose requests are password attempts: what a brute-force attacker sends. */
export const LOGIN_ROUTES: ReadonlySet<string> = new Set(['/api/auth/login']);

function outcomeOf(status: number): LoginOutcome {
  if (status < 400) return 'success';
  if (status === 401) return 'failure';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'error';
  return 'invalid';
}

/**
 * Counts every login attempt by route and outcome, placed before every limiter. The generic API
 * limiter answers before the router (and before the login limiters), so once an attacker has spent
 * the API budget its attempts would otherwise carry no route and no login limiter: the brute-force
 * alert, the login panel and the runbook's log filter would stop seeing the attack.
 *
 * The route is the router's own answer for (method, path), asked only for POSTs; it is also put on
 * the request early, so that a request refused before routing still names the route it was for in
 * its span, metrics and access line (the router sets the same template again when it runs).
 */
export function countLoginAttempts(router: Router<AppState>, instruments: Instruments): Step {
  return {
    name: 'login attempts',
    before(ctx) {
      if (ctx.method !== 'POST') return;
      const route = matchedRoute(router, ctx.method, ctx.path);
      if (route !== undefined && LOGIN_ROUTES.has(route)) ctx._matchedRoute = route;
    },
    after(ctx) {
      if (ctx.method !== 'POST') return;
      const route = routeOf(ctx);
      if (route !== undefined && LOGIN_ROUTES.has(route)) instruments.loginAttempts.add(1, { 'http.route': route, outcome: outcomeOf(ctx.status) });
    },
  };
}

/** The template @koa/router will report: the last matched layer that is a route. */
function matchedRoute(router: Router<AppState>, method: string, path: string): string | undefined {
  const layers = router.match(path, method).pathAndMethod;
  for (let i = layers.length - 1; i >= 0; i--) {
    const l = layers[i]!;
    if (l.methods.length > 0) return typeof l.path === 'string' ? l.path : undefined;
  }
  return undefined;
}
