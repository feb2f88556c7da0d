import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app';
import { noopAuditSink } from './audit/catalogue';
import type { Config } from './config';
import { createKeyring } from './crypto/encryption';
import { startEmbeddedDatabase, type EmbeddedDatabase } from './db/embedded';
import { migrate } from './db/migrate';
import { createDatabase } from './db/pool';
import { EventLoopMonitor } from './health/checks';
import { Lifecycle } from './lifecycle/shutdown';
import { createLogger } from './logging/logger';
import type { Telemetry } from './telemetry/sdk';

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
    redactKeys: config.LOG_REDACT_KEYS.split(',').map((s) => s.trim()).filter(Boolean),
  });
  const { logger } = log;
  for (const w of warnings) logger.warn(w);

  let embedded: EmbeddedDatabase | undefined;
  let connectionString = config.DATABASE_URL;
  if (!connectionString) {
    embedded = await startEmbeddedDatabase(config.DATA_DIR, config.DB_POOL_MAX + 2);
    connectionString = embedded.url;
    logger.info('using the embedded PostgreSQL (PGlite); set DATABASE_URL to use a server', { data_dir: config.DATA_DIR });
  }

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
    },
    logger,
    telemetry.instruments,
  );
  await migrate(db.pool, logger);

  const keyring = createKeyring(config.ENCRYPTION_KEY);
  const eventLoop = new EventLoopMonitor();
  const server = createServer();
  // Slowloris and idle keep-alive bounds; the request deadline itself is REQUEST_TIMEOUT_MS.
  server.headersTimeout = 20_000;
  server.requestTimeout = Math.max(config.REQUEST_TIMEOUT_MS + 5_000, 30_000);
  server.keepAliveTimeout = 65_000;

  const lifecycle = new Lifecycle({
    server,
    logger,
    drainDelayMs: config.SHUTDOWN_DRAIN_MS,
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  });
  // [slot: audit trail — create the real sink here and register its flush as a shutdown hook]
  const audit = noopAuditSink;
  const app = createApp({ config, log, instruments: telemetry.instruments, db, keyring, eventLoop, audit, isShuttingDown: lifecycle.isShuttingDown });
  server.on('request', app.callback());

  let metricsServer: Server | undefined;
  let metricsPort: number | undefined;
  if (telemetry.prometheus) {
    const exporter = telemetry.prometheus;
    metricsServer = createServer((req, res) => {
      if (req.method === 'GET' && (req.url === '/metrics' || req.url?.startsWith('/metrics?'))) {
        exporter.getMetricsRequestHandler(req, res);
      } else {
        res.statusCode = 404;
        res.end('Not found: metrics are served at /metrics\n');
      }
    });
    metricsPort = await listen(metricsServer, config.METRICS_PORT, config.METRICS_HOST);
  }

  lifecycle.onShutdown('event-loop monitor', () => eventLoop.stop());
  lifecycle.onShutdown('database pool', () => db.close());
  if (embedded) lifecycle.onShutdown('embedded database', () => embedded.stop());
  lifecycle.onShutdown('telemetry', () => telemetry.shutdown(2000));
  lifecycle.onShutdown('metrics server', () => new Promise<void>((r) => (metricsServer ? metricsServer.close(() => r()) : r())));
  lifecycle.onShutdown('logs', () => log.flush());

  const port = await listen(server, config.PORT, config.HOST);
  const base = `http://${display(config.HOST)}:${port}`;
  const metricsUrl = metricsPort === undefined ? undefined : `http://${display(config.METRICS_HOST)}:${metricsPort}/metrics`;
  logger.info(`Caly API listening on ${base} (health ${base}/health/ready${metricsUrl ? `, metrics ${metricsUrl}` : ''})`, {
    url: base,
    port,
    metrics_url: metricsUrl,
    metrics_port: metricsPort,
    database: embedded ? 'embedded' : 'server',
  });
  return { server, metricsServer, lifecycle, port, metricsPort };
}
