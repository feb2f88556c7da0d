/**
 * The prototype-key guard and validate() inside the real app (createApp: every middleware in its
 * order, real PostgreSQL), served over HTTP in process. The route below is registered by this test
 * through AppDeps.plugins; the service itself gains no route.
 */
import type { JSONSchemaType } from 'ajv';
import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { startInProcessApp, type InProcessApp } from '../helpers/inprocess';
import { spanExporter } from '../setup/telemetry';
import { schemas, validate } from '../../src/platform/validation';

interface Signup {
  name: string;
  email: string;
  phone: string;
}
const signup: JSONSchemaType<Signup> = {
  type: 'object',
  properties: { name: schemas.personName, email: schemas.email, phone: schemas.phone },
  required: ['name', 'email', 'phone'],
};

interface Envelope {
  error: { code: string; requestId: string; details?: Array<{ path: string; message: string }> };
}

describe('validation in the real app (createApp)', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let app: InProcessApp;

  before(async () => {
    db = await createTestDatabase('caly_validation');
    app = await startInProcessApp({
      databaseUrl: db.url,
      plugins: [
        (router) =>
          router.post('/validation-probe/signups', validate<{ body: Signup }>({ body: signup }), (ctx) => {
            ctx.body = ctx.state.input.body;
          }),
      ],
    });
  });
  after(async () => {
    await app?.close();
    await db?.drop();
  });

  const post = (path: string, body: string) =>
    fetch(app.url + path, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'caly-test' }, body });

  it('a body with constructor/prototype keys is refused before routing, even on an unknown path', async () => {
    const res = await post('/no/such/route', '{"settings":{"constructor":{"prototype":{"polluted":true}}}}');
    expect(res.status).to.equal(400);
    const body = (await res.json()) as Envelope;
    expect(body.error.code).to.equal('VALIDATION_ERROR');
    expect(body.error.details).to.deep.equal([{ path: '/body/settings/constructor', message: 'is a reserved key and not allowed' }]);
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
    // The decision is visible in the request's span like every other error response.
    const span = spanExporter.getFinishedSpans().find((s) => `${s.spanContext().traceId}-${s.spanContext().spanId}` === body.error.requestId);
    expect(span?.attributes['caly.error.code']).to.equal('VALIDATION_ERROR');
  });

  it('an ordinary body to an unknown path is still a 404 (the guard only refuses what it must)', async () => {
    const res = await post('/no/such/route', '{"note":"constructor and prototype are just words here"}');
    expect(res.status).to.equal(404);
  });

  it('validate() on a route: sanitised input on success, every error at once on failure', async () => {
    const ok = await post('/validation-probe/signups', JSON.stringify({ name: ' José ', email: 'JOSE@Example.com', phone: '09876543210' }));
    expect(ok.status).to.equal(200);
    expect(await ok.json()).to.deep.equal({ name: 'José', email: 'jose@example.com', phone: '+919876543210' });

    const bad = await post('/validation-probe/signups', JSON.stringify({ name: 'x;drop', email: 'nope', isAdmin: true }));
    expect(bad.status).to.equal(400);
    const body = (await bad.json()) as Envelope;
    expect(body.error.code).to.equal('VALIDATION_ERROR');
    expect(body.error.details).to.deep.equal([
      { path: '/body/phone', message: 'is required' },
      { path: '/body/isAdmin', message: 'is not an allowed field' },
      { path: '/body/name', message: "must contain only letters, digits, spaces and ' - . ," },
      { path: '/body/email', message: 'must be a valid email address' },
    ]);
  });
});
