import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { startService, type ServiceHandle } from '../helpers/service';

/** Raw HTTP, so the test controls Host and the request target exactly (fetch forbids setting Host). */
function rawGet(
  url: string,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

const PUBLIC = 'https://api.caly.example';

const KEY = randomBytes(32).toString('hex');
function productionEnv(tdb: TestDatabase, trustProxy: boolean): Record<string, string> {
  return {
    NODE_ENV: 'production',
    DATABASE_URL: tdb.url,
    HEALTH_TOKEN: randomBytes(16).toString('hex'),
    ENCRYPTION_KEY: KEY, // both replicas share the database, so they share its key
    PUBLIC_BASE_URL: `${PUBLIC}/ignored/path`,
    TRUST_PROXY: String(trustProxy),
    SHUTDOWN_DRAIN_MS: '0',
    RATE_LIMIT_PREFIX: `test-redirect-${randomBytes(4).toString('hex')}`,
  };
}

describe('security edge: HTTPS redirect in production', function () {
  this.timeout(60_000);
  let tdb: TestDatabase;
  let trusted: ServiceHandle;
  let untrusted: ServiceHandle;

  before(async () => {
    tdb = await createTestDatabase();
    [trusted, untrusted] = await Promise.all([startService(productionEnv(tdb, true)), startService(productionEnv(tdb, false))]);
  });
  after(async () => {
    await Promise.all([trusted?.stop(), untrusted?.stop()]);
    await tdb?.drop();
  });

  it('308s plain HTTP to PUBLIC_BASE_URL origin + path + query, never to the Host header', async () => {
    const res = await rawGet(trusted.url, '/api/ping?a=1&b=x%20y', { Host: 'evil.example', 'X-Forwarded-Proto': 'http' });
    expect(res.status).to.equal(308);
    expect(res.headers.location).to.equal(`${PUBLIC}/api/ping?a=1&b=x%20y`);
    expect(res.headers['strict-transport-security']).to.equal('max-age=31536000; includeSubDomains');
    expect(res.headers['x-frame-options']).to.equal('DENY');
  });

  it('keeps the method (308, not 301) and cannot be steered to another host by the path or an absolute target', async () => {
    const post = await rawGet(trusted.url, '/api/auth/login', { Host: 'evil.example' }, 'POST');
    expect(post.status).to.equal(308);
    expect(post.headers.location).to.equal(`${PUBLIC}/api/auth/login`);
    const slashes = await rawGet(trusted.url, '//evil.example/x', { Host: 'evil.example' });
    expect(slashes.status).to.equal(308);
    expect(new URL(slashes.headers.location as string).host).to.equal('api.caly.example');
    const absolute = await rawGet(trusted.url, 'http://evil.example/steal?q=1', { Host: 'evil.example' });
    expect(absolute.status).to.equal(308);
    expect(absolute.headers.location).to.equal(`${PUBLIC}/steal?q=1`);
  });

  it('serves requests the trusted proxy marks as HTTPS', async () => {
    const res = await rawGet(trusted.url, '/api/ping', { 'X-Forwarded-Proto': 'https' });
    expect(res.status).to.equal(200);
  });

  it('does not believe X-Forwarded-Proto without TRUST_PROXY', async () => {
    const res = await rawGet(untrusted.url, '/api/ping', { 'X-Forwarded-Proto': 'https' });
    expect(res.status).to.equal(308);
    expect(res.headers.location).to.equal(`${PUBLIC}/api/ping`);
    await untrusted.waitForLog((l) => l.level === 'warn' && String(l.msg).startsWith('TRUST_PROXY is off'));
  });

  it('never redirects /health/* (probes speak plain HTTP inside the network)', async () => {
    for (const svc of [trusted, untrusted]) {
      const res = await rawGet(svc.url, '/health/live');
      expect(res.status).to.equal(200);
      expect(res.headers.location).to.equal(undefined);
    }
  });
});

describe('security edge: no HTTPS redirect outside production', function () {
  this.timeout(30_000);
  let tdb: TestDatabase;
  let svc: ServiceHandle;
  before(async () => {
    tdb = await createTestDatabase();
    svc = await startService({ DATABASE_URL: tdb.url, PUBLIC_BASE_URL: PUBLIC, RATE_LIMIT_PREFIX: `test-redirect-dev-${randomBytes(4).toString('hex')}` });
  });
  after(async () => {
    await svc?.stop();
    await tdb?.drop();
  });

  it('serves plain HTTP in development and test', async () => {
    const res = await rawGet(svc.url, '/api/ping');
    expect(res.status).to.equal(200);
  });
});
