import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { routeCsp } from '../../src/platform/security/headers';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { startInProcessApp, type InProcessApp } from '../helpers/inprocess';
import { startService, type ServiceHandle } from '../helpers/service';

/** Issue 3 item 1 values, exactly. */
const EXPECTED: Record<string, string> = {
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'content-security-policy': "default-src 'none';frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'x-xss-protection': '0',
  'referrer-policy': 'no-referrer',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=(), accelerometer=(), gyroscope=(), magnetometer=()',
};

function expectSecurityHeaders(res: Response, what: string): void {
  for (const [name, value] of Object.entries(EXPECTED)) expect(res.headers.get(name), `${what}: ${name}`).to.equal(value);
  expect(res.headers.get('x-powered-by'), `${what}: x-powered-by`).to.equal(null);
  expect(res.headers.get('server'), `${what}: server`).to.equal(null);
}

const APP_ORIGIN = 'https://app.caly.example';

describe('security edge: headers and CORS (service process)', function () {
  this.timeout(60_000);
  let tdb: TestDatabase;
  let svc: ServiceHandle;

  before(async () => {
    tdb = await createTestDatabase();
    svc = await startService({
      DATABASE_URL: tdb.url,
      REDIS_URL: 'redis://127.0.0.1:6379',
      RATE_LIMIT_PREFIX: `test-headers-${randomBytes(4).toString('hex')}`,
      RATE_LIMIT_API_POINTS: '5',
      CORS_ORIGINS: `${APP_ORIGIN}, https://admin.caly.example/`,
    });
  });
  after(async () => {
    await svc?.stop();
    await tdb?.drop();
  });

  it('are on 200, 404, 405, 400, 401 and health responses alike', async () => {
    const cases: Array<[string, Promise<Response>, number]> = [
      ['200 /api/ping', fetch(`${svc.url}/api/ping`), 200],
      ['404 unknown route', fetch(`${svc.url}/no/such/route`), 404],
      ['405 wrong method', fetch(`${svc.url}/api/ping`, { method: 'DELETE' }), 405],
      ['400 malformed JSON', fetch(`${svc.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":' }), 400],
      [
        '401 placeholder login',
        fetch(`${svc.url}/api/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'h@x.example', password: 'p' }),
        }),
        401,
      ],
      ['200 /health/live', fetch(`${svc.url}/health/live`), 200],
    ];
    for (const [what, pending, status] of cases) {
      const res = await pending;
      expect(res.status, what).to.equal(status);
      expectSecurityHeaders(res, what);
      await res.arrayBuffer();
    }
  });

  it('are on 429 responses, next to the rate-limit headers and the envelope', async () => {
    let last: Response | undefined;
    for (let i = 0; i < 8 && last?.status !== 429; i++) {
      last = await fetch(`${svc.url}/api/ping`);
      if (last.status !== 429) await last.arrayBuffer();
    }
    expect(last!.status).to.equal(429);
    expectSecurityHeaders(last!, '429');
    expect(last!.headers.get('retry-after')).to.match(/^\d+$/);
    const body = (await last!.json()) as { error: { code: string; retryAfter: number } };
    expect(body.error.code).to.equal('RATE_LIMIT_EXCEEDED');
  });

  it('CORS: an allowed origin is echoed, with credentials and the exposed headers', async () => {
    const res = await fetch(`${svc.url}/health/live`, { headers: { Origin: APP_ORIGIN } });
    expect(res.headers.get('access-control-allow-origin')).to.equal(APP_ORIGIN);
    expect(res.headers.get('access-control-allow-credentials')).to.equal('true');
    const exposed = res.headers
      .get('access-control-expose-headers')!
      .split(',')
      .map((s) => s.trim().toLowerCase());
    expect(exposed).to.include.members(['x-request-id', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'retry-after']);
    expect(res.headers.get('vary')).to.match(/origin/i);
    // a trailing slash in CORS_ORIGINS is normalised away
    const admin = await fetch(`${svc.url}/health/live`, { headers: { Origin: 'https://admin.caly.example' } });
    expect(admin.headers.get('access-control-allow-origin')).to.equal('https://admin.caly.example');
  });

  it('CORS: a response to a request without Origin still says Vary: Origin (a shared cache must not hand it to a browser)', async () => {
    const res = await fetch(`${svc.url}/health/live`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('vary')).to.equal('Origin');
    expect(res.headers.get('access-control-allow-origin')).to.equal(null);
  });

  it('CORS: a preflight from an allowed origin lists the allowed headers and methods', async () => {
    const res = await fetch(`${svc.url}/api/auth/login`, {
      method: 'OPTIONS',
      headers: {
        Origin: APP_ORIGIN,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type,authorization,x-request-id,traceparent',
      },
    });
    expect(res.status).to.equal(204);
    expect(res.headers.get('access-control-allow-origin')).to.equal(APP_ORIGIN);
    const allowed = res.headers
      .get('access-control-allow-headers')!
      .split(',')
      .map((s) => s.trim().toLowerCase());
    expect(allowed).to.include.members(['content-type', 'authorization', 'x-request-id', 'traceparent']);
    expect(res.headers.get('access-control-allow-methods')).to.include('POST');
    expectSecurityHeaders(res, 'preflight');
  });

  it('CORS: a disallowed origin gets no CORS headers and no 500, on requests and preflights', async () => {
    for (const origin of ['https://evil.example', 'https://app.caly.example.evil.example', 'null', 'http://app.caly.example']) {
      const res = await fetch(`${svc.url}/health/live`, { headers: { Origin: origin } });
      expect(res.status, origin).to.equal(200);
      expect(res.headers.get('access-control-allow-origin'), origin).to.equal(null);
      expect(res.headers.get('access-control-expose-headers'), origin).to.equal(null);
      expect(res.headers.get('access-control-allow-credentials'), origin).to.equal(null);
      await res.arrayBuffer();
      const pre = await fetch(`${svc.url}/health/live`, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'GET' } });
      expect(pre.status, `preflight ${origin}`).to.be.below(500);
      expect(pre.headers.get('access-control-allow-origin'), `preflight ${origin}`).to.equal(null);
      await pre.arrayBuffer();
    }
  });
});

describe('security edge: headers (in process)', function () {
  this.timeout(30_000);
  let tdb: TestDatabase;
  let app: InProcessApp;
  before(async () => {
    tdb = await createTestDatabase();
    app = await startInProcessApp({
      databaseUrl: tdb.url,
      env: { HSTS_PRELOAD: 'true' },
      plugins: [
        (router) =>
          router.get('/test/docs', routeCsp({ defaultSrc: ["'self'"], styleSrc: ["'self'", "'unsafe-inline'"], frameAncestors: ["'none'"] }), (ctx) => {
            ctx.type = 'text/html';
            ctx.body = '<!doctype html><title>docs</title>';
          }),
        (router) =>
          router.get('/test/boom', () => {
            throw new Error('kaboom');
          }),
      ],
    });
  });
  after(async () => {
    await app?.close();
    await tdb?.drop();
  });

  it('HSTS carries preload only when HSTS_PRELOAD=true', async () => {
    const res = await fetch(`${app.url}/api/ping`);
    expect(res.headers.get('strict-transport-security')).to.equal('max-age=31536000; includeSubDomains; preload');
  });

  it('a route can relax the CSP for itself only', async () => {
    const docs = await fetch(`${app.url}/test/docs`);
    expect(docs.headers.get('content-security-policy')).to.equal("default-src 'self';style-src 'self' 'unsafe-inline';frame-ancestors 'none'");
    const api = await fetch(`${app.url}/api/ping`);
    expect(api.headers.get('content-security-policy')).to.equal("default-src 'none';frame-ancestors 'none'");
  });

  it('a 500 from a failing handler still carries every security header', async () => {
    const res = await fetch(`${app.url}/test/boom`);
    expect(res.status).to.equal(500);
    expect(res.headers.get('x-frame-options')).to.equal('DENY');
    expect(res.headers.get('content-security-policy')).to.equal("default-src 'none';frame-ancestors 'none'");
    expect(res.headers.get('permissions-policy')).to.equal(EXPECTED['permissions-policy']);
  });
});
