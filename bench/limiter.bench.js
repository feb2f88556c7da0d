#!/usr/bin/env node
'use strict';
/**
 * Micro-benchmark: the API limiter alone (limitApiPaths(limiters.api)), one request at a time, in
 * builds of the service side by side (run `npm run build` first; older builds from
 * `npx tsc -p . --outDir bench/results/builds/<name>` on their commit).
 *
 *   node bench/limiter.bench.js [--redis URL] [--iterations N] dist bench/results/builds/before
 *
 * Every call runs inside an AsyncLocalStorage context, as under the service's OpenTelemetry context
 * manager (its promise hooks are what each promise costs there), with a budget far too high to trip
 * (as bench/run.js sets it) and one client address. Prints CPU µs per request: the median of ROUNDS
 * timed rounds after a warm-up, builds interleaved round by round. With --redis the counters live
 * in Redis (own key prefix, deleted at the end) and the CPU is this process's only (not Redis's).
 */
const path = require('node:path');
const { AsyncLocalStorage } = require('node:async_hooks');
const { IncomingMessage, ServerResponse } = require('node:http');
const { Socket } = require('node:net');
const { randomBytes } = require('node:crypto');

function parseArgs(argv) {
  const o = { redisUrl: undefined, iterations: 20_000, builds: [] };
  for (let i = 2; i < argv.length; i++) {
    if (argv[i] === '--redis') o.redisUrl = argv[++i];
    else if (argv[i] === '--iterations') o.iterations = Number(argv[++i]);
    else o.builds.push(path.resolve(argv[i]));
  }
  if (o.builds.length === 0) o.builds.push(path.resolve(__dirname, '..', 'dist'));
  return o;
}

const ROUNDS = 7;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function setUp(dir, o, redis, prefix) {
  const { loadConfig } = require(path.join(dir, 'platform/config'));
  const { createLimiters, limitApiPaths } = require(path.join(dir, 'platform/security/rate-limit'));
  const { createLogger } = require(path.join(dir, 'platform/logging/logger'));
  const { Writable } = require('node:stream');
  const { config } = loadConfig({ NODE_ENV: 'test', RATE_LIMIT_API_POINTS: '1000000000', RATE_LIMIT_PREFIX: `${prefix}-${path.basename(dir)}` });
  const { logger } = createLogger({ level: 'error', service: 'bench', environment: 'test', stream: new Writable({ write: (_c, _e, cb) => cb() }) });
  const noop = () => {};
  const instruments = new Proxy({}, { get: () => ({ add: noop, record: noop }) });
  const store = redis ? { kind: 'redis', client: redis } : { kind: 'memory' };
  const limiters = createLimiters({ config, store, logger, instruments, audit: { emit: noop } });
  return limitApiPaths(limiters.api);
}

function context(koa) {
  const req = new IncomingMessage(new Socket());
  req.url = '/api/ping';
  req.method = 'GET';
  const ctx = koa.createContext(req, new ServerResponse(req));
  ctx.state = {};
  return ctx;
}

async function main() {
  const o = parseArgs(process.argv);
  const Koa = require('koa');
  const koa = new Koa();
  let redis;
  if (o.redisUrl) {
    const { Redis } = require('ioredis');
    redis = new Redis(o.redisUrl, { enableOfflineQueue: true });
    await redis.ping();
  }
  const prefix = `bench-limiter-${randomBytes(4).toString('hex')}`;
  const als = new AsyncLocalStorage();
  const next = () => Promise.resolve();
  const subjects = [];
  for (const dir of o.builds) subjects.push({ dir, middleware: await setUp(dir, o, redis, prefix), us: [] });
  const ctxs = Array.from({ length: 64 }, () => context(koa));
  const round = async (s, n) => {
    const t0 = process.cpuUsage();
    for (let i = 0; i < n; i++) await als.run({ request: i }, () => s.middleware(ctxs[i & 63], next));
    const d = process.cpuUsage(t0);
    return (d.user + d.system) / n;
  };
  for (const s of subjects) await round(s, o.iterations); // warm-up
  for (let r = 0; r < ROUNDS; r++) for (const s of subjects) s.us.push(await round(s, o.iterations));
  console.log(
    `API limiter, ${o.redisUrl ? `Redis ${o.redisUrl}` : 'memory store'}, ${o.iterations} requests × ${ROUNDS} rounds, load ${require('node:os').loadavg()[0].toFixed(2)}`,
  );
  for (const s of subjects)
    console.log(
      `  ${path.relative(process.cwd(), s.dir).padEnd(34)} CPU ${median(s.us).toFixed(2)} µs/request  [${Math.min(...s.us).toFixed(2)}–${Math.max(...s.us).toFixed(2)}]`,
    );
  if (redis) {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  }
}

main().catch((err) => {
  console.error(err.stack || String(err));
  process.exitCode = 1;
});
