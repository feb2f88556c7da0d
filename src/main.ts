/**
 * Entry point. Order matters: configuration is validated first (a bad value stops startup with
 * one readable message), telemetry starts second, and only then is the rest of the service
 * (ioredis, winston) required, so that the instrumentations see those modules load.
 */
import './platform/lifecycle/runtime-flags'; // V8 settings, before anything allocates
import { ConfigError, loadConfig, type LoadedConfig } from './platform/config';
import { startTelemetry } from './platform/telemetry/sdk';

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

let loaded: LoadedConfig;
try {
  loaded = loadConfig(process.env);
} catch (err) {
  if (err instanceof ConfigError) fail(`Caly API cannot start. ${err.message}`);
  throw err;
}

const telemetry = startTelemetry(loaded.config);

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { runServer } = require('./server') as typeof import('./server');

runServer(loaded.config, telemetry, loaded.warnings).then(
  (svc) => svc.lifecycle.installSignalHandlers(),
  (err: Error) => fail(`Caly API failed to start: ${err.message}`),
);
