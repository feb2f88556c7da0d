import { expect } from 'chai';
import fc from 'fast-check';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { startService, type ServiceHandle } from '../helpers/service';
import { raw } from '../helpers/raw-http';

const pathSegment = fc.oneof(
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
  fc.constantFrom('%', '%E0%A4%A', '%00', '%ZZ', '..', '%2e%2e', '%C0%AE', '~', ';x=1', ':id', '*', '(', 'api', 'health', 'ping', 'info'),
);
const path = fc
  .tuple(
    fc.array(pathSegment, { minLength: 0, maxLength: 4 }),
    fc.option(
      fc.string({ maxLength: 20 }).map((q) => q.replace(/[#\s]/g, '')),
      { nil: undefined },
    ),
  )
  .map(([segs, q]) => `/${segs.join('/')}${q === undefined ? '' : `?${q}`}`);
const contentType = fc.constantFrom(
  'application/json',
  'application/x-www-form-urlencoded',
  'text/plain',
  'application/json; charset=latin1',
  'multipart/form-data',
  'application/json; charset=utf-16',
  'bogus',
);
const bodyBytes = fc.oneof(
  fc.json().map((j) => Buffer.from(j)),
  fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
  fc.constantFrom('{"__proto__":{"x":1}}', '{"a":', '[]', 'null', '1e309', '{"a":"\\ud800"}', 'a=1&a=2&b[c]=3').map((s) => Buffer.from(s)),
);
const headerValue = fc.string({ maxLength: 60 }).map((s) => s.replace(/[^\x20-\x7e]/g, ''));

describe('bad input never yields a 500 or a crash (property-based, against the running service)', function () {
  this.timeout(120_000);
  let tdb: TestDatabase;
  let svc: ServiceHandle;
  before(async () => {
    tdb = await createTestDatabase();
    svc = await startService({ DATABASE_URL: tdb.url, BODY_LIMIT_BYTES: '4096', RATE_LIMIT_API_POINTS: '100000' });
  });
  after(async () => {
    await svc?.stop();
    await tdb?.drop();
  });

  it('random paths, methods, headers and bodies: every answer is < 500 and in the envelope when an error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'PROPFIND'),
        path,
        contentType,
        bodyBytes,
        headerValue,
        headerValue,
        async (method, p, ct, body, traceparent, reqId) => {
          const hasBody = !['GET', 'HEAD', 'OPTIONS'].includes(method);
          const res = await raw(
            svc.url,
            method,
            p,
            {
              'content-type': ct,
              traceparent,
              'x-request-id': reqId,
              ...(hasBody ? { 'content-length': String(body.length) } : {}),
            },
            hasBody ? body : undefined,
          );
          expect(res.status, `${method} ${p} ${ct}`).to.be.lessThan(500);
          if (res.status >= 400 && method !== 'HEAD') {
            const env = JSON.parse(res.body) as { error: { code: string; requestId: string } };
            expect(env.error.code).to.be.a('string');
            expect(env.error.requestId).to.match(/^[0-9a-f]{32}-[0-9a-f]{16}$/);
          }
        },
      ),
      { numRuns: 300 },
    );
    expect(svc.child.exitCode).to.equal(null);
    expect((await fetch(`${svc.url}/health/live`)).status).to.equal(200);
  });
});
