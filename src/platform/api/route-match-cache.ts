import type Router from '@koa/router';
import { LRUCache } from 'lru-cache';

type Match<S> = ReturnType<Router<S>['match']>;

/**
 * Keeps @koa/router's recent answers to "which layers match this method and path".
 *
 * Why: the router answers by testing every registered layer's regular expression in turn, with a
 * debug() call per layer, on every request (and again for the login counter, the anomaly scan's
 * route facts and the 405 label). With this service's ~30 routes that was 9.5 % of the CPU of a
 * request that does nothing else (bench/README.md, third round). @koa/router keeps no such cache,
 * and the answer depends only on the method, the path and the route table, so recent answers are
 * kept in a bounded LRU: a flood of distinct paths (a scanner) only cycles it, and paths longer than
 * MAX_CACHED_PATH are matched uncached, so the cache holds at most ~1 MB of keys. The table is
 * assumed fixed once requests flow; a route registered later clears the cache anyway.
 *
 * Cached results are frozen: the router and our telemetry only read them, and a mutation would
 * throw rather than leak one request's layers into another's.
 */
const MAX_CACHED_PATH = 512;

export function cacheRouteMatches<S>(router: Router<S>, max = 1024): void {
  const match = router.match.bind(router) as (path: string, method: string) => Match<S>;
  const cache = new LRUCache<string, Match<S>>({ max });
  let layers = router.stack.length;
  router.match = (path: string, method: string): Match<S> => {
    if (router.stack.length !== layers) {
      cache.clear();
      layers = router.stack.length;
    }
    if (path.length > MAX_CACHED_PATH) return match(path, method);
    const key = `${method} ${path}`;
    let found = cache.get(key);
    if (found === undefined) {
      found = match(path, method);
      Object.freeze(found.path);
      Object.freeze(found.pathAndMethod);
      cache.set(key, Object.freeze(found));
    }
    return found;
  };
}
