import cors from '@koa/cors';
import type { Context } from 'koa';
import { guardStep, type Step } from '../pipeline';

/** Parses CORS_ORIGINS (comma-separated origins) into exact origin strings. */
export function parseOrigins(list: string): ReadonlySet<string> {
  const out = new Set<string>();
  for (const raw of list.split(',')) {
    const s = raw.trim();
    if (!s) continue;
    // Normalise through URL so `https://App.Example.com/` matches the browser's `https://app.example.com`.
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      throw new Error(`CORS_ORIGINS: ${s} is not a valid origin (expected e.g. https://app.example.com)`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`CORS_ORIGINS: ${s} is not an http(s) origin`);
    out.add(u.origin);
  }
  return out;
}

/** Headers a browser script may read: the request id for support tickets, the limit state for back-off. */
export const EXPOSED_HEADERS = ['X-Request-Id', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'Retry-After'];
export const ALLOWED_HEADERS = ['Content-Type', 'Authorization', 'X-Request-Id', 'traceparent', 'tracestate'];

/**
 * CORS from an allowlist. An Origin not on it gets no CORS headers at all (the browser then
 * refuses to hand the response to the script): returning '' from `origin` makes @koa/cors skip,
 * rather than throwing (which would answer 500). Credentials are allowed because the origin
 * is always echoed exactly, never `*`.
 */
export function corsPolicy(allowedOrigins: string): Step {
  const allowed = parseOrigins(allowedOrigins);
  const policy = cors({
    origin: (ctx: Context) => {
      const origin = ctx.get('Origin');
      return allowed.has(origin) ? origin : '';
    },
    allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowHeaders: ALLOWED_HEADERS,
    exposeHeaders: EXPOSED_HEADERS,
    credentials: true,
    maxAge: 600,
    // The error envelope keeps headers already set on ctx; no need to copy them onto the error.
    keepHeadersOnError: false,
  });
  // Without an Origin header a request is outside CORS (the Fetch standard; @koa/cors then only
  // adds Vary and goes on): answered here without entering @koa/cors' async function, which costs
  // four promises on every server-to-server request (webhooks, probes, other services).
  const viaLibrary = guardStep('cors', policy);
  return {
    name: 'cors',
    before(ctx) {
      if (ctx.get('Origin') !== '') return viaLibrary.before!(ctx);
      // What ctx.vary('Origin') does when no Vary is set yet (always, this early), without the vary
      // package's parse of the existing value on every request. The name in lower case: headers.ts.
      if (ctx.res.getHeader('vary') === undefined) ctx.res.setHeader('vary', 'Origin');
      else ctx.vary('Origin');
    },
  };
}
