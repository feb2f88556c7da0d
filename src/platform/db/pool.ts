import { performance } from 'node:perf_hooks';
import { context, trace, type Context } from '@opentelemetry/api';
import pg from 'pg';
import { parse as parseConnectionString } from 'pg-connection-string';
import type { Logger } from '../logging/logger';
import type { Instruments } from '../telemetry/instruments';
import { observePoolAtScrape } from '../telemetry/pool-metrics';
import { operationOf } from './operation';
import { sendStatement, statementNames, type StatementNames } from './prepared';
import { tracedClientClass } from './traced-client';

export { operationOf };

export interface PoolSettings {
  connectionString: string;
  max: number;
  min: number;
  idleTimeoutMillis: number;
  connectionTimeoutMillis: number;
  statementTimeoutMillis: number;
  applicationName: string;
  slowQueryMs: number;
  /** How many distinct parameterised texts db.query and transactions prepare (prepared.ts); 0: none. */
  preparedStatements: number;
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
/** Attempts of a transaction that keeps failing with a serialization failure or deadlock. */
const TRANSACTION_ATTEMPTS = 4;

/**
 * A checked-out client, listening for 'error' until it is given back. pg-pool stops listening for
 * 'error' on a client while it is checked out, so a connection lost meanwhile (a database restart,
 * a cut network) would emit an unhandled 'error' and kill the process: we listen for it here (the
 * pending query rejects as well). A client that failed, or whose cleanup failed (`discard`), is
 * destroyed rather than returned, since it may still be mid-transaction or hold a session lock.
 */
function lease(client: pg.PoolClient) {
  let broken: Error | undefined;
  const discard = (reason: Error) => {
    broken ??= reason;
  };
  client.on('error', discard);
  return {
    discard,
    /** Returns the client to the pool, or destroys it when it broke or `failure` was a connection loss. */
    giveBack(failure?: unknown): void {
      if (failure !== undefined && isConnectionLoss(failure)) broken ??= failure as Error;
      client.removeListener('error', discard);
      client.release(broken);
    },
  };
}

/** Runs `fn` on one pooled client and always gives it back (see lease). */
export async function withClient<T>(pool: pg.Pool, fn: (client: pg.PoolClient, discard: (reason: Error) => void) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const held = lease(client);
  let failure: unknown;
  try {
    return await fn(client, held.discard);
  } catch (err) {
    failure = err;
    throw err;
  } finally {
    held.giveBack(failure);
  }
}

/**
 * The one BEGIN … COMMIT of the code base: runs `fn` inside a transaction on a checked-out client
 * and rolls back on any failure. `opening` may extend BEGIN with statements that belong to the same
 * round trip (simple protocol); `fn` gets its result. A ROLLBACK that fails goes to
 * `onRollbackFailure` (withClient's discard), so a client possibly still mid-transaction is
 * destroyed rather than reused. BEGIN sits inside the try: when an extended opening fails after
 * BEGIN, the open transaction is rolled back too (a ROLLBACK outside one is only a warning).
 */
export async function inTransaction<T>(
  client: pg.ClientBase,
  onRollbackFailure: (reason: Error) => void,
  fn: (opened: pg.QueryResult | pg.QueryResult[]) => Promise<T>,
  opening = 'BEGIN',
): Promise<T> {
  try {
    const opened = (await client.query(opening)) as pg.QueryResult | pg.QueryResult[];
    const result = await fn(opened);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(onRollbackFailure);
    throw err;
  }
}

/**
 * One statement on a pooled client, through pg's callback interface: one promise per query.
 *
 * Why not withClient (async, awaiting connect() and pg's query promise): on Node 20 every promise
 * a request makes runs AsyncLocalStorage's init hook (the OpenTelemetry context), and that path made
 * eight promises per query where this makes one (bench/README.md, "Sixth round").
 * Why not pool.query(): when every client is busy, pg-pool queues the callback and later runs it
 * from whichever request released a client, so the query's span would continue that request's
 * trace. The caller's context is therefore captured before connecting and restored around the
 * query when the callback runs in another one; the caller's `await` resumes in its own context
 * whoever settles the promise. The client is held as withClient holds it (lease).
 *
 * `onSettled` hears the row count (null on failure) once the statement is answered, before the
 * promise settles. The statement runs prepared when `names` name it (prepared.ts, sendStatement);
 * if its prepared form went stale, it runs once more, prepared afresh on whichever connection it
 * gets.
 */
export function queryOnce(
  pool: pg.Pool,
  text: string,
  values: QueryValues | undefined,
  caller: Context,
  names: StatementNames,
  onSettled?: (rows: number | null) => void,
): Promise<pg.QueryResult> {
  return new Promise((resolve, reject) => {
    const attempt = (mayRetry: boolean) =>
      pool.connect((connectError: Error | undefined, client: pg.PoolClient | undefined) => {
        if (connectError || !client) {
          onSettled?.(null);
          return reject(connectError ?? new Error('the pool gave no client'));
        }
        const held = lease(client);
        let settled = false;
        const settle = (err: Error | null, res?: pg.QueryResult, stale = false) => {
          if (settled) return; // pg threw after taking the callback: give back once, answer once
          settled = true;
          held.giveBack(err ?? undefined);
          if (stale && mayRetry) return attempt(false);
          onSettled?.(err ? null : (res?.rowCount ?? null));
          if (err) reject(err);
          else resolve(res!);
        };
        const send = () => sendStatement(client, names, text, values, held.discard, settle);
        try {
          if (context.active() === caller) send();
          else context.with(caller, send);
        } catch (err) {
          settle(err instanceof Error ? err : new Error(String(err))); // a call pg refuses synchronously
        }
      });
    attempt(true);
  });
}

/**
 * A failure reported from the socket carries a stack through pg's parser: give it one that leads
 * back to the caller instead. Called in a promise reaction the caller awaits, where V8 appends the
 * awaiting async frames.
 */
function fromCaller(err: unknown): unknown {
  if (err instanceof Error) Error.captureStackTrace(err);
  return err;
}
function rethrowFromCaller(err: unknown): never {
  throw fromCaller(err);
}

/** Errors after which a client must not be reused: a lost connection, whatever reported it. */
function isConnectionLoss(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return /^(08|57P|E[A-Z]+)/.test(code);
  return /connection terminated|connection error|not queryable|timeout/i.test((err as Error)?.message ?? '');
}

/**
 * One pg Pool for the whole process, with slow-query detection wrapped around every query.
 * Parameter values are never logged: only the first 200 characters of the SQL text.
 */
export function createDatabase(settings: PoolSettings, logger: Logger, instruments: Instruments): Database {
  // Explicit host/port/database (rather than connectionString) so that pool-metrics.ts can name
  // the pool in db.client.connection.* (`host:port/database`) from its options.
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
    // every query's CLIENT span and db.client.operation.duration, whichever path issues it
    Client: tracedClientClass({ duration: instruments.dbOperationDuration }),
  });
  const unobservePool = observePoolAtScrape(pool, instruments); // db.client.connection.* read when scraped, not per acquire
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

  /** The slow-query note, in the caller's context: the event goes on its span, the log line carries its trace. */
  function noteIfSlow(text: string, startedAt: number, rows: number | null, caller: Context): void {
    const elapsed = performance.now() - startedAt;
    if (elapsed > settings.slowQueryMs) context.with(caller, () => noteSlow(text, elapsed, rows));
  }

  function timed(run: (text: string, values?: QueryValues) => Promise<pg.QueryResult>): Queryable['query'] {
    return async function query<R extends Row>(text: string, values?: QueryValues) {
      const t0 = performance.now();
      let rows: number | null = null;
      try {
        const res = await run(text, values);
        rows = res.rowCount;
        return res as pg.QueryResult<R>;
      } catch (err) {
        throw fromCaller(err);
      } finally {
        noteIfSlow(text, t0, rows, context.active());
      }
    };
  }

  const names = statementNames(settings.preparedStatements);
  /**
   * db.query: queryOnce's promise and one reaction, the slow-query check done when the statement
   * settles. Not an async function around it: that is a second promise, an await and a generator
   * per query (bench/README.md, "Eighth round": 11.3 → 10.3 promises per GET /api/info).
   */
  const query = (<R extends Row>(text: string, values?: QueryValues) => {
    const t0 = performance.now();
    const caller = context.active();
    return queryOnce(pool, text, values, caller, names, (rows) => noteIfSlow(text, t0, rows, caller)).then(undefined, rethrowFromCaller) as Promise<
      pg.QueryResult<R>
    >;
  }) as Queryable['query'];

  /** Failures of a transaction's prepared statement that went stale: the transaction runs again (prepared.ts). */
  const staleInTransaction = new WeakSet<object>();

  async function runTransaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return withClient(pool, async (client, discard) => {
      const run = (text: string, values?: QueryValues): Promise<pg.QueryResult> =>
        new Promise((resolve, reject) =>
          sendStatement(client, names, text, values, discard, (err, res, stale) => {
            if (!err) return resolve(res!);
            if (stale) staleInTransaction.add(err); // the transaction runs again, prepared afresh
            reject(err);
          }),
        );
      const tx: Queryable = { query: timed(run) };
      return inTransaction(client, discard, () => fn(tx));
    });
  }

  return {
    pool,
    query,
    async transaction(fn) {
      // Serialization failures and deadlocks are transient by definition: PostgreSQL asks the
      // client to retry the whole transaction. So is a prepared statement gone stale, on the fresh
      // connection the retry gets. A few attempts with jittered backoff, then give up
      // (mapped to 503 by toAppError). fn must therefore be safe to run again.
      for (let attempt = 1; ; attempt++) {
        try {
          return await runTransaction(fn);
        } catch (err) {
          const code = (err as { code?: unknown }).code;
          const stale = typeof err === 'object' && err !== null && staleInTransaction.has(err);
          if ((code !== '40001' && code !== '40P01' && !stale) || attempt >= TRANSACTION_ATTEMPTS) throw err;
          trace.getActiveSpan()?.addEvent('transaction_retry', { 'db.response.status_code': String(code), 'caly.attempt': attempt });
          await new Promise((r) => setTimeout(r, 5 * attempt + Math.random() * 20));
        }
      }
    },
    stats() {
      const total = pool.totalCount;
      const idle = pool.idleCount;
      return { total, idle, used: total - idle, waiting: pool.waitingCount, max: settings.max };
    },
    async close() {
      unobservePool();
      await pool.end();
    },
  };
}
