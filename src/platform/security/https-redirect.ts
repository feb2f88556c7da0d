import type { BeforeOutcome, Step } from '../pipeline';
import type { AppContext } from '../context/state';

/** Load balancers and orchestrators probe over plain HTTP inside the network: never redirect them. */
const isHealthPath = (path: string) => path === '/health' || path.startsWith('/health/');

/** The HTTPS origin of PUBLIC_BASE_URL (an http:// base is upgraded, or we would redirect in a loop). */
export function httpsOrigin(publicBaseUrl: string): string {
  const u = new URL(publicBaseUrl);
  u.protocol = 'https:';
  return u.origin;
}

/**
 * Production only. A plain-HTTP request gets 308 (method and body kept) to the same path and
 * query on PUBLIC_BASE_URL's origin, never on the Host header, which the client controls.
 * `ctx.protocol` reads X-Forwarded-Proto only when `app.proxy` (TRUST_PROXY) is on; without it a
 * request is HTTPS only if TLS ends in this process.
 */
export function httpsRedirect(publicBaseUrl: string): Step {
  const origin = httpsOrigin(publicBaseUrl);
  return {
    name: 'https redirect',
    before(ctx: AppContext): BeforeOutcome {
      if ((ctx.state.scheme ?? ctx.protocol) === 'https' || isHealthPath(ctx.path)) return;
      // ctx.path, not ctx.url: an absolute-form request target (`GET http://evil/ HTTP/1.1`) must
      // not leak its host in. A path like `//evil` stays a path after our origin.
      const path = ctx.path.startsWith('/') ? ctx.path : '/';
      const query = ctx.querystring;
      ctx.status = 308;
      ctx.redirect(`${origin}${path}${query ? `?${query}` : ''}`);
      return 'answered';
    },
  };
}
