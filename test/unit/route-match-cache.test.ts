import Router from '@koa/router';
import { expect } from 'chai';
import { cacheRouteMatches } from '../../src/platform/api/route-match-cache';

const noop = async () => undefined;

/** A route table of the service's shapes: static paths, params, a prefix middleware, one path with two methods. */
function table(): Router {
  const r = new Router();
  r.use('/api', noop);
  r.get('/api/ping', noop);
  r.get('/api/info', noop);
  r.get('/api/calls', noop);
  r.post('/api/calls', noop);
  r.get('/api/calls/:id', noop);
  r.patch('/api/calls/:id', noop);
  r.get('/api/tenants/:tenantId/users/:userId', noop);
  r.post('/webhooks/exotel/status', noop);
  r.get('/health/live', noop);
  return r;
}

const PATHS = [
  '/api/ping',
  '/api/info',
  '/api/calls',
  '/api/calls/42',
  '/api/calls/42/',
  '/api/tenants/t1/users/u9',
  '/webhooks/exotel/status',
  '/health/live',
  '/nope',
  '/api',
  '/API/PING',
  '/api/calls/%2e%2e',
];
const METHODS = ['GET', 'POST', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'get'];

/** What a match says, by layer identity (the cache must return the router's own layers, not copies). */
const shape = (router: Router, m: ReturnType<Router['match']>) => ({
  path: m.path.map((l) => router.stack.indexOf(l)),
  pathAndMethod: m.pathAndMethod.map((l) => router.stack.indexOf(l)),
  route: m.route,
});

describe('route match cache (api/route-match-cache.ts)', () => {
  it('answers exactly as @koa/router does, the first time and from the cache, for every method and path', () => {
    const plain = table();
    const cached = table();
    cacheRouteMatches(cached);
    for (let round = 0; round < 2; round++) {
      for (const method of METHODS) {
        for (const path of PATHS) {
          expect(shape(cached, cached.match(path, method)), `${method} ${path}`).to.deep.equal(shape(plain, plain.match(path, method)));
        }
      }
    }
  });

  it('stays right when the cache is smaller than the paths asked (eviction)', () => {
    const plain = table();
    const cached = table();
    cacheRouteMatches(cached, 2);
    for (let i = 0; i < 3; i++) {
      for (const path of PATHS) expect(shape(cached, cached.match(path, 'GET'))).to.deep.equal(shape(plain, plain.match(path, 'GET')));
    }
  });

  it('long paths are matched without being kept (the cache holds short keys only)', () => {
    const plain = table();
    const cached = table();
    cacheRouteMatches(cached);
    const long = `/api/calls/${'x'.repeat(600)}`;
    const first = cached.match(long, 'GET');
    expect(shape(cached, first)).to.deep.equal(shape(plain, plain.match(long, 'GET')));
    expect(shape(cached, first).route).to.equal(true);
    expect(cached.match(long, 'GET')).to.not.equal(first);
    expect(Object.isFrozen(first)).to.equal(false);
  });

  it('a route registered after a match is found (the cache is cleared when the table changes)', () => {
    const r = table();
    cacheRouteMatches(r);
    expect(r.match('/api/late', 'GET').route).to.equal(false);
    r.get('/api/late', noop);
    expect(r.match('/api/late', 'GET').route).to.equal(true);
  });

  it('hands out frozen results, so no request can change what the next one is told', () => {
    const r = table();
    cacheRouteMatches(r);
    const m = r.match('/api/ping', 'GET');
    expect(r.match('/api/ping', 'GET')).to.equal(m);
    expect(() => m.path.push(r.stack[0]!)).to.throw(TypeError);
    expect(() => m.pathAndMethod.pop()).to.throw(TypeError);
    expect(Object.isFrozen(m)).to.equal(true);
  });
});
