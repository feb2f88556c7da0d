/**
 * Validation over real HTTP: a small Koa app made of the service's own middleware (request span,
 * error envelope, body parser, prototype-key guard) and routes declared with validate(), served on
 * port 0. Asserts the VALIDATION_ERROR envelope, sanitised input reaching the handler, the
 * prototype-pollution guard, and that random garbage never produces a 5xx.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { JSONSchemaType } from 'ajv';
import { expect } from 'chai';
import fc from 'fast-check';
import Koa from 'koa';
import { errorEnvelope } from '../../src/platform/http/envelope';
import { pipeline } from '../../src/platform/pipeline';
import { parseBody } from '../../src/platform/http/body';
import type { AppState } from '../../src/platform/context/state';
import { HttpDurationProducer } from '../../src/platform/telemetry/http-duration';
import { createInstruments } from '../../src/platform/telemetry/instruments';
import { requestSpan } from '../../src/platform/telemetry/request-span';
import { rejectPrototypeKeys, schemas, validate } from '../../src/platform/validation';

interface Contact {
  name: string;
  email: string;
  phone: string;
  age?: number;
  tags?: string[];
  callbackAt?: string;
}
const contact: JSONSchemaType<Contact> = {
  type: 'object',
  properties: {
    name: schemas.personName,
    email: schemas.email,
    phone: schemas.phone,
    age: { type: 'integer', minimum: 0, maximum: 150, nullable: true },
    tags: { type: 'array', items: { type: 'string', trim: true, minLength: 1, maxLength: 20 }, maxItems: 5, nullable: true },
    callbackAt: { type: 'string', format: 'date-time', nullable: true },
  },
  required: ['name', 'email', 'phone'],
};
interface Filters {
  cursor?: string;
  limit: number;
  verified?: boolean;
}
const filters: JSONSchemaType<Filters> = {
  type: 'object',
  properties: { ...schemas.pagination.properties, verified: { type: 'boolean', nullable: true } },
  required: ['limit'],
} as JSONSchemaType<Filters>;

interface Envelope {
  error: { code: string; message: string; requestId: string; timestamp: string; details?: Array<{ path: string; message: string }> };
}

function buildApp(): Koa<AppState> {
  const instruments = createInstruments(new MeterProvider().getMeter('t'), new HttpDurationProducer());
  const app = new Koa<AppState>();
  app.silent = true;
  const router = new Router<AppState>();
  router.post(
    '/tenants/:tenantId/contacts',
    validate<{ params: { tenantId: string }; query: Filters; body: Contact }>({
      params: { type: 'object', properties: { tenantId: schemas.uuid }, required: ['tenantId'] },
      query: filters,
      body: contact,
    }),
    (ctx) => {
      // The handler sees typed, sanitised input; the echo lets the test check exactly what arrived.
      const { params, query, body } = ctx.state.input;
      ctx.body = { params, query, body, requestBody: ctx.request.body, koaQuery: { ...ctx.query } };
    },
  );
  router.post('/open', (ctx) => {
    ctx.body = { received: ctx.request.body ?? null };
  });
  app.use(
    pipeline([
      requestSpan({ instruments, slowRequestMs: 1000 }),
      errorEnvelope({ instruments, production: true }),
      parseBody(16 * 1024),
      rejectPrototypeKeys(),
    ]),
  );
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

describe('validation over HTTP (real middleware chain)', function () {
  this.timeout(60_000);
  let server: Server;
  let base: string;
  const tenant = '0F8FAD5B-D9CB-469F-A165-70867728950E';

  before(async () => {
    server = createServer(buildApp().callback());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  async function post(path: string, body: string, contentType = 'application/json'): Promise<{ status: number; json: unknown; res: Response }> {
    const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': contentType }, body });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, json, res };
  }

  function expectValidationEnvelope(r: { status: number; json: unknown; res: Response }): Envelope['error'] {
    expect(r.status).to.equal(400);
    const e = (r.json as Envelope).error;
    expect(Object.keys(r.json as object)).to.deep.equal(['error']);
    expect(e.code).to.equal('VALIDATION_ERROR');
    expect(e.message).to.equal('Request validation failed');
    expect(e.requestId)
      .to.match(/^[0-9a-f]{32}-[0-9a-f]{16}$/)
      .and.equal(r.res.headers.get('x-request-id'));
    expect(Date.parse(e.timestamp)).to.be.closeTo(Date.now(), 60_000);
    expect(e.details).to.be.an('array').that.is.not.empty;
    return e;
  }

  it("valid input reaches the handler sanitised and typed; Koa's query is untouched", async () => {
    const r = await post(
      `/tenants/${tenant}/contacts?limit=5&verified=true`,
      JSON.stringify({
        name: "  Siobhán O'Brien ",
        email: ' Siobhan@Example.COM',
        phone: '098765 43210',
        age: 0,
        tags: [' vip '],
        callbackAt: '2024-02-29T10:30:00+05:30',
      }),
    );
    expect(r.status).to.equal(200);
    expect(r.json).to.deep.equal({
      params: { tenantId: tenant.toLowerCase() },
      query: { limit: 5, verified: true },
      body: { name: "Siobhán O'Brien", email: 'siobhan@example.com', phone: '+919876543210', age: 0, tags: ['vip'], callbackAt: '2024-02-29T10:30:00+05:30' },
      requestBody: {
        name: "Siobhán O'Brien",
        email: 'siobhan@example.com',
        phone: '+919876543210',
        age: 0,
        tags: ['vip'],
        callbackAt: '2024-02-29T10:30:00+05:30',
      },
      koaQuery: { limit: '5', verified: 'true' },
    });
  });

  it('defaults from the schema are filled in (pagination limit 20)', async () => {
    const r = await post(`/tenants/${tenant}/contacts`, JSON.stringify({ name: 'देवनागरी', email: 'a@b.co', phone: '+14155552671' }));
    expect(r.status).to.equal(200);
    expect((r.json as { query: unknown }).query).to.deep.equal({ limit: 20 });
  });

  it('reports every problem of params, query and body at once in the VALIDATION_ERROR envelope', async () => {
    const r = await post(
      '/tenants/not-a-uuid/contacts?limit=0x10&verified=1&sort=name',
      JSON.stringify({
        name: 'a<script>',
        email: '<script>@x.y',
        phone: '----------',
        age: '5',
        tags: ['ok', ''],
        callbackAt: '2024-02-31T10:00:00Z',
        role: 'admin',
      }),
    );
    const e = expectValidationEnvelope(r);
    expect(e.details).to.deep.equal([
      { path: '/params/tenantId', message: 'must be a UUID' },
      { path: '/query/sort', message: 'is not an allowed field' },
      { path: '/query/limit', message: 'must be an integer' },
      { path: '/query/verified', message: 'must be true or false' },
      { path: '/body/role', message: 'is not an allowed field' },
      { path: '/body/name', message: "must contain only letters, digits, spaces and ' - . ," },
      { path: '/body/email', message: 'must be a valid email address' },
      { path: '/body/phone', message: 'must be a valid phone number in international form, e.g. +919876543210' },
      { path: '/body/age', message: 'must be an integer' },
      { path: '/body/tags/1', message: 'must be at least 1 character long' },
      { path: '/body/callbackAt', message: 'must be an ISO 8601 date-time with a time zone, e.g. 2024-02-29T10:30:00Z' },
    ]);
  });

  it('missing required fields and a non-object body are 400s with paths', async () => {
    expect(expectValidationEnvelope(await post(`/tenants/${tenant}/contacts`, '{}')).details).to.deep.equal([
      { path: '/body/name', message: 'is required' },
      { path: '/body/email', message: 'is required' },
      { path: '/body/phone', message: 'is required' },
    ]);
    // jsonStrict: a top-level scalar is refused by the parser as malformed (400 BAD_REQUEST)
    const scalar = await post(`/tenants/${tenant}/contacts`, '"just a string"');
    expect(scalar.status).to.equal(400);
    expect(expectValidationEnvelope(await post(`/tenants/${tenant}/contacts`, '[1,2]')).details).to.deep.equal([
      { path: '/body', message: 'must be an object' },
    ]);
  });

  it('an urlencoded form body is converted like a query string; JSON never is', async () => {
    const form = new URLSearchParams({ name: 'Jean-Luc', email: 'jl@example.fr', phone: '+33 1 23 45 67 89', age: '42' }).toString();
    const r = await post(`/tenants/${tenant}/contacts`, form, 'application/x-www-form-urlencoded');
    expect(r.status).to.equal(200);
    expect((r.json as { body: Contact }).body).to.deep.equal({ name: 'Jean-Luc', email: 'jl@example.fr', phone: '+33123456789', age: 42 });
    const json = await post(`/tenants/${tenant}/contacts`, JSON.stringify({ name: 'Jean-Luc', email: 'jl@example.fr', phone: '+33123456789', age: '42' }));
    expect(expectValidationEnvelope(json).details).to.deep.equal([{ path: '/body/age', message: 'must be an integer' }]);
  });

  describe('prototype pollution', () => {
    // constructor / prototype keys reach the guard as parsed; `__proto__` in JSON is already refused
    // by the body parser (co-body parses with @hapi/bourne, protoAction 'error'), as a 400 too.
    const guarded: Array<[string, string[]]> = [
      ['{"a":{"b":[{"constructor":{"prototype":{"polluted":true}}}]}}', ['/body/a/b/0/constructor']],
      ['{"prototype":{"polluted":true},"x":{"y":{"constructor":1}}}', ['/body/prototype', '/body/x/y/constructor']],
      ['[{"ok":1},{"constructor":{"prototype":{"polluted":true}}}]', ['/body/1/constructor']],
    ];
    for (const [body, paths] of guarded) {
      it(`is refused on a route without a schema: ${body}`, async () => {
        const e = expectValidationEnvelope(await post('/open', body));
        expect(e.details!.map((d) => d.path)).to.deep.equal(paths);
        expect(e.details!.every((d) => d.message === 'is a reserved key and not allowed')).to.equal(true);
        expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
      });
    }
    for (const body of ['{"__proto__":{"polluted":true}}', '{"a":[{"__proto__":{"polluted":true}}]}', '[{"__proto__":null}]']) {
      it(`JSON __proto__ is a 400 envelope, never pollution: ${body}`, async () => {
        const r = await post('/open', body);
        expect(r.status).to.equal(400);
        expect((r.json as Envelope).error.code).to.equal('VALIDATION_ERROR');
        expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
      });
    }
    it('is refused on a validated route, in the body and in the query', async () => {
      const b = await post(`/tenants/${tenant}/contacts`, '{"name":"a","email":"a@b.co","phone":"+14155552671","constructor":{"prototype":{"isAdmin":true}}}');
      expect(expectValidationEnvelope(b).details).to.deep.equal([{ path: '/body/constructor', message: 'is a reserved key and not allowed' }]);
      const q = await post(`/tenants/${tenant}/contacts?__proto__=x&constructor=y`, '{"name":"a","email":"a@b.co","phone":"+14155552671"}');
      expect(expectValidationEnvelope(q).details).to.deep.equal([
        { path: '/query/__proto__', message: 'is a reserved key and not allowed' },
        { path: '/query/constructor', message: 'is a reserved key and not allowed' },
      ]);
    });
    it('form bodies: qs drops __proto__ and constructor, the guard refuses prototype', async () => {
      const dropped = await post('/open', 'a[__proto__][polluted]=1&constructor[prototype][polluted]=1&b=2', 'application/x-www-form-urlencoded');
      expect(dropped.status).to.equal(200);
      expect(dropped.json).to.deep.equal({ received: { b: '2' } });
      const r = await post('/open', 'prototype=1&b=2', 'application/x-www-form-urlencoded');
      expect(expectValidationEnvelope(r).details).to.deep.equal([{ path: '/body/prototype', message: 'is a reserved key and not allowed' }]);
      expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
    });
    it('ordinary JSON that merely mentions the words passes', async () => {
      const r = await post('/open', '{"note":"the constructor of the prototype set __proto__","proto":1}');
      expect(r.status).to.equal(200);
    });
  });

  it('random JSON and random bytes never produce a 5xx (fast-check)', async () => {
    const jsonBodies = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null'),
      fc
        .record({ name: fc.string(), email: fc.string(), phone: fc.oneof(fc.string(), fc.integer()), age: fc.jsonValue(), tags: fc.jsonValue() })
        .map((v) => JSON.stringify(v)),
      fc.string({ unit: 'binary', maxLength: 200 }),
    );
    const queries = fc
      .dictionary(fc.constantFrom('limit', 'cursor', 'verified', '__proto__', 'x'), fc.string({ maxLength: 10 }))
      .map((d) => new URLSearchParams(d).toString());
    await fc.assert(
      fc.asyncProperty(
        jsonBodies,
        queries,
        fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain'),
        fc.boolean(),
        async (body, query, type, validated) => {
          const path = validated ? `/tenants/${tenant}/contacts?${query}` : '/open';
          const r = await post(path, body, type);
          expect(r.status, `${path} ${type} ${body}`).to.be.below(500);
          if (r.status >= 400) expect((r.json as Envelope).error.code).to.be.a('string');
        },
      ),
      { numRuns: 300 },
    );
  });
});
