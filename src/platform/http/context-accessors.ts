import type Koa from 'koa';

type Ctx = Pick<Koa.Context, 'request' | 'response'>;
type Descriptors = Record<string, PropertyDescriptor & ThisType<Ctx>>;

/**
 * Koa's `ctx.method`, `ctx.status`, `ctx.set()` … forward to ctx.request and ctx.response through
 * the `delegates` package, whose getters read `this[target][name]` with both names held in a
 * closure. V8 can run that only as two megamorphic keyed loads with a string-table lookup each, on
 * every access, and a request makes dozens of them. The same accessors written with literal names
 * are ordinary property loads that inline: 7 k fewer instructions per GET /api/ping (2 %,
 * bench/instructions.js; bench/README.md, "Fifth round").
 *
 * Only the accessors the request path uses are redefined, each exactly as Koa delegates it (getter
 * and setter, or method), on this app's context only; every other ctx property stays Koa's. They
 * are written out one by one on purpose: a helper taking the name would read `this.request[name]`
 * again, which is the keyed load this file exists to remove.
 */
const REQUEST: Descriptors = {
  method: {
    get() {
      return this.request.method;
    },
    set(v: string) {
      this.request.method = v;
    },
  },
  path: {
    get() {
      return this.request.path;
    },
    set(v: string) {
      this.request.path = v;
    },
  },
  url: {
    get() {
      return this.request.url;
    },
    set(v: string) {
      this.request.url = v;
    },
  },
  query: {
    get() {
      return this.request.query;
    },
    set(v: Koa.Request['query']) {
      this.request.query = v;
    },
  },
  querystring: {
    get() {
      return this.request.querystring;
    },
    set(v: string) {
      this.request.querystring = v;
    },
  },
  headers: {
    get() {
      return this.request.headers;
    },
  },
  ip: {
    get() {
      return this.request.ip;
    },
  },
  protocol: {
    get() {
      return this.request.protocol;
    },
  },
  host: {
    get() {
      return this.request.host;
    },
  },
  get: {
    value(this: Ctx, field: string) {
      return this.request.get(field);
    },
  },
};

const RESPONSE: Descriptors = {
  status: {
    get() {
      return this.response.status;
    },
    set(v: number) {
      this.response.status = v;
    },
  },
  body: {
    get() {
      return this.response.body;
    },
    set(v: unknown) {
      this.response.body = v;
    },
  },
  type: {
    get() {
      return this.response.type;
    },
    set(v: string) {
      this.response.type = v;
    },
  },
  length: {
    get() {
      return this.response.length;
    },
    set(v: number) {
      this.response.length = v;
    },
  },
  set: {
    // response.set tells set(field, value) from set({ field: value }) by its argument count
    value(this: Ctx, ...args: Parameters<Koa.Response['set']>) {
      return Reflect.apply(this.response.set, this.response, args) as void;
    },
  },
  vary: {
    value(this: Ctx, field: string) {
      return this.response.vary(field);
    },
  },
  remove: {
    value(this: Ctx, field: string) {
      return this.response.remove(field);
    },
  },
};

/** The redefined names: the test checks each against Koa's own delegate. */
export const DIRECT_ACCESSORS = { request: Object.keys(REQUEST), response: Object.keys(RESPONSE) } as const;

export function directContextAccessors(context: object): void {
  for (const descriptors of [REQUEST, RESPONSE]) {
    for (const [name, d] of Object.entries(descriptors)) {
      // as `delegates` defines them: enumerable and configurable, methods writable
      Object.defineProperty(
        context,
        name,
        'value' in d ? { ...d, writable: true, configurable: true, enumerable: true } : { ...d, configurable: true, enumerable: true },
      );
    }
  }
}
