'use strict';
/**
 * Peer: the Fastify production stack a user would pick instead of the service — fastify 5 with
 * @fastify/helmet, @fastify/rate-limit (a limit far too high to trip), pino request logging to
 * stdout (a file in the bench), and a prom-client request-duration histogram served on /metrics.
 * No tracing. Same two routes as bench/baseline/koa-bare.js (/api/info runs the same query through
 * a pg Pool of DB_POOL_MAX). Prints a pino line with msg "listening" and the port when ready.
 */
const Fastify = require('fastify');
const pg = require('pg');
const client = require('prom-client');

const app = Fastify({ logger: true, trustProxy: true });
const pool = process.env.DATABASE_URL ? new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_MAX || 20) }) : undefined;

const registry = new client.Registry();
const duration = new client.Histogram({
  name: 'http_server_request_duration_seconds',
  help: 'Duration of HTTP server requests.',
  labelNames: ['http_request_method', 'http_route', 'http_response_status_code'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
  registers: [registry],
});

app.addHook('onRequest', async (req) => {
  req.benchStart = process.hrtime.bigint();
});
app.addHook('onResponse', async (req, reply) => {
  const s = Number(process.hrtime.bigint() - req.benchStart) / 1e9;
  duration.observe({ http_request_method: req.method, http_route: req.routeOptions.url ?? 'unmatched', http_response_status_code: reply.statusCode }, s);
});

async function main() {
  await app.register(require('@fastify/helmet'));
  await app.register(require('@fastify/rate-limit'), { max: 1_000_000_000, timeWindow: 60_000 });
  app.get('/api/ping', async () => ({ ok: true, ts: Date.now() }));
  app.get('/api/info', async (req, reply) => {
    if (!pool) return reply.code(503).send();
    const { rows } = await pool.query('SELECT value FROM app_meta WHERE key = $1', ['installation_id']);
    return { version: '0.1.0', installationId: rows[0] ? rows[0].value : null };
  });
  app.get('/metrics', { config: { rateLimit: false } }, async (req, reply) => {
    reply.type(registry.contentType);
    return registry.metrics();
  });
  await app.listen({ port: Number(process.env.PORT || 0), host: '127.0.0.1' });
  app.server.keepAliveTimeout = 65_000;
  app.log.info({ port: app.server.address().port }, 'listening');
}

function stop() {
  app
    .close()
    .then(() => (pool ? pool.end() : undefined))
    .finally(() => process.exit(0));
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
