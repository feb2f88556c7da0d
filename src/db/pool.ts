import { performance } from 'node:perf_hooks';
import { trace } from '@opentelemetry/api';
import pg from 'pg';
import { parse as parseConnectionString } from 'pg-connection-string';
import type { Logger } from '../logging/logger';
import type { Instruments } from '../telemetry/instruments';

export interface PoolSettings {
  connectionString: string;
  max: number;
  min: number;
  idleTimeoutMillis: number;
  connectionTimeoutMillis: number;
  statementTimeoutMillis: number;
  applicationName: string;
  slowQueryMs: number;
}

export type QueryValues = readonly unknown[];
export type Row = Record<string, unknown>;

/** The query surface handed to repositories and transactions alike. */
export interface Queryable {
  query<R extends Row = Row>(text: string, values?: QueryValues): Promise<pg.QueryResult<R>>;
}

export interface PoolStats {
  total: number;
  idle: number;
  used: number;
  waiting: number;
  max: number;
}

export interface Database extends Queryable {
  readonly pool: pg.Pool;
  /** Runs `fn` in one transaction: all of it commits, or none of it does. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  stats(): PoolStats;
  close(): Promise<void>;
}

const SQL_PREVIEW = 200;

/** The operation word of a statement (SELECT, INSERT …), the only part of SQL used as a label. */
export function operationOf(sql: string): string {
  const m = /^\s*(?:--[^\n]*\n\s*|\/\*[\s\S]*?\*\/\s*)*([A-Za-z]+)/.exec(sql);
  const op = m?.[1]?.toUpperCase() ?? 'OTHER';
  return /^(SELECT|INSERT|UPDATE|DELETE|WITH|BEGIN|COMMIT|ROLLBACK|CREATE|ALTER|DROP|SET|SHOW|COPY|LOCK|TRUNCATE|VALUES)$/.test(op) ? op : 'OTHER';
}

/**
 * One pg Pool for the whole process, with slow-query detection wrapped around every query.
 * Parameter values are never logged: only the first 200 characters of the SQL text.
 */
export function createDatabase(settings: PoolSettings, logger: Logger, instruments: Instruments): Database {
  // Explicit host/port/database (rather than connectionString) so that the pg instrumentation can
  // name the pool in db.client.connection.* instead of "unknown_host:unknown_port".
  const parsed = parseConnectionString(settings.connectionString);
  const pool = new pg.Pool({
    host: parsed.host ?? undefined,
    port: parsed.port ? Number(parsed.port) : undefined,
    database: parsed.database ?? undefined,
    user: parsed.user ?? undefined,
    password: parsed.password ?? undefined,
    ssl: (parsed.ssl as pg.PoolConfig['ssl']) ?? undefined,
    max: settings.max,
    min: settings.min,
    idleTimeoutMillis: settings.idleTimeoutMillis,
    connectionTimeoutMillis: settings.connectionTimeoutMillis,
    statement_timeout: settings.statementTimeoutMillis,
    application_name: settings.applicationName,
  });
  // An idle client losing its server connection emits here; without a listener it would crash us.
  pool.on('error', (err) => logger.warn('idle database connection failed', { error: err.message }));

  function noteSlow(sql: string, elapsedMs: number, rows: number | null): void {
    const op = operationOf(sql);
    const preview = sql.replace(/\s+/g, ' ').trim().slice(0, SQL_PREVIEW);
    instruments.slowQueries.add(1, { 'db.operation.name': op });
    trace.getActiveSpan()?.addEvent('slow_query', {
      'db.operation.name': op,
      'db.query.summary': preview,
      'caly.duration_ms': Math.round(elapsedMs),
      'caly.threshold_ms': settings.slowQueryMs,
    });
    logger.warn('slow query', { sql: preview, duration_ms: Math.round(elapsedMs), threshold_ms: settings.slowQueryMs, rows, operation: op });
  }

  function timed(run: (text: string, values?: QueryValues) => Promise<pg.QueryResult>): Queryable['query'] {
    return async function query<R extends Row>(text: string, values?: QueryValues) {
      const t0 = performance.now();
      let rows: number | null = null;
      try {
        const res = await run(text, values);
        rows = res.rowCount;
        return res as pg.QueryResult<R>;
      } finally {
        const elapsed = performance.now() - t0;
        if (elapsed > settings.slowQueryMs) noteSlow(text, elapsed, rows);
      }
    };
  }

  const query = timed((text, values) => pool.query(text, values as unknown[] | undefined));

  return {
    pool,
    query,
    async transaction(fn) {
      const client = await pool.connect();
      const tx: Queryable = { query: timed((text, values) => client.query(text, values as unknown[] | undefined)) };
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await fn(tx);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch((rollbackErr: Error) => {
          broken = rollbackErr;
        });
        throw err;
      } finally {
        // A client whose ROLLBACK failed may be mid-transaction: destroy it rather than reuse it.
        client.release(broken);
      }
    },
    stats() {
      const total = pool.totalCount;
      const idle = pool.idleCount;
      return { total, idle, used: total - idle, waiting: pool.waitingCount, max: settings.max };
    },
    async close() {
      await pool.end();
    },
  };
}
