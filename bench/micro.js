'use strict';
/**
 * Micro-benchmarks of single request-path pieces, in CPU µs per operation (process.cpuUsage, so a
 * busy shared machine inflates them less than wall-clock figures). Each candidate is run in
 * interleaved rounds and the median reported. Used to choose between implementations before
 * confirming with the end-to-end benchmark (bench/run.js).
 *
 *   npm run build && node bench/micro.js [rounds]
 *
 * The loggers write to fd 1 through SonicBoom exactly as the service does, so run it with stdout
 * sent to a file: `node bench/micro.js > /tmp/micro.log` (results go to stderr).
 */
const path = require('node:path');
const dist = path.join(__dirname, '..', 'dist', 'platform');

const { loadConfig } = require(`${dist}/config`);
const { startTelemetry } = require(`${dist}/telemetry/sdk`);
startTelemetry(loadConfig({ NODE_ENV: 'test', OTEL_METRICS_EXPORTER: 'none' }).config); // patches winston as in the service
const { createLogger, lineWriterFor } = require(`${dist}/logging/logger`);
const { requestTimeout } = require(`${dist}/http/timeout`);
const { pipeline } = require(`${dist}/pipeline`);
const api = require('@opentelemetry/api');

if (process.stdout.isTTY) {
  console.error('send stdout to a file: node bench/micro.js > /tmp/micro.log');
  process.exit(1);
}

const { logger, flush } = createLogger({ level: 'info', service: 'caly-api', environment: 'production' });
const span = api.trace.getTracer('micro').startSpan('GET /api/ping');
const fields = () => ({
  method: 'GET',
  route: '/api/ping',
  path: '/api/ping',
  status: 200,
  duration_ms: 0.412,
  request_id: span.spanContext().traceId,
  client_ip: '203.0.113.7',
  user_agent: undefined,
});
const fast = lineWriterFor(logger);

// The timeout middleware as it was (setTimeout + Promise.race per request), for comparison.
function raceTimeout(timeoutMs) {
  return async function (ctx, next) {
    let timer;
    const deadline = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
    });
    try {
      await Promise.race([next(), deadline]);
    } finally {
      clearTimeout(timer);
    }
  };
}
const queueTimeout = pipeline([requestTimeout(30_000)]);
const race = raceTimeout(30_000);
const nextFn = () => Promise.resolve();

// The destination alone: one ~400-byte line per event-loop turn, as requests arrive.
const SonicBoom = require('sonic-boom');
const LINE = `${JSON.stringify({ time: new Date().toISOString(), level: 'info', ...fields(), msg: 'request', pad: 'x'.repeat(120) })}\n`;
const sonicNow = new SonicBoom({ fd: 1, sync: false, minLength: 0 });
const sonicBatched = new SonicBoom({ fd: 1, sync: false, minLength: 4096, periodicFlush: 100 });
const turn = () => new Promise((res) => setImmediate(res));

// The server span's own work, as request-span.ts does it (no context, no histogram), and the
// security headers as headers.ts writes them: compared in bench/README.md ("third round") with what
// taking each away saves end to end.
const tracer = api.trace.getTracer('caly-api.http');
const serverSpan = () => {
  const s = tracer.startSpan(
    'GET',
    {
      kind: api.SpanKind.SERVER,
      attributes: {
        'http.request.method': 'GET',
        'url.path': '/api/ping',
        'url.scheme': 'https',
        'client.address': '203.0.113.7',
        'user_agent.original': 'caly-bench/1 (autocannon)',
        'network.protocol.version': '1.1',
      },
    },
    api.ROOT_CONTEXT,
  );
  const sc = s.spanContext();
  const id = `${sc.traceId}-${sc.spanId}`;
  s.setAttribute('http.route', '/api/ping');
  s.updateName('GET /api/ping');
  s.setAttribute('http.response.status_code', 200);
  s.end();
  return id;
};
const { IncomingMessage, ServerResponse } = require('node:http');
const { securityHeaderList } = require(`${dist}/security/headers`);
const headerOps = securityHeaderList({ hstsPreload: false });
const incoming = new IncomingMessage(null);
const withHeaders = () => {
  const res = new ServerResponse(incoming);
  for (const [name, value] of headerOps) {
    if (value === undefined) res.removeHeader(name);
    else res.setHeader(name, value);
  }
};

// Routing: a table of the service's size and shapes (~30 layers), matched as @koa/router does it
// and through the service's cache (api/route-match-cache.ts).
const Router = require('@koa/router');
const { cacheRouteMatches } = require(`${dist}/api/route-match-cache`);
const routeTable = () => {
  const r = new Router();
  const h = async () => undefined;
  for (const p of ['/api/auth/login', '/api/auth/logout', '/api/auth/refresh', '/api/users', '/api/users/:id', '/api/tenants', '/api/tenants/:id']) {
    r.get(p, h);
    r.post(p, h);
  }
  for (const p of ['/api/calls', '/api/calls/:id', '/api/calls/:id/events', '/api/audit', '/api/audit/verify', '/api/security/dependencies']) r.get(p, h);
  for (const p of ['/webhooks/exotel/status', '/webhooks/exotel/passthru', '/webhooks/exotel/applet']) r.post(p, h);
  for (const p of ['/health', '/health/live', '/health/ready', '/health/detailed', '/openapi.json', '/openapi.yaml', '/docs']) r.get(p, h);
  r.get('/api/info', h);
  r.get('/api/ping', h);
  return r;
};
const plainRouter = routeTable();
const cachedRouter = routeTable();
cacheRouteMatches(cachedRouter);

const candidates = {
  'route match, GET /api/ping, @koa/router (~30 layers)': { n: 200_000, sync: () => plainRouter.match('/api/ping', 'GET') },
  'route match, GET /api/ping, through the cache': { n: 200_000, sync: () => cachedRouter.match('/api/ping', 'GET') },
  'server span: start with six attributes, two more, rename, end': { n: 100_000, sync: serverSpan },
  'security headers on a fresh ServerResponse': { n: 100_000, sync: withHeaders },
  'a fresh ServerResponse alone (subtract from the line above)': { n: 100_000, sync: () => new ServerResponse(incoming) },
  'sonic-boom write per turn, minLength 0 (as used)': { n: 20_000, async: () => (sonicNow.write(LINE), turn()) },
  'sonic-boom write per turn, minLength 4096 + periodicFlush 100 ms': { n: 20_000, async: () => (sonicBatched.write(LINE), turn()) },
  'event-loop turn alone (subtract from the two above)': { n: 20_000, async: turn },
  'access line: winston logger.log (before)': {
    n: 20_000,
    sync: () => api.context.with(api.trace.setSpan(api.ROOT_CONTEXT, span), () => logger.log('info', 'request', fields())),
  },
  'access line: lineWriterFor (after)': {
    n: 20_000,
    sync: () => api.context.with(api.trace.setSpan(api.ROOT_CONTEXT, span), () => fast('info', 'request', fields(), span.spanContext())),
  },
  'timeout: setTimeout + Promise.race (before)': { n: 50_000, async: () => race({}, nextFn) },
  'timeout: deadline queue (after)': { n: 50_000, async: () => queueTimeout({}, nextFn) },
  'new Date().toISOString()': { n: 200_000, sync: () => new Date().toISOString() },
};

async function measure(c) {
  const t0 = process.cpuUsage();
  if (c.sync) for (let i = 0; i < c.n; i++) c.sync();
  else for (let i = 0; i < c.n; i++) await c.async();
  // CPU time, not wall time: the settle below is idle, but the write completions it lets run
  // (SonicBoom's fs.write callbacks) are part of what a log line costs.
  await new Promise((res) => setTimeout(res, 100));
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / c.n;
}

async function main() {
  const rounds = Number(process.argv[2] || 7);
  const results = Object.fromEntries(Object.keys(candidates).map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [name, c] of Object.entries(candidates)) {
      results[name].push(await measure(c));
    }
  }
  for (const [name, xs] of Object.entries(results)) {
    const s = xs.slice(1).sort((a, b) => a - b); // round 1 is JIT warm-up
    console.error(`${s[Math.floor(s.length / 2)].toFixed(2).padStart(7)} µs  (${s[0].toFixed(2)}–${s[s.length - 1].toFixed(2)})  ${name}`);
  }
  flush();
  sonicNow.flushSync();
  sonicBatched.flushSync();
  process.exit(0);
}
main();
