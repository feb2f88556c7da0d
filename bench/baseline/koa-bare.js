'use strict';
/**
 * The reference every ratio is taken against: bare Koa 3 + @koa/router with the service's two
 * benchmark routes and nothing else (no telemetry, no logging, no headers). `/api/info` runs the
 * same query through a pg Pool of the same size as the service's (DB_POOL_MAX), so that target 3
 * compares the service's request path, not its database driver settings.
 *
 * Env: PORT (0 = any), DATABASE_URL (optional: without it /api/info answers 503), DB_POOL_MAX.
 * Prints one JSON line {"msg":"listening","port":N} on stdout when ready.
 *
 * BURN_US=N (bench/run.js's opt-in `koa-burn20` and `koa-burn40` servers only): spins N µs of wall
 * time on each request before answering, allocating nothing. A server that is slower by a known
 * amount of its own work, for reading what the harness adds when a server is slower (bench/README.md,
 * "Thirteenth round": CPU per request grows by more than the work added).
 *
 * SYNC_ACCESS_LOG=1 (bench/log-blocking.js only, never in the ratio runs): also writes one JSON
 * line per request with a synchronous write to stdout, the way console.log / a winston Console
 * transport write to a pipe, and reports its event-loop delay on stderr at exit, to show what a
 * blocking logger does when the log reader falls behind.
 */
const Koa = require('koa');
const { Router } = require('@koa/router');
const pg = require('pg');

const app = new Koa();
const router = new Router();
const pool = process.env.DATABASE_URL ? new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_MAX || 20) }) : undefined;

const BURN_MS = Number(process.env.BURN_US || 0) / 1000;
function burn() {
  const until = performance.now() + BURN_MS;
  while (performance.now() < until);
}

router.get('/api/ping', (ctx) => {
  if (BURN_MS > 0) burn();
  ctx.body = { ok: true, ts: Date.now() };
});

router.get('/api/info', async (ctx) => {
  if (BURN_MS > 0) burn();
  if (!pool) {
    ctx.status = 503;
    return;
  }
  const { rows } = await pool.query('SELECT value FROM app_meta WHERE key = $1', ['installation_id']);
  ctx.body = { version: '0.1.0', installationId: rows[0] ? rows[0].value : null };
});

if (process.env.SYNC_ACCESS_LOG === '1') {
  const fs = require('node:fs');
  const { monitorEventLoopDelay } = require('node:perf_hooks');
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  process.on('SIGUSR2', () => h.reset()); // start of the measured window
  process.on('exit', () => {
    process.stderr.write(`${JSON.stringify({ eventLoopDelay: { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 } })}\n`);
  });
  app.use(async function syncAccessLog(ctx, next) {
    const t0 = performance.now();
    await next();
    const line = {
      time: new Date().toISOString(),
      level: 'info',
      method: ctx.method,
      path: ctx.path,
      status: ctx.status,
      duration_ms: performance.now() - t0,
      msg: 'request',
      pad: 'x'.repeat(200),
    };
    const data = Buffer.from(`${JSON.stringify(line)}\n`);
    for (let off = 0; off < data.length;) {
      try {
        off += fs.writeSync(1, data, off);
      } catch (err) {
        if (err.code !== 'EAGAIN') throw err; // a non-blocking pipe: spin, as a sync logger would
      }
    }
  });
}
app.use(router.routes());
app.use(router.allowedMethods());

const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port: server.address().port })}\n`);
});
server.keepAliveTimeout = 65_000;

function stop() {
  server.close();
  if (pool) pool.end().finally(() => process.exit(0));
  else process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
