import type pg from 'pg';
import type { Instruments } from './instruments';

/**
 * The pool's connection gauges (db.client.connection.count, .pending_requests, .max), read from the
 * pool when /metrics is scraped. Counting them on every acquire and release, as up-down counters
 * (what instrumentation-pg did), cost six metric-SDK records per query (~4 % of the busy time of
 * GET /api/info, bench/README.md), and the pool knows those numbers at any moment anyway. Names
 * and attributes are the semantic-convention ones instrumentation-pg used, so dashboards and
 * alerts read the same series.
 */

/** The pool name of db.client.connection.pool.name (semantic conventions): `host:port/database`. */
export function poolNameOf(o: { host?: string | undefined; port?: number | undefined; database?: string | undefined }): string {
  return `${o.host || 'unknown_host'}:${o.port || 'unknown_port'}/${o.database || 'unknown_database'}`;
}

type PoolCounts = { used: number; idle: number; pending: number; max: number };

/** The pools each Instruments reports; several pools of one database add up, as the counters did. */
const pools = new WeakMap<Instruments, Set<pg.Pool>>();

function countsByPoolName(set: Set<pg.Pool>): Map<string, PoolCounts> {
  const out = new Map<string, PoolCounts>();
  for (const pool of set) {
    const options = pool.options as { host?: string; port?: number; database?: string; max?: number };
    const name = poolNameOf(options);
    const c = out.get(name) ?? { used: 0, idle: 0, pending: 0, max: 0 };
    const idle = pool.idleCount;
    c.used += pool.totalCount - idle;
    c.idle += idle;
    c.pending += pool.waitingCount;
    c.max += options.max ?? 10; // pg-pool's default
    out.set(name, c);
  }
  return out;
}

/** Reports the pool's connection gauges at scrape time. Returns what to call when the pool is ended. */
export function observePoolAtScrape(pool: pg.Pool, instruments: Instruments): () => void {
  let set = pools.get(instruments);
  if (!set) {
    const mine = new Set<pg.Pool>();
    set = mine;
    pools.set(instruments, mine);
    const poolName = (name: string) => ({ 'db.client.connection.pool.name': name });
    instruments.observe('dbConnectionCount', () =>
      [...countsByPoolName(mine)].flatMap(([name, c]) => [
        { value: c.used, attributes: { 'db.client.connection.state': 'used', ...poolName(name) } },
        { value: c.idle, attributes: { 'db.client.connection.state': 'idle', ...poolName(name) } },
      ]),
    );
    instruments.observe('dbConnectionPending', () => [...countsByPoolName(mine)].map(([name, c]) => ({ value: c.pending, attributes: poolName(name) })));
    instruments.observe('dbConnectionMax', () => [...countsByPoolName(mine)].map(([name, c]) => ({ value: c.max, attributes: poolName(name) })));
  }
  set.add(pool);
  const owned = set;
  return () => owned.delete(pool);
}
