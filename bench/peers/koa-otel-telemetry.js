'use strict';
/**
 * Preload (`node --require`) of the naive peer: the OpenTelemetry setup a tutorial gives — NodeSDK
 * with getNodeAutoInstrumentations() at its defaults and a Prometheus exporter for metrics. Span
 * and log export follow OTEL_TRACES_EXPORTER / OTEL_LOGS_EXPORTER, which the bench sets to what the
 * service gets (none, or OTLP to the counting receiver with --otlp), so both pay the same export.
 */
const { NodeSDK } = require('@opentelemetry/sdk-node');
const { getNodeAutoInstrumentations } = require('@opentelemetry/auto-instrumentations-node');
const { PrometheusExporter } = require('@opentelemetry/exporter-prometheus');

const prometheus = new PrometheusExporter({ port: 0, host: '127.0.0.1' });
const sdk = new NodeSDK({ metricReaders: [prometheus], instrumentations: [getNodeAutoInstrumentations()] });
sdk.start();
// The app reads the exporter's port for its ready line (the bench scrapes nothing from the peers).
globalThis.__benchPrometheus = prometheus;
process.once('beforeExit', () => sdk.shutdown().catch(() => {}));
