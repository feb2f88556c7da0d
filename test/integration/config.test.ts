import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect } from 'chai';
import { CONFIG_KEYS, ConfigError, loadConfig } from '../../src/platform/config';
import { ROOT, runServiceToExit } from '../helpers/service';

describe('configuration', () => {
  it('starts from an empty environment with the documented defaults', () => {
    const { config, warnings } = loadConfig({});
    expect(config.PORT).to.equal(3000);
    expect(config.METRICS_PORT).to.equal(9464);
    expect(config.DB_POOL_MAX).to.equal(20);
    expect(config.DB_POOL_MIN).to.equal(5);
    expect(config.DB_IDLE_TIMEOUT).to.equal(30000);
    expect(config.DB_CONNECTION_TIMEOUT).to.equal(10000);
    expect(config.DB_STATEMENT_TIMEOUT).to.equal(30000);
    expect(config.SLOW_QUERY_MS).to.equal(500);
    expect(config.SLOW_REQUEST_MS).to.equal(1000);
    expect(config.ENCRYPTION_KEY).to.match(/^[0-9a-f]{64}$/);
    expect(warnings.join('\n')).to.match(/ENCRYPTION_KEY is not set/);
    expect(warnings.join('\n')).not.to.include(config.ENCRYPTION_KEY);
  });

  it('coerces numbers from strings but rejects garbage', () => {
    expect(loadConfig({ PORT: '8080' }).config.PORT).to.equal(8080);
    for (const bad of ['', ' ', 'abc', '80.5', '-1', '70000']) {
      if (bad.trim() === '') continue; // empty means unset
      expect(() => loadConfig({ PORT: bad }), bad).to.throw(ConfigError);
    }
  });

  it('names every bad variable at once, without echoing secret values', () => {
    try {
      loadConfig({
        PORT: 'eighty',
        DB_POOL_MAX: '0',
        ENCRYPTION_KEY: 'not-hex-supersecret',
        LOG_LEVEL: 'loud',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://x',
        DATABASE_URL: 'mysql://root@localhost/db',
      });
      expect.fail('should throw');
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      const msg = (err as ConfigError).message;
      for (const key of ['PORT', 'DB_POOL_MAX', 'ENCRYPTION_KEY', 'LOG_LEVEL', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'DATABASE_URL']) expect(msg).to.include(key);
      expect(msg).not.to.include('supersecret');
      expect((err as ConfigError).problems).to.have.length(6);
    }
  });

  it('production requires the encryption key, a database, a health token and a public URL', () => {
    try {
      loadConfig({ NODE_ENV: 'production' });
      expect.fail('should throw');
    } catch (err) {
      const msg = (err as Error).message;
      for (const key of ['ENCRYPTION_KEY', 'DATABASE_URL', 'HEALTH_TOKEN', 'PUBLIC_BASE_URL']) expect(msg).to.include(key);
    }
  });

  it('rejects DB_POOL_MIN above DB_POOL_MAX and equal service and metrics ports', () => {
    expect(() => loadConfig({ DB_POOL_MIN: '10', DB_POOL_MAX: '5' })).to.throw(/DB_POOL_MIN/);
    expect(() => loadConfig({ PORT: '4000', METRICS_PORT: '4000' })).to.throw(/METRICS_PORT/);
  });

  it('.env.example documents exactly the variables the schema knows', () => {
    const text = readFileSync(resolve(ROOT, '.env.example'), 'utf8');
    const documented = [...text.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]).sort();
    expect(documented).to.deep.equal([...CONFIG_KEYS].sort());
  });

  it('the service refuses to start on bad configuration: exit 1, one readable message, no stack', async function () {
    this.timeout(20_000);
    const { code, stderr, stdout } = await runServiceToExit({ PORT: 'x', ENCRYPTION_KEY: 'short', SLOW_QUERY_MS: '-5' });
    expect(code).to.equal(1);
    expect(stderr).to.match(/^Caly API cannot start\. Invalid configuration:/);
    for (const key of ['PORT', 'ENCRYPTION_KEY', 'SLOW_QUERY_MS']) expect(stderr).to.include(key);
    expect(stderr).not.to.match(/\n\s+at /); // no stack trace
    expect(stdout).to.equal('');
  });
});
