import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Middleware, Next } from 'koa';
import koaHelmet from 'koa-helmet';
import type { AppContext } from '../context/state';
import type { Step } from '../pipeline';
import { headerBlock, type HeaderOp } from './header-block';

/**
 * Runs a koa-helmet middleware once against a recording response and returns what it would do to
 * every response. Helmet's header values are fixed once its options are (our CSP has no per-request
 * nonce), so doing this per request only re-runs ~13 promisified functions for the same result:
 * koa-helmet stays the source of the values, we just apply them with a plain loop.
 */
function recordHelmet(mw: Middleware): HeaderOp[] {
  const ops: HeaderOp[] = [];
  const res = {
    setHeader: (name: string, value: string) => ops.push([name, String(value)]),
    removeHeader: (name: string) => ops.push([name, undefined]),
    getHeader: () => undefined,
  };
  const fakeCtx = { req: {} as IncomingMessage, res: res as unknown as ServerResponse };
  // helmet calls its sub-middlewares synchronously, so `ops` is complete when this returns; the
  // promise only resolves into next(), which does nothing here.
  void (mw as unknown as (ctx: typeof fakeCtx, next: () => Promise<void>) => Promise<void>)(fakeCtx, async () => undefined);
  if (ops.length === 0) throw new Error('koa-helmet set no headers synchronously: cannot precompute them');
  return ops;
}

/**
 * Browser features an API never needs. Helmet 8 dropped Permissions-Policy (the spec is still in
 * flux), so this one header is written here; the syntax is the structured-field `feature=()`.
 */
export const PERMISSIONS_POLICY = ['camera', 'microphone', 'geolocation', 'payment', 'usb', 'accelerometer', 'gyroscope', 'magnetometer']
  .map((f) => `${f}=()`)
  .join(', ');

/** Directive map in helmet's form, e.g. `{ defaultSrc: ["'self'"], imgSrc: ["'self'", 'data:'] }`. */
export type CspDirectives = Record<string, readonly string[]>;

const API_CSP: CspDirectives = { defaultSrc: ["'none'"], frameAncestors: ["'none'"] };

export interface SecurityHeaderOptions {
  /** Adds `preload` to HSTS: only for a registrable domain submitted to the preload list. */
  hstsPreload: boolean;
}

/** The helmet options this API runs with; exported so tests and docs read the same source. */
export function helmetOptions({ hstsPreload }: SecurityHeaderOptions): Parameters<typeof koaHelmet>[0] {
  return {
    contentSecurityPolicy: { useDefaults: false, directives: API_CSP as Record<string, string[]> },
    strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true, preload: hstsPreload },
    xFrameOptions: { action: 'deny' },
    // An API response is never a page a user navigates from: send no referrer at all.
    referrerPolicy: { policy: 'no-referrer' },
    // helmet defaults kept: nosniff, X-XSS-Protection 0, CORP/COOP same-origin, no X-Powered-By.
  };
}

/**
 * The precomputed header list: helmet's, plus Permissions-Policy, with names in lower case. Field
 * names are case-insensitive (RFC 9110 §5.1; HTTP/2 and 3 send only lower case), and Node lowers
 * every name it is given twice per response (to key its header map, then to spot the headers it
 * treats specially): a name already in lower case comes back as the same string, so 13 headers no
 * longer make 13–26 new strings per response (bench/README.md, "Fourth round").
 */
export function securityHeaderList(opts: SecurityHeaderOptions): HeaderOp[] {
  const ops: HeaderOp[] = [...recordHelmet(koaHelmet(helmetOptions(opts))), ['Permissions-Policy', PERMISSIONS_POLICY]];
  return ops.map(([name, value]) => [name.toLowerCase(), value]);
}

/**
 * Puts the security headers on every response, before anything else can answer or throw: 404s,
 * 405s, 429s and 5xx carry them too. They go out as one pre-validated block in the response head
 * (header-block.ts says why); a header a route sets itself, such as routeCsp's, replaces its entry.
 */
export function securityHeaders(opts: SecurityHeaderOptions): Step {
  const block = headerBlock(securityHeaderList(opts));
  return {
    name: 'security headers',
    before(ctx) {
      block.apply(ctx.res);
    },
  };
}

/**
 * Route-level CSP for the few routes that serve a page (a future docs page): replaces the strict
 * API policy on that route only. The value is built by helmet once, at route definition.
 *
 *   router.get('/docs', routeCsp({ defaultSrc: ["'self'"], styleSrc: ["'self'", "'unsafe-inline'"] }), handler)
 */
export function routeCsp(directives: CspDirectives) {
  const ops = recordHelmet(koaHelmet.contentSecurityPolicy({ useDefaults: false, directives: directives as Record<string, string[]> }));
  const value = ops.find(([name]) => name === 'Content-Security-Policy')?.[1];
  if (value === undefined) throw new Error('helmet produced no Content-Security-Policy for these directives');
  return function routeCspMiddleware(ctx: AppContext, next: Next): Promise<void> {
    ctx.res.setHeader('content-security-policy', value);
    return next();
  };
}
