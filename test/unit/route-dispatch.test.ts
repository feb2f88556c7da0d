import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import Router from '@koa/router';
import { expect } from 'chai';
import Koa from 'koa';
import { dispatchRoutes } from '../../src/platform/api/route-dispatch';
import { cacheRouteMatches } from '../../src/platform/api/route-match-cache';
import { SETTLED } from '../../src/platform/pipeline';

type Ctx = Koa.ParameterizedContext & Record<string, unknown>;

/** A router with the shapes routes take: static, parameters, names, router.param, use(), RegExp paths. */
function buildRouter(log: string[]): Router {
  const router = new Router();
  cacheRouteMatches(router);
  const step = (name: string) => async (ctx: Koa.Context, next: Koa.Next) => {
    log.push(`${name} ${JSON.stringify(ctx.params)} ${String((ctx as Ctx)._matchedRoute)}`);
    await next();
  };
  router.param('id', async (id, ctx, next) => {
    log.push(`param id=${id}`);
    await next();
  });
  router.use('/items', step('use /items'));
  router.get('/items', step('list'), (ctx) => void (ctx.body = 'list'));
  router.get('item', '/items/:id', step('item'), (ctx) => void (ctx.body = `item ${ctx.params.id}`));
  router.get('/items/:id/notes/:note', (ctx) => void (ctx.body = `${ctx.params.id}/${ctx.params.note}`));
  router.post('/items', (ctx) => void (ctx.status = 201));
  router.get(/^\/files\/(.*)$/, (ctx) => void (ctx.body = `file ${String((ctx as Ctx).captures)}`));
  return router;
}

/** What @koa/router leaves on the context, and what the response and the route's steps saw. */
function observed(ctx: Ctx, log: string[], nextCalled: boolean) {
  const matched = ctx.matched as Array<{ path: unknown }> | undefined;
  return {
    log,
    nextCalled,
    status: ctx.status,
    body: ctx.body,
    matched: matched?.map((l) => String(l.path)),
    routeMatched: ctx.routeMatched,
    params: ctx.params,
    requestParams: (ctx.request as unknown as Ctx).params,
    captures: ctx.captures,
    routerPath: String(ctx.routerPath),
    routerName: ctx.routerName,
    matchedRoute: String(ctx._matchedRoute),
    matchedRouteName: ctx._matchedRouteName,
    routerSet: ctx.router !== undefined,
  };
}

async function run(kind: 'router' | 'ours', method: string, url: string) {
  const log: string[] = [];
  const router = buildRouter(log);
  const middleware = (kind === 'router' ? router.routes() : dispatchRoutes(router)) as unknown as Koa.Middleware;
  const koa = new Koa();
  const results = [];
  let hostReads = 0;
  // twice: the first request composes the route's chain, the second reuses it
  for (let i = 0; i < 2; i++) {
    log.length = 0;
    const req = new IncomingMessage(new Socket());
    req.method = method;
    req.url = url;
    const ctx = koa.createContext(req, new ServerResponse(req)) as unknown as Ctx;
    Object.defineProperty(ctx, 'host', { get: () => (hostReads++, 'api.test') });
    let nextCalled = false;
    await middleware(ctx as unknown as Koa.Context, async () => {
      nextCalled = true;
    });
    results.push(observed(ctx, [...log], nextCalled));
  }
  return { results, hostReads };
}

const REQUESTS: Array<[string, string]> = [
  ['GET', '/items'],
  ['GET', '/items/42'],
  ['HEAD', '/items/42'],
  ['GET', '/items/a%20b/notes/7'],
  ['GET', '/items/%E0%A4%A/notes/x'], // a malformed escape: the router keeps it as sent
  ['POST', '/items'],
  ['POST', '/items/42'], // path known, method not: no route, next()
  ['GET', '/nope'],
  ['GET', '/files/a/b.txt'],
];

describe('route dispatch (the router’s per-request work done once per route)', () => {
  for (const [method, url] of REQUESTS) {
    it(`${method} ${url}: the same context fields, steps, answer and next() as @koa/router’s own dispatch`, async () => {
      const theirs = await run('router', method, url);
      const ours = await run('ours', method, url);
      expect(ours.results).to.deep.equal(theirs.results);
      expect(ours.results[1]).to.deep.equal(ours.results[0]);
    });
  }

  it('runs matched routes without the router’s own dispatch (which reads ctx.host on every request)', async () => {
    expect((await run('router', 'GET', '/items/42')).hostReads).to.equal(2);
    expect((await run('ours', 'GET', '/items/42')).hostReads).to.equal(0);
    // no route: the router's own middleware answers, NotFound handlers and all
    expect((await run('ours', 'GET', '/nope')).hostReads).to.equal(2);
  });

  it('answers a route that finished synchronously with SETTLED (no promise), and hands back the wait of one that did not', async () => {
    const router = new Router();
    cacheRouteMatches(router);
    router.get('/sync', (ctx) => void (ctx.body = 'sync'));
    router.get('/async', async (ctx) => void (ctx.body = 'async'));
    const middleware = dispatchRoutes(router) as unknown as Koa.Middleware;
    const koa = new Koa();
    const context = (url: string) => {
      const req = new IncomingMessage(new Socket());
      req.method = 'GET';
      req.url = url;
      return koa.createContext(req, new ServerResponse(req));
    };
    for (let i = 0; i < 2; i++) {
      const ctx = context('/sync');
      expect(middleware(ctx, async () => undefined)).to.equal(SETTLED);
      expect(ctx.body).to.equal('sync');
    }
    const ctx = context('/async');
    const waited = middleware(ctx, async () => undefined);
    expect(waited).to.not.equal(SETTLED);
    await waited;
    expect(ctx.body).to.equal('async');
  });

  it('leaves a router with a host option to the router itself', async () => {
    const router = new Router({ host: 'api.test' });
    router.get('/x', (ctx) => void (ctx.body = 'x'));
    const middleware = dispatchRoutes(router) as unknown as Koa.Middleware;
    const koa = new Koa();
    for (const [host, body] of [
      ['api.test', 'x'],
      ['other.test', undefined],
    ] as const) {
      const req = new IncomingMessage(new Socket());
      req.method = 'GET';
      req.url = '/x';
      req.headers.host = host;
      const ctx = koa.createContext(req, new ServerResponse(req));
      await middleware(ctx, async () => undefined);
      expect(ctx.body).to.equal(body);
    }
  });
});
