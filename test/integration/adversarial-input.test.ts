import { expect } from 'chai';
import fc from 'fast-check';
import { Client, createTenant, domainEnv, scratchDir, sql, type CreatedTenant, type Tokens } from '../helpers/domain';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { scrape, startService, type ServiceHandle } from '../helpers/service';
import { raw } from '../helpers/raw-http';

const envelope = (body: string) => (JSON.parse(body) as { error: { code: string } }).error.code;
const nestedArrays = (n: number) => `{"CallSid":"deep1","Legs":${'['.repeat(n)}${']'.repeat(n)}}`;

/** Figures for the closing report: what was sent, what answered 5xx. */
export const inputFigures = { sent: 0, fivexx: 0 };

describe('adversarial input: what PostgreSQL or the parser refuses is a 4xx, and no Exotel event is lost', function () {
  this.timeout(180_000);
  let tdb: TestDatabase;
  let dir: ReturnType<typeof scratchDir>;
  let env: Record<string, string>;
  let svc: ServiceHandle;
  let acme: CreatedTenant;
  let owner: Tokens;
  let callId: string;

  const send = async (method: string, path: string, headers: Record<string, string> = {}, body?: string) => {
    const r = await raw(svc.url, method, path, headers, body);
    inputFigures.sent++;
    if (r.status >= 500) inputFigures.fivexx++;
    return r;
  };
  const api = (method: string, path: string, json?: unknown, extra: Record<string, string> = {}) =>
    send(
      method,
      path,
      { authorization: `Bearer ${owner.accessToken}`, ...(json === undefined ? {} : { 'content-type': 'application/json' }), ...extra },
      json === undefined ? undefined : typeof json === 'string' ? json : JSON.stringify(json),
    );
  const passthru = (qs: string) => send('GET', `/webhooks/exotel/${acme.webhookCredential}/passthru?${qs}`, { 'user-agent': 'Exotel' });

  before(async () => {
    tdb = await createTestDatabase();
    dir = scratchDir('caly-adv-input');
    env = domainEnv(tdb.url, dir.path);
    svc = await startService({ ...env, BODY_LIMIT_BYTES: '65536' });
    acme = await createTenant(env, { name: 'Acme', exophones: ['+918047112345'], ownerEmail: 'owner@acme.test' });
    owner = await new Client(svc).login('owner@acme.test', acme.ownerPassword);
    expect((await passthru('CallSid=seed1&From=09876543210&To=08047112345')).status).to.equal(200);
    callId = (await sql<{ id: string }>(tdb.url, 'SELECT id FROM calls WHERE call_sid = $1', ['seed1']))[0]!.id;
  });
  after(async () => {
    console.log(`      figures: ${inputFigures.sent} hostile requests, ${inputFigures.fivexx} answered 5xx`);
    await svc?.stop();
    await tdb?.drop();
    dir?.remove();
  });

  it('3,000 nested arrays in a webhook or API body answer 400 in the envelope, never a stack overflow', async () => {
    const deep = nestedArrays(3000);
    expect(deep.length).to.be.below(6200);
    const hook = await send('POST', `/webhooks/exotel/${acme.webhookCredential}/status`, { 'content-type': 'application/json' }, deep);
    expect(hook.status, hook.body).to.equal(400);
    expect(envelope(hook.body)).to.equal('VALIDATION_ERROR');
    const patch = await api('PATCH', `/api/calls/${callId}`, `{"notes":"x","tags":${'['.repeat(3000)}${']'.repeat(3000)}}`);
    expect(patch.status, patch.body).to.equal(400);
    // Size: 12,000 items in one array is refused too, before any handler walks it.
    const wide = `{"tags":[${Array.from({ length: 12_000 }, () => '0').join(',')}]}`;
    const many = await api('PATCH', `/api/calls/${callId}`, wide);
    expect(many.status, many.body).to.equal(400);
    const form = await send(
      'POST',
      `/webhooks/exotel/${acme.webhookCredential}/status`,
      { 'content-type': 'application/x-www-form-urlencoded' },
      `CallSid=deep2&${'a[b]'.repeat(1).replace('a[b]', `x${'[a]'.repeat(2000)}=1`)}`,
    );
    expect(form.status, form.body).to.be.below(500);
  });

  it('NUL, lone surrogates, offsets like +23:59 and out-of-range years answer 400 in the envelope', async () => {
    const cases: Array<[string, string, unknown?]> = [
      ['GET', '/api/calls?q=%00'],
      ['GET', '/api/calls?q=a%00b'],
      ['GET', '/api/calls?since=2026-01-01T00:00:00%2B23:59'],
      ['GET', '/api/calls?until=2026-01-01T00:00:00-16:00'],
      ['GET', '/api/calls?since=0000-01-01T00:00:00Z'],
      ['GET', '/api/calls?since=99999-01-01T00:00:00Z'],
      ['GET', '/api/calls?q=%ED%A0%80'],
      ['GET', '/api/audit-logs?from=2026-01-01T00:00:00%2B23:59'],
      ['PATCH', `/api/calls/${callId}`, '{"notes":"a\\u0000b"}'],
      ['PATCH', `/api/calls/${callId}`, '{"notes":"\\ud800"}'],
      ['PATCH', `/api/calls/${callId}`, '{"notes":"ok\\udfff"}'],
      ['POST', '/api/auth/login', '{"email":"a\\u0000@x.test","password":"p"}'],
      // A cursor is client-held text too: an impossible offset or year inside it is still a 4xx.
      ['GET', `/api/calls?cursor=${Buffer.from(JSON.stringify(['2026-01-01 00:00:00+23:59', '00000000-0000-4000-8000-000000000000'])).toString('base64url')}`],
      ['GET', `/api/calls?cursor=${Buffer.from(JSON.stringify(['0000-01-01T00:00:00Z', '00000000-0000-4000-8000-000000000000'])).toString('base64url')}`],
    ];
    for (const [method, path, body] of cases) {
      const r = await api(method, path, body);
      expect(r.status, `${method} ${path} ${String(body)} → ${r.body}`).to.equal(400);
      expect(envelope(r.body)).to.be.oneOf(['VALIDATION_ERROR', 'BAD_REQUEST']);
    }
  });

  it('a Passthru whose CustomField holds a NUL is recorded, kept verbatim encrypted, and its retry answers 2xx', async () => {
    const qs = 'CallSid=nul1&From=09876543210&To=08047112345&CustomField=order%0042&digits=%2212%00%22&Stream%5BStreamUrl%5D=wss%3A%2F%2Fx%00y';
    for (let i = 0; i < 3; i++) {
      const r = await passthru(qs);
      expect(r.status, r.body).to.equal(200);
    }
    const rows = await sql<{ n: string; exotel: Record<string, unknown> }>(
      tdb.url,
      "SELECT count(*)::text AS n, max(exotel::text)::jsonb AS exotel FROM calls WHERE call_sid = 'nul1'",
    );
    expect(rows[0]!.n).to.equal('1');
    expect(JSON.stringify(rows[0]!.exotel)).not.to.include('\\u0000');
    const events = await sql<{ raw_payload_enc: string | null }>(tdb.url, "SELECT raw_payload_enc FROM webhook_events WHERE call_sid = 'nul1'");
    expect(events).to.have.length(1);
    expect(events[0]!.raw_payload_enc, 'raw payload kept, encrypted').to.be.a('string').and.not.include('order');
  });

  it('a payload PostgreSQL refuses is kept in the dead-letter table, counted, and every retry answers 2xx', async () => {
    // A real refusal by the real database: a constraint no sanitising can satisfy.
    await sql(tdb.url, "ALTER TABLE calls ADD CONSTRAINT adversarial_refuse CHECK (call_sid <> 'refused1')");
    try {
      const body = JSON.stringify({ CallSid: 'refused1', Status: 'completed', From: '09876543210', To: '08047112345' });
      for (let i = 0; i < 3; i++) {
        const r = await send('POST', `/webhooks/exotel/${acme.webhookCredential}/status`, { 'content-type': 'application/json' }, body);
        expect(r.status, r.body).to.be.within(200, 299);
      }
      const dead = await sql<{ tenant_id: string; attempts: number; raw_payload_enc: string; error_code: string }>(
        tdb.url,
        "SELECT tenant_id, attempts, raw_payload_enc, error_code FROM webhook_dead_letters WHERE call_sid = 'refused1'",
      );
      expect(dead).to.have.length(1);
      expect(dead[0]!.tenant_id).to.equal(acme.tenantId);
      expect(dead[0]!.attempts).to.equal(3);
      expect(dead[0]!.error_code).to.equal('23514');
      expect(dead[0]!.raw_payload_enc).not.to.include('09876543210');
      const samples = await scrape(svc.metricsUrl);
      const dl = samples.filter((s) => s.name === 'caly_webhook_dead_letters_total' && s.labels.kind === 'status').reduce((a, s) => a + s.value, 0);
      expect(dl).to.equal(3);
    } finally {
      await sql(tdb.url, 'ALTER TABLE calls DROP CONSTRAINT adversarial_refuse');
    }
  });

  it('property: every route, driven with arbitrary strings, dates and nesting, never answers 5xx', async () => {
    const str = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 20 }),
      fc.constantFrom('\u0000', '\ud800', 'x\udfffy', '%00', '+23:59', "'; DROP TABLE calls;--"),
    );
    const date = fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      fc
        .tuple(fc.integer({ min: 0, max: 99999 }), fc.integer({ min: -30, max: 30 }), fc.integer({ min: 0, max: 99 }))
        .map(
          ([y, h, m]) =>
            `${String(y).padStart(4, '0')}-01-01T00:00:00${h < 0 ? '-' : '+'}${String(Math.abs(h)).padStart(2, '0')}:${String(m).padStart(2, '0')}`,
        ),
      str,
    );
    const nesting = fc.integer({ min: 1, max: 400 }).map((n) => JSON.parse(`${'['.repeat(n)}${']'.repeat(n)}`) as unknown);
    const value = fc.oneof(str, date, nesting, fc.integer(), fc.boolean(), fc.constant(null));
    const enc = (s: string) => {
      try {
        return encodeURIComponent(s);
      } catch {
        return s.replace(/[^A-Za-z0-9]/g, (c) => `%${(c.charCodeAt(0) & 0xff).toString(16).padStart(2, '0')}`);
      }
    };
    const routes: Array<{ method: string; path: (id: string) => string; query: string[]; body?: string[] }> = [
      { method: 'GET', path: () => '/api/calls', query: ['q', 'since', 'until', 'phone', 'status', 'cursor', 'limit', 'resolved'] },
      { method: 'GET', path: (id) => `/api/calls/${id}`, query: [] },
      { method: 'PATCH', path: (id) => `/api/calls/${id}`, query: [], body: ['notes', 'tags', 'resolved'] },
      { method: 'DELETE', path: (id) => `/api/calls/${id}x`, query: [] },
      { method: 'GET', path: (id) => `/api/calls/${id}/recording`, query: [] },
      { method: 'GET', path: () => '/api/audit-logs', query: ['from', 'to', 'eventType', 'severity', 'q', 'limit', 'userId'] },
      { method: 'GET', path: () => '/api/audit-logs/stats', query: ['from', 'to'] },
      { method: 'GET', path: () => '/api/auth/me', query: [] },
      { method: 'POST', path: () => '/api/auth/login', query: [], body: ['email', 'password'] },
      { method: 'POST', path: () => '/api/auth/refresh', query: [], body: ['refreshToken'] },
      { method: 'POST', path: () => '/api/auth/password', query: [], body: ['currentPassword', 'newPassword'] },
      { method: 'GET', path: () => '/api/ping', query: ['x'] },
      {
        method: 'GET',
        path: () => `/webhooks/exotel/${acme.webhookCredential}/passthru`,
        query: ['CallSid', 'From', 'To', 'StartTime', 'EndTime', 'CustomField', 'digits', 'Stream', 'CallStatus', 'DialCallDuration'],
      },
      {
        method: 'POST',
        path: () => `/webhooks/exotel/${acme.webhookCredential}/status`,
        query: [],
        body: ['CallSid', 'Status', 'From', 'To', 'StartTime', 'DateUpdated', 'CustomField', 'Legs', 'RecordingUrl', 'ConversationDuration'],
      },
      { method: 'GET', path: () => '/health/ready', query: ['x'] },
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: routes.length - 1 }),
        fc.array(fc.tuple(fc.nat(), value), { maxLength: 5 }),
        fc.boolean(),
        fc.boolean(),
        async (ri, values, sidOk, asForm) => {
          const route = routes[ri]!;
          const keys = [...route.query, ...(route.body ?? [])];
          const assigned = values.map(([n, v]) => [keys[n % Math.max(1, keys.length)] ?? 'x', v] as const);
          const query = route.query.length
            ? assigned.filter(([k]) => route.query.includes(k)).map(([k, v]) => `${enc(String(k))}=${enc(typeof v === 'string' ? v : JSON.stringify(v))}`)
            : [];
          if (route.path('').includes('/passthru') && sidOk) query.push(`CallSid=prop${ri}${query.length}`);
          const body = route.body ? Object.fromEntries(assigned.filter(([k]) => route.body!.includes(k))) : undefined;
          if (body && route.path('').includes('/status') && sidOk) body.CallSid = `propst${Object.keys(body).length}`;
          // Bodies as JSON or, like many Exotel integrations, urlencoded (values as text).
          const encoded = !body
            ? undefined
            : asForm
              ? Object.entries(body)
                  .map(([k, v]) => `${enc(k)}=${enc(typeof v === 'string' ? v : JSON.stringify(v))}`)
                  .join('&')
              : JSON.stringify(body);
          const type = asForm ? 'application/x-www-form-urlencoded' : 'application/json';
          const r = await send(
            route.method,
            `${route.path(callId)}${query.length ? `?${query.join('&')}` : ''}`,
            { authorization: `Bearer ${owner.accessToken}`, 'user-agent': 'fc', ...(body ? { 'content-type': type } : {}) },
            encoded,
          );
          expect(r.status, `${route.method} ${route.path(callId)} ${JSON.stringify(values)} → ${r.body}`).to.be.below(500);
          if (r.status >= 400 && route.method !== 'HEAD') expect(envelope(r.body)).to.be.a('string');
        },
      ),
      { numRuns: 1000 },
    );
    // The service is still healthy after the whole run.
    expect((await send('GET', '/health/ready')).status).to.equal(200);
  });
});
