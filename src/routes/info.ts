import type Router from '@koa/router';
import type { Database } from '../db/pool';
import type { AppState } from '../http/state';

/**
 * GET /api/ping: the cheapest useful answer (clients check reachability with it).
 * GET /api/info: version and installation id, read by primary key on every call, uncached on
 * purpose: it doubles as a database round trip probe and is the benchmark's database route.
 */
export function registerInfoRoutes(router: Router<AppState>, deps: { db: Database; version: string }): void {
  router.get('/api/ping', (ctx) => {
    ctx.body = { ok: true, ts: Date.now() };
  });

  router.get('/api/info', async (ctx) => {
    const { rows } = await deps.db.query<{ value: string }>('SELECT value FROM app_meta WHERE key = $1', ['installation_id']);
    ctx.body = { version: deps.version, installationId: rows[0]?.value ?? null };
  });
}
