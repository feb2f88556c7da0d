'use strict';
/**
 * One process per variant, to decide how the server span is produced (issue 2: "choose by
 * measurement"). Every variant serves GET /api/ping on Koa 3 + @koa/router:
 *   bare          no telemetry at all (the reference)
 *   instrumented  @opentelemetry/instrumentation-http + instrumentation-koa (the stock way)
 *   middleware    the service's own request-span middleware + hand-kept duration histogram
 * Both telemetry variants record spans into a counting processor (no export, so only the
 * production of spans is compared) and keep http.server.request.duration with an http.route label.
 * GET /__stats answers the number of server spans ended and the histogram's request count, so the
 * runner can check that no variant wins by dropping telemetry.
 */
const path = require('node:path');
const VARIANT = process.env.VARIANT ?? 'bare';
const dist = (p) => path.join(__dirname, '..', '..', 'dist', p);

let stats = () => ({ spans: 0, histogram: 0 });
let middleware;

if (VARIANT !== 'bare') {
  const { context, metrics, propagation, trace } = require('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
  const { W3CTraceContextPropagator } = require('@opentelemetry/core');
  const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node');
  const { MeterProvider } = require('@opentelemetry/sdk-metrics');
  const { PrometheusExporter } = require('@opentelemetry/exporter-prometheus');
  const { HttpDurationProducer } = require(dist('platform/telemetry/http-duration.js'));

  let spans = 0;
  const counting = {
    onStart() {},
    onEnding() {},
    onEnd(s) {
      if (s.kind === 1) spans++;
    },
    forceFlush: async () => {},
    shutdown: async () => {},
  };
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const tracerProvider = new NodeTracerProvider({ spanProcessors: [counting] });
  trace.setGlobalTracerProvider(tracerProvider);
  const httpDuration = new HttpDurationProducer();
  const exporter = new PrometheusExporter({
    preventServerStart: true,
    withoutScopeInfo: true,
    metricProducers: VARIANT === 'middleware' ? [httpDuration] : [],
  });
  const meterProvider = new MeterProvider({ readers: [exporter] });
  metrics.setGlobalMeterProvider(meterProvider);

  if (VARIANT === 'instrumented') {
    const { registerInstrumentations } = require('@opentelemetry/instrumentation');
    const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
    const { KoaInstrumentation } = require('@opentelemetry/instrumentation-koa');
    registerInstrumentations({ tracerProvider, meterProvider, instrumentations: [new HttpInstrumentation(), new KoaInstrumentation()] });
    stats = async () => {
      const { resourceMetrics } = await exporter.collect();
      let histogram = 0;
      for (const sm of resourceMetrics.scopeMetrics)
        for (const m of sm.metrics)
          if (m.descriptor.name === 'http.server.request.duration')
            for (const dp of m.dataPoints) if (dp.attributes['http.route'] === '/api/ping') histogram += dp.value.count;
      return { spans, histogram };
    };
  } else {
    const { createInstruments } = require(dist('platform/telemetry/instruments.js'));
    const { requestSpan } = require(dist('platform/telemetry/request-span.js'));
    const instruments = createInstruments(meterProvider.getMeter('bench'), httpDuration);
    const { pipeline } = require(dist('platform/pipeline/index.js'));
    middleware = pipeline([requestSpan({ instruments, slowRequestMs: 1000 })]);
    stats = async () => ({ spans, histogram: httpDuration.totals((a) => a['http.route'] === '/api/ping').count });
  }
}

const Koa = require('koa');
const Router = require('@koa/router');
const app = new Koa();
const router = new Router();
router.get('/api/ping', (ctx) => {
  ctx.body = { ok: true, ts: Date.now() };
});
router.get('/__stats', async (ctx) => {
  ctx.body = await stats();
});
if (middleware) app.use(middleware);
app.use(router.routes());
const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port: server.address().port, variant: VARIANT })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
