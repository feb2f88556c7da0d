'use strict';
/**
 * Peer: the naive Koa stack — koa-helmet, an ajv-validated query, one winston JSON line per
 * request to stdout (a file in the bench) — run under bench/peers/koa-otel-telemetry.js
 * (OpenTelemetry auto-instrumentation defaults + Prometheus exporter). Same two routes as
 * bench/baseline/koa-bare.js. Prints one JSON line {"msg":"listening","port":N} when ready.
 */
const Koa = require('koa');
const { Router } = require('@koa/router');
const helmet = require('koa-helmet').default ?? require('koa-helmet');
const { Ajv } = require('ajv');
const winston = require('winston');
const pg = require('pg');

const logger = winston.createLogger({ level: 'info', format: winston.format.json(), transports: [new winston.transports.Console()] });
const ajv = new Ajv();
const validQuery = ajv.compile({ type: 'object', additionalProperties: { type: 'string', maxLength: 256 } });
const pool = process.env.DATABASE_URL ? new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_MAX || 20) }) : undefined;

const app = new Koa({ proxy: true });
const router = new Router();
app.use(async function accessLine(ctx, next) {
  const t0 = performance.now();
  await next();
  logger.info('request', { method: ctx.method, path: ctx.path, status: ctx.status, duration_ms: performance.now() - t0, ip: ctx.ip });
});
app.use(helmet());
app.use(async function validate(ctx, next) {
  if (!validQuery({ ...ctx.query })) {
    ctx.status = 400;
    ctx.body = { error: 'bad query' };
    return;
  }
  await next();
});
router.get('/api/ping', (ctx) => {
  ctx.body = { ok: true, ts: Date.now() };
});
router.get('/api/info', async (ctx) => {
  if (!pool) {
    ctx.status = 503;
    return;
  }
  const { rows } = await pool.query('SELECT value FROM app_meta WHERE key = $1', ['installation_id']);
  ctx.body = { version: '0.1.0', installationId: rows[0] ? rows[0].value : null };
});
app.use(router.routes());
app.use(router.allowedMethods());

const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port: server.address().port })}\n`);
});
server.keepAliveTimeout = 65_000;

function stop() {
  server.close();
  const sdkDown = new Promise((r) => setTimeout(r, 2000)); // the SDK's shutdown is bounded, never awaited unbounded
  Promise.race([pool ? pool.end() : Promise.resolve(), sdkDown]).finally(() => process.exit(0));
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
