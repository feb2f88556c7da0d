import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app';
import { startPurgeJob } from './platform/audit/purge';
import { SourceThrottle } from './platform/audit/throttle';
import { AuditTrail } from './platform/audit/trail';
import type { Config } from './platform/config';
import { createServiceKeys } from './platform/crypto/keys';
import { startEmbeddedDatabase, type EmbeddedDatabase } from './platform/db/embedded';
import { verifyEncryptionKey } from './platform/crypto/key-check';
import { claimDirectory, type DirectoryOwnership } from './platform/lifecycle/directory-owner';
import { migrate } from './platform/db/migrate';
import { createDatabase } from './platform/db/pool';
import { createModules, MIGRATIONS } from './modules';
import { loadJose } from './modules/auth/tokens';
import { EventLoopMonitor } from './platform/health/checks';
import { Lifecycle } from './platform/lifecycle/shutdown';
import { createLogger } from './platform/logging/logger';
import { createLimiters, createRedisClient, quitRedisClient, waitUntilReady, type RateLimitStore } from './platform/security/rate-limit';
import { observeParserRejections } from './platform/telemetry/parser-rejections';
import type { Telemetry } from './platform/telemetry/sdk';

export interface RunningService {
  server: Server;
  metricsServer: Server | undefined;
  lifecycle: Lifecycle;
  port: number;
  metricsPort: number | undefined;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

const display = (host: string) => (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);

/**
 * Builds and starts the service. Loaded by main.ts only after telemetry has started, so that pg
 * and winston are patched when first required.
 */
export async function runServer(config: Config, telemetry: Telemetry, warnings: string[]): Promise<RunningService> {
  const log = createLogger({
    level: config.LOG_LEVEL,
    service: config.OTEL_SERVICE_NAME,
    environment: config.NODE_ENV,
    redactKeys: config.LOG_REDACT_KEYS.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  });
  const { logger } = log;
  telemetry.attachLog(logger); // the SDK's own warnings (dropped spans, failed exports) into our log
  for (const w of warnings) logger.warn(w);

  // One process per DATA_DIR (journal, recordings, the embedded database, the development key).
  const dataDirOwnership = await claimDirectory(config.DATA_DIR, 'caly-api service', DATA_DIR_ADVICE);
  let embedded: EmbeddedDatabase | undefined;
  let connectionString = config.DATABASE_URL;
  if (!connectionString) {
    embedded = await startEmbeddedDatabase(config.DATA_DIR, { maxConnections: config.DB_POOL_MAX + 20, log: logger });
    connectionString = embedded.url;
  }
  logger.info(embedded ? `database: embedded ${embedded.description} (set DATABASE_URL to use a server)` : `database: ${describeServer(connectionString)}`, {
    database: embedded ? 'embedded' : 'server',
  });
  try {
    return await startService(config, telemetry, log, connectionString, embedded, dataDirOwnership);
  } catch (err) {
    await embedded?.stop();
    await dataDirOwnership.release();
    throw err;
  }
}

const DATA_DIR_ADVICE =
  'Each running service needs its own DATA_DIR: stop the other process, or give this one another DATA_DIR ' +
  '(replicas share data through DATABASE_URL, never through one DATA_DIR).';

/** host:port/database of a connection string; never its password. */
function describeServer(url: string): string {
  try {
    const u = new URL(url);
    return `PostgreSQL at ${u.host}${u.pathname}`;
  } catch {
    return 'PostgreSQL (DATABASE_URL)';
  }
}

async function startService(
  config: Config,
  telemetry: Telemetry,
  log: ReturnType<typeof createLogger>,
  connectionString: string,
  embedded: EmbeddedDatabase | undefined,
  dataDirOwnership: DirectoryOwnership,
): Promise<RunningService> {
  const { logger } = log;
  const db = createDatabase(
    {
      connectionString,
      max: config.DB_POOL_MAX,
      min: config.DB_POOL_MIN,
      idleTimeoutMillis: config.DB_IDLE_TIMEOUT,
      connectionTimeoutMillis: config.DB_CONNECTION_TIMEOUT,
      statementTimeoutMillis: config.DB_STATEMENT_TIMEOUT,
      applicationName: config.DB_APPLICATION_NAME,
      slowQueryMs: config.SLOW_QUERY_MS,
      preparedStatements: config.DB_PREPARED_STATEMENTS,
    },
    logger,
    telemetry.instruments,
  );
  // Encryption keyring (current + ENCRYPTION_KEYS_PREVIOUS), token and phone-hash keys (docs/domain.md).
  const keys = createServiceKeys(config);
  const keyring = keys.keyring;
  try {
    await migrate(db.pool, logger, MIGRATIONS);
    await verifyEncryptionKey(db, keyring); // a key that cannot read this database stops startup
  } catch (err) {
    await db.close();
    throw err;
  }
  await loadJose(); // before the event-loop monitor starts: see auth/tokens.ts
  const eventLoop = new EventLoopMonitor();
  const server = createServer();
  // Slowloris and idle keep-alive bounds; the request deadline itself is REQUEST_TIMEOUT_MS.
  server.headersTimeout = 20_000;
  server.requestTimeout = Math.max(config.REQUEST_TIMEOUT_MS + 5_000, 30_000);
  server.keepAliveTimeout = 65_000;
  observeParserRejections(server, { logger, instruments: telemetry.instruments }); // 431/400 from the parser: envelope, metric, log, span

  const lifecycle = new Lifecycle({
    server,
    logger,
    drainDelayMs: config.SHUTDOWN_DRAIN_MS,
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    flushLogs: () => log.flush(),
  });
  // The audit trail: journal + batched, hash-chained writes (docs/audit.md). Replay of what a
  // previous run left in the journal starts here, before the server listens.
  const audit = new AuditTrail({
    db,
    logger,
    instruments: telemetry.instruments,
    isSensitiveKey: log.redactor.isSensitiveKey,
    journalDir: config.AUDIT_JOURNAL_DIR,
    batchSize: config.AUDIT_BATCH_SIZE,
    flushIntervalMs: config.AUDIT_FLUSH_INTERVAL_MS,
    maxBacklog: config.AUDIT_MAX_BACKLOG,
    stallAfterMs: config.AUDIT_STALL_MS,
    throttle: new SourceThrottle({ perWindow: config.AUDIT_THROTTLE_PER_MINUTE, windowMs: config.AUDIT_THROTTLE_WINDOW_S * 1000 }),
  });
  await audit.start();
  const stopAuditPurge = startPurgeJob({ db, audit, logger, retentionDays: config.AUDIT_RETENTION_DAYS, intervalMs: config.AUDIT_PURGE_INTERVAL_MS });
  if (config.NODE_ENV === 'production' && !config.TRUST_PROXY) {
    logger.warn(
      'TRUST_PROXY is off: X-Forwarded-Proto is ignored, so every plain-HTTP request is redirected to PUBLIC_BASE_URL and rate limits see the proxy address; set TRUST_PROXY=true behind a load balancer',
    );
  }
  // Rate limits: Redis when configured, so replicas share one budget. A Redis that is down at start
  // does not stop the service: the limiters answer from memory until it is back.
  let rateLimitStore: RateLimitStore = { kind: 'memory' };
  if (config.REDIS_URL) {
    const client = createRedisClient(config.REDIS_URL, logger);
    if (!(await waitUntilReady(client, 2_000)))
      logger.error('rate-limit store (Redis) not ready at startup: limiting from process memory until it is', { store: 'redis' });
    rateLimitStore = { kind: 'redis', client };
  }
  const limiters = createLimiters({ config, store: rateLimitStore, logger, instruments: telemetry.instruments, audit });
  // The modules (src/modules/index.ts): auth, calls with recordings, Exotel webhooks, dependency scans.
  const modules = await createModules({ config, db, keys, audit, limiters, instruments: telemetry.instruments, logger });
  const app = createApp({
    config,
    log,
    instruments: telemetry.instruments,
    db,
    keyring,
    eventLoop,
    audit,
    limiters,
    modules: modules.list,
    migrations: MIGRATIONS,
    auth: modules.auth.auth,
    staffGuard: modules.auth.staffGuard,
    healthChecks: { audit: async () => audit.healthCheck() },
    isShuttingDown: lifecycle.isShuttingDown,
  });
  server.on('request', app.callback());

  let metricsServer: Server | undefined;
  let metricsPort: number | undefined;
  if (telemetry.metricsHandler) {
    const handler = telemetry.metricsHandler;
    metricsServer = createServer((req, res) => {
      if (req.method === 'GET' && (req.url === '/metrics' || req.url?.startsWith('/metrics?'))) {
        handler(req, res); // Prometheus text, or OpenMetrics with exemplars when the scraper asks
      } else {
        res.statusCode = 404;
        res.end('Not found: metrics are served at /metrics\n');
      }
    });
    metricsPort = await listen(metricsServer, config.METRICS_PORT, config.METRICS_HOST);
  }

  lifecycle.onShutdown('event-loop monitor', () => eventLoop.stop());
  for (const m of modules.list) await m.start?.();
  for (const m of [...modules.list].reverse()) if (m.stop) lifecycle.onShutdown(`module ${m.name}`, () => m.stop!());
  lifecycle.onShutdown('audit trail', async () => {
    await stopAuditPurge();
    await audit.close(Math.max(1000, Math.floor(config.SHUTDOWN_TIMEOUT_MS / 2)));
  });
  lifecycle.onShutdown('database pool', () => db.close());
  if (rateLimitStore.kind === 'redis') {
    const { client } = rateLimitStore;
    lifecycle.onShutdown('rate-limit store', () => quitRedisClient(client));
  }
  if (embedded) lifecycle.onShutdown('embedded database', () => embedded.stop());
  lifecycle.onShutdown('DATA_DIR ownership', () => dataDirOwnership.release());
  lifecycle.onShutdown('telemetry', () => telemetry.shutdown(2000));
  lifecycle.onShutdown('metrics server', () => new Promise<void>((r) => (metricsServer ? metricsServer.close(() => r()) : r())));

  const port = await listen(server, config.PORT, config.HOST);
  const base = `http://${display(config.HOST)}:${port}`;
  const metricsUrl = metricsPort === undefined ? undefined : `http://${display(config.METRICS_HOST)}:${metricsPort}/metrics`;
  logger.info(`Caly API listening on ${base} (health ${base}/health/ready${metricsUrl ? `, metrics ${metricsUrl}` : ''})`, {
    url: base,
    port,
    metrics_url: metricsUrl,
    metrics_port: metricsPort,
  });
  return { server, metricsServer, lifecycle, port, metricsPort };
}
