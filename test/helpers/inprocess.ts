import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type Router from '@koa/router';
import { createApp } from '../../src/app';
import { noopAuditSink, type AuditSink } from '../../src/platform/audit/catalogue';
import { loadConfig, type Config } from '../../src/platform/config';
import { createServiceKeys } from '../../src/platform/crypto/keys';
import { createLimiters, type Limiters, type RateLimitStore } from '../../src/platform/security/rate-limit';
import { migrate } from '../../src/platform/db/migrate';
import { createDatabase, type Database } from '../../src/platform/db/pool';
import { EventLoopMonitor } from '../../src/platform/health/checks';
import type { AppState } from '../../src/platform/context/state';
import { createLogger, type LoggerHandle } from '../../src/platform/logging/logger';
import { telemetry } from '../setup/telemetry';
import { TEST_ENCRYPTION_KEY, type LogLine } from './service';
import { createModules, MIGRATIONS } from '../../src/modules';

export interface InProcessApp {
  url: string;
  server: Server;
  db: Database;
  config: Config;
  log: LoggerHandle;
  logs: LogLine[];
  limiters: Limiters;
  close(): Promise<void>;
}

/**
 * The real app (createApp: every middleware in order) served over real HTTP inside the test
 * process, so tests can add routes of their own (throwing each error class …) and read spans from
 * the in-memory exporter. Talks to real PostgreSQL at `databaseUrl`.
 */
export async function startInProcessApp(opts: {
  databaseUrl: string;
  env?: Record<string, string>;
  plugins?: Array<(router: Router<AppState>) => void>;
  audit?: AuditSink;
  /** Where the limiters count (default: process memory) and the API limiter's local bucket bound. */
  rateLimit?: { store: RateLimitStore; apiLocalKeys?: number };
}): Promise<InProcessApp> {
  const { config } = loadConfig({ NODE_ENV: 'test', DATABASE_URL: opts.databaseUrl, ENCRYPTION_KEY: TEST_ENCRYPTION_KEY, ...opts.env });
  const logs: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) logs.push(JSON.parse(line) as LogLine);
      cb();
    },
  });
  const log = createLogger({ level: 'info', service: 'caly-api-test', environment: config.NODE_ENV, stream });
  const db = createDatabase(
    {
      connectionString: opts.databaseUrl,
      max: 5,
      min: 0,
      idleTimeoutMillis: 1000,
      connectionTimeoutMillis: 2000,
      statementTimeoutMillis: config.DB_STATEMENT_TIMEOUT,
      applicationName: 'caly-api-test',
      slowQueryMs: config.SLOW_QUERY_MS,
      preparedStatements: config.DB_PREPARED_STATEMENTS,
    },
    log.logger,
    telemetry.instruments,
  );
  await migrate(db.pool, log.logger, MIGRATIONS);
  const eventLoop = new EventLoopMonitor();
  // Composed as server.ts composes the service (same module API), with limiters in memory unless told.
  const audit = opts.audit ?? noopAuditSink;
  const keys = createServiceKeys(config);
  const limiters = createLimiters({
    config,
    store: opts.rateLimit?.store ?? { kind: 'memory' },
    apiLocalKeys: opts.rateLimit?.apiLocalKeys,
    logger: log.logger,
    instruments: telemetry.instruments,
    audit,
  });
  const modules = await createModules({ config, db, keys, audit, limiters, instruments: telemetry.instruments, logger: log.logger });
  const app = createApp({
    config,
    log,
    instruments: telemetry.instruments,
    db,
    keyring: keys.keyring,
    eventLoop,
    audit,
    limiters,
    auth: modules.auth.auth,
    staffGuard: modules.auth.staffGuard,
    isShuttingDown: () => false,
    // The test's own routes as a module; the domain modules' routes are not needed here.
    migrations: MIGRATIONS,
    modules: (opts.plugins ?? []).map((registerRoutes, i) => ({ name: `test-${i}`, registerRoutes })),
  });
  const server = createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    db,
    config,
    log,
    logs,
    limiters,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      eventLoop.stop();
      await db.close();
    },
  };
}
