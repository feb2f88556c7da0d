/**
 * Loaded by mocha before any test file (see .mocharc.json), so that the ioredis and winston
 * instrumentations are registered before those modules are first required in this process.
 * In-process tests read finished spans from `spanExporter`.
 */
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { loadConfig } from '../../src/platform/config';
import { startTelemetry, type Telemetry } from '../../src/platform/telemetry/sdk';

export const spanExporter = new InMemorySpanExporter();

const { config } = loadConfig({ NODE_ENV: 'test', OTEL_SERVICE_NAME: 'caly-api-test' });
export const telemetry: Telemetry = startTelemetry(config, { spanExporter });
