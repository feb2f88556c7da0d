import type pg from 'pg';
import type { Instruments } from './instruments';

/**
 * instrumentation-pg keeps db.client.connection.count and .pending_requests as up-down counters
 * that it updates on every pool acquire and release: six metric-SDK records (attribute hashing, a
 * map lookup each) per query, ~4 % of the service's busy time on GET /api/info (bench/README.md).
 * The pool knows those numbers at any moment, so they are read when /metrics is scraped instead,
 * under the same names and attributes.
 *
 * The instrumentation attaches its pool listeners once per pool and marks the pool with a symbol
 * so that it does not attach them again; marking our pool first keeps them off. The symbol is
 * internal to the (exactly pinned) instrumentation: if a version no longer has it, nothing is
 * marked and nothing is registered here, and the instrumentation keeps counting as before.
 */
const LISTENERS_SET = listenersSetSymbol();

function listenersSetSymbol(): symbol | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- internal module of a pinned package, see above
    const s = (require('@opentelemetry/instrumentation-pg/build/src/internal-types') as { EVENT_LISTENERS_SET?: unknown }).EVENT_LISTENERS_SET;
    return typeof s === 'symbol' ? s : undefined;
  } catch {
    return undefined;
  }
}

/** The pool name instrumentation-pg gives db.client.connection.pool_name: `host:port/database`. */
export function poolNameOf(o: { host?: string | undefined; port?: number | undefined; database?: string | undefined }): string {
  return `${o.host || 'unknown_host'}:${o.port || 'unknown_port'}/${o.database || 'unknown_database'}`;
}

type PoolCounts = { used: number; idle: number; pending: number };

/** The pools each Instruments reports; several pools of one database add up, as the counters did. */
const pools = new WeakMap<Instruments, Set<pg.Pool>>();

function countsByPoolName(set: Set<pg.Pool>): Map<string, PoolCounts> {
  const out = new Map<string, PoolCounts>();
  for (const pool of set) {
    const name = poolNameOf(pool.options as { host?: string; port?: number; database?: string });
    const c = out.get(name) ?? { used: 0, idle: 0, pending: 0 };
    const idle = pool.idleCount;
    c.used += pool.totalCount - idle;
    c.idle += idle;
    c.pending += pool.waitingCount;
    out.set(name, c);
  }
  return out;
}

/**
 * Reports the pool's connection gauges at scrape time. Returns what to call when the pool is
 * ended, or undefined when the instrumentation's own counting stays on (see LISTENERS_SET).
 */
export function observePoolAtScrape(pool: pg.Pool, instruments: Instruments): (() => void) | undefined {
  if (LISTENERS_SET === undefined) return undefined;
  (pool as unknown as Record<symbol, boolean>)[LISTENERS_SET] = true;
  let set = pools.get(instruments);
  if (!set) {
    const mine = new Set<pg.Pool>();
    set = mine;
    pools.set(instruments, mine);
    instruments.observe('dbConnectionCount', () =>
      [...countsByPoolName(mine)].flatMap(([name, c]) => [
        { value: c.used, attributes: { 'db.client.connection.state': 'used', 'db.client.connection.pool.name': name } },
        { value: c.idle, attributes: { 'db.client.connection.state': 'idle', 'db.client.connection.pool.name': name } },
      ]),
    );
    instruments.observe('dbConnectionPending', () =>
      [...countsByPoolName(mine)].map(([name, c]) => ({ value: c.pending, attributes: { 'db.client.connection.pool.name': name } })),
    );
  }
  set.add(pool);
  const owned = set;
  return () => owned.delete(pool);
}
