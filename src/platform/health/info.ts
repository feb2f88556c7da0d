import type Router from '@koa/router';
import { route } from '../api/route';
import type { Database } from '../db/pool';
import type { AppState } from '../context/state';
import { infoRoute, pingRoute } from './info-contract';

/**
 * GET /api/ping: the cheapest useful answer (clients check reachability with it).
 * GET /api/info: version and installation id, read by primary key on every call, uncached on
 * purpose: it doubles as a database round trip probe and is the benchmark's database route.
 */
export function registerInfoRoutes(router: Router<AppState>, deps: { db: Database; version: string }): void {
  route(router, pingRoute, (ctx) => {
    ctx.body = { ok: true, ts: Date.now() };
  });

  route(router, infoRoute, async (ctx) => {
    const { rows } = await deps.db.query<{ value: string }>('SELECT value FROM app_meta WHERE key = $1', ['installation_id']);
    ctx.body = { version: deps.version, installationId: rows[0]?.value ?? null };
  });
}
