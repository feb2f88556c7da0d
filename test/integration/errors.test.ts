import { SpanStatusCode } from '@opentelemetry/api';
import { expect } from 'chai';
import {
  AppError,
  AuthenticationError,
  AuthorizationError,
  ConflictError,
  DatabaseError,
  ExternalServiceError,
  NotFoundError,
  RateLimitError,
  ValidationError,
} from '../../src/platform/errors/app-error';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { startInProcessApp, type InProcessApp } from '../helpers/inprocess';
import { metricTotal } from '../helpers/metrics';
import { spanExporter } from '../setup/telemetry';

interface Envelope {
  error: { code: string; message: string; requestId: string; timestamp: string; details?: unknown; retryAfter?: number };
}

const thrown: Record<string, () => unknown> = {
  validation: () => new ValidationError('Request validation failed', [{ path: '/body/email', message: 'must be a valid email address' }]),
  authn: () => new AuthenticationError(),
  authz: () => new AuthorizationError(),
  missing: () => new NotFoundError('Call'),
  conflict: () => new ConflictError(),
  limited: () => new RateLimitError(42),
  database: () => new DatabaseError(),
  external: () => new ExternalServiceError('exotel', 'timeout talking to the API'),
  unknown: () => new Error('relation "secret_table" does not exist at character 15'),
  pg: () => Object.assign(new Error('duplicate key value violates unique constraint "users_email_key"'), { code: '23505', severity: 'ERROR' }),
  pgdown: () => Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01', severity: 'FATAL' }),
  string: () => 'a thrown string',
};

const expected: Record<string, [number, string]> = {
  validation: [400, 'VALIDATION_ERROR'],
  authn: [401, 'AUTHENTICATION_ERROR'],
  authz: [403, 'AUTHORIZATION_ERROR'],
  missing: [404, 'NOT_FOUND'],
  conflict: [409, 'CONFLICT'],
  limited: [429, 'RATE_LIMIT_EXCEEDED'],
  database: [500, 'DATABASE_ERROR'],
  external: [503, 'EXTERNAL_SERVICE_ERROR'],
  unknown: [500, 'INTERNAL_ERROR'],
  pg: [409, 'CONFLICT'],
  pgdown: [503, 'SERVICE_UNAVAILABLE'],
  string: [500, 'INTERNAL_ERROR'],
};

function assertEnvelope(body: Envelope, res: Response, code: string): void {
  expect(Object.keys(body)).to.deep.equal(['error']);
  expect(body.error.code).to.equal(code);
  expect(body.error.message).to.be.a('string').and.not.empty;
  expect(body.error.requestId).to.match(/^[0-9a-f]{32}-[0-9a-f]{16}$/);
  expect(body.error.requestId).to.equal(res.headers.get('x-request-id'));
  expect(Date.parse(body.error.timestamp)).to.be.closeTo(Date.now(), 60_000);
  expect(res.headers.get('content-type')).to.match(/^application\/json/);
}

describe('errors: one envelope for every error path', function () {
  let tdb: TestDatabase;
  let app: InProcessApp;
  let prod: InProcessApp;

  const plugins = [
    (router: import('@koa/router').default<import('../../src/platform/context/state').AppState>) => {
      router.get('/test/throw/:kind', (ctx) => {
        const make = thrown[ctx.params.kind!];
        if (!make) throw new NotFoundError('Kind');
        throw make();
      });
      router.post('/test/echo', (ctx) => {
        ctx.body = { got: ctx.request.body };
      });
      router.get('/test/slow', async (ctx) => {
        await new Promise((r) => setTimeout(r, 400));
        ctx.body = { late: true };
      });
    },
  ];

  before(async () => {
    tdb = await createTestDatabase();
    app = await startInProcessApp({ databaseUrl: tdb.url, plugins, env: { BODY_LIMIT_BYTES: '1024', REQUEST_TIMEOUT_MS: '150' } });
    prod = await startInProcessApp({
      databaseUrl: tdb.url,
      plugins,
      env: {
        NODE_ENV: 'production',
        ENCRYPTION_KEY: 'a'.repeat(64),
        HEALTH_TOKEN: 'h'.repeat(32),
        PUBLIC_BASE_URL: 'https://api.caly.test',
        TRUST_PROXY: 'true',
      },
    });
  });
  after(async () => {
    await app?.close();
    await prod?.close();
    await tdb?.drop();
  });

  for (const kind of Object.keys(thrown)) {
    const [status, code] = expected[kind]!;
    it(`${kind} → ${status} ${code}, span ${status >= 500 ? 'ERROR' : 'UNSET (a 4xx is no server error)'} with exception event, counted in caly.errors`, async () => {
      spanExporter.reset();
      const before = await metricTotal('caly.errors', (a) => a['caly.error.code'] === code && a['http.route'] === '/test/throw/:kind');
      const res = await fetch(`${app.url}/test/throw/${kind}`);
      const body = (await res.json()) as Envelope;
      expect(res.status).to.equal(status);
      assertEnvelope(body, res, code);
      const span = spanExporter.getFinishedSpans().find((s) => s.spanContext().traceId === body.error.requestId.slice(0, 32) && s.kind === 1);
      expect(span, 'server span').to.exist;
      expect(span!.name).to.equal('GET /test/throw/:kind');
      expect(span!.status.code).to.equal(status >= 500 ? SpanStatusCode.ERROR : SpanStatusCode.UNSET);
      expect(span!.events.some((e) => e.name === 'exception')).to.equal(true);
      expect(span!.attributes['caly.error.code']).to.equal(code);
      const after = await metricTotal('caly.errors', (a) => a['caly.error.code'] === code && a['http.route'] === '/test/throw/:kind');
      expect(after - before).to.equal(1);
    });
  }

  it('keeps validation details and rate-limit retryAfter with a Retry-After header', async () => {
    const v = (await (await fetch(`${app.url}/test/throw/validation`)).json()) as Envelope;
    expect(v.error.details).to.deep.equal([{ path: '/body/email', message: 'must be a valid email address' }]);
    const res = await fetch(`${app.url}/test/throw/limited`);
    const l = (await res.json()) as Envelope;
    expect(l.error.retryAfter).to.equal(42);
    expect(res.headers.get('retry-after')).to.equal('42');
  });

  it('production: unknown errors are a generic 500 with no driver text, no stack', async () => {
    for (const kind of ['unknown', 'pg', 'string']) {
      const res = await fetch(`${prod.url}/test/throw/${kind}`, { headers: { 'X-Forwarded-Proto': 'https' } }); // as behind the TLS-terminating proxy: production redirects plain HTTP
      const text = await res.text();
      // a unique violation is the client's conflict (409), still without the driver's text
      expect(res.status).to.equal(kind === 'pg' ? 409 : 500);
      expect(text).not.to.match(/secret_table|duplicate key|users_email_key|a thrown string|at .*\.ts:\d+|stack/);
      const body = JSON.parse(text) as Envelope;
      expect(body.error.message).to.equal(kind === 'pg' ? 'Resource already exists' : 'An unexpected error occurred');
    }
    // ...while the log line keeps the real cause for the engineer reading it
    const line = prod.logs.find((l) => l.error_code === 'INTERNAL_ERROR' && JSON.stringify(l).includes('secret_table'));
    expect(line, 'error log line with the cause').to.exist;
    expect(line!.level).to.equal('error');
  });

  it('malformed JSON → 400 BAD_REQUEST; non-object JSON → 400; body too large → 413', async () => {
    const bad = await fetch(`${app.url}/test/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' });
    expect(bad.status).to.equal(400);
    assertEnvelope((await bad.json()) as Envelope, bad, 'BAD_REQUEST');
    const scalar = await fetch(`${app.url}/test/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '"just a string"' });
    expect(scalar.status).to.equal(400);
    const big = await fetch(`${app.url}/test/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pad: 'x'.repeat(4096) }),
    });
    expect(big.status).to.equal(413);
    assertEnvelope((await big.json()) as Envelope, big, 'PAYLOAD_TOO_LARGE');
    const ok = await fetch(`${app.url}/test/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(await ok.json()).to.deep.equal({ got: { a: 1 } });
  });

  it('unknown route → 404 with no http.route; wrong method → 405 with Allow', async () => {
    spanExporter.reset();
    const nf = await fetch(`${app.url}/no/such/path?x=1`);
    expect(nf.status).to.equal(404);
    const nfBody = (await nf.json()) as Envelope;
    assertEnvelope(nfBody, nf, 'NOT_FOUND');
    const span = spanExporter.getFinishedSpans().find((s) => `${s.spanContext().traceId}-${s.spanContext().spanId}` === nfBody.error.requestId);
    expect(span!.name).to.equal('GET');
    expect(span!.attributes).not.to.have.property('http.route');

    const wm = await fetch(`${app.url}/api/ping`, { method: 'DELETE' });
    expect(wm.status).to.equal(405);
    expect(wm.headers.get('allow')).to.match(/GET/);
    assertEnvelope((await wm.json()) as Envelope, wm, 'METHOD_NOT_ALLOWED');
  });

  it('a handler past REQUEST_TIMEOUT_MS → 504 TIMEOUT', async () => {
    const res = await fetch(`${app.url}/test/slow`);
    expect(res.status).to.equal(504);
    assertEnvelope((await res.json()) as Envelope, res, 'TIMEOUT');
  });

  it('AppError subclasses carry their name (the old backend lost them all to INTERNAL_ERROR)', () => {
    for (const kind of Object.keys(thrown)) {
      const e = thrown[kind]!();
      if (e instanceof AppError) expect(e.name).to.equal(e.constructor.name);
    }
  });
});
