import type Koa from 'koa';

interface Req {
  app: Koa;
  req: { headers: Record<string, string | string[] | undefined> };
  socket: { encrypted?: boolean; remoteAddress?: string };
  [IP]?: string;
}
const IP = Symbol('caly.ip');

/** Koa's split of a forwarded list: every comma-separated entry, trimmed. */
const entries = (value: string): string[] => value.split(',').map((v) => v.trim());

let headerName = '';
let headerKey = '';
/** app.proxyIpHeader in lower case, recomputed only when the setting changes. */
function keyOf(name: string): string {
  if (name !== headerName) {
    headerName = name;
    headerKey = name.toLowerCase();
  }
  return headerKey;
}

/** The entry of X-Forwarded-For (or app.proxyIpHeader) Koa's `request.ip` takes, if any. */
function forwardedAddress(r: Req): string | undefined {
  const app = r.app;
  if (!app.proxy) return undefined;
  const value = r.req.headers[keyOf(app.proxyIpHeader)];
  if (typeof value !== 'string' || value === '') return undefined;
  const n = app.maxIpsCount;
  if (n === 1) return value.slice(value.lastIndexOf(',') + 1).trim(); // the last entry: the one our proxy appended
  if (n === 0) {
    const comma = value.indexOf(',');
    return (comma < 0 ? value : value.slice(0, comma)).trim(); // the first entry
  }
  const all = entries(value);
  return all.slice(-n)[0];
}

/**
 * Koa's `request.ip` and `request.protocol`, with the same answers (test/unit/forwarded.test.ts
 * compares them over a matrix of headers and settings), on this app's request only.
 *
 * Why: Koa splits the whole X-Forwarded-For list into trimmed entries (an array and a closure) and
 * X-Forwarded-Proto likewise, then keeps one entry, through `request.get`, which lower-cases the
 * header name on every call: ~6 k of the ~225 k instructions of a GET /api/ping (bench/README.md,
 * "Seventh round"), where the span, the access line and the limiter all read them. Here the one
 * entry Koa keeps is cut out of the header directly. `request.ip` is still remembered per request and
 * can still be set.
 */
export function directForwardedFacts(request: object): void {
  Object.defineProperty(request, 'ip', {
    configurable: true,
    enumerable: true,
    get(this: Req): string {
      let ip = this[IP];
      if (!ip) {
        ip = forwardedAddress(this) || this.socket.remoteAddress || '';
        this[IP] = ip;
      }
      return ip;
    },
    set(this: Req, ip: string) {
      this[IP] = ip;
    },
  });
  Object.defineProperty(request, 'protocol', {
    configurable: true,
    enumerable: true,
    get(this: Req): string {
      if (this.socket.encrypted) return 'https';
      if (!this.app.proxy) return 'http';
      const proto = this.req.headers['x-forwarded-proto'];
      if (typeof proto !== 'string' || proto === '') return 'http';
      const comma = proto.indexOf(',');
      return (comma < 0 ? proto : proto.slice(0, comma)).trim().toLowerCase();
    },
  });
}
