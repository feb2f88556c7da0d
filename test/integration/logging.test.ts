import { Writable } from 'node:stream';
import { expect } from 'chai';
import { createLogger } from '../../src/platform/logging/logger';
import { createRedactor, REDACTED, redactQueryString } from '../../src/platform/logging/redact';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { startService, type ServiceHandle } from '../helpers/service';

describe('logging', () => {
  describe('redaction', () => {
    const { redact, isSensitiveKey, logVerdict } = createRedactor(['customerPhone']);

    it('is deep, case-insensitive and by key fragment', () => {
      const out = redact({
        email: 'a@b.c',
        Password: 'p1',
        new_password: 'p2',
        exotelToken: 't',
        shopifyApiSecret: 's',
        'X-Api-Key': 'k',
        api_key: 'k2',
        Authorization: 'Bearer x',
        cookie: 'sid=1',
        accessToken: 'a',
        refresh_token: 'r',
        creditCard: '4111',
        SSN: '1',
        encryptionKey: 'e',
        otp: '123456',
        customer_phone: '+91',
        nested: { deeper: [{ secretAnswer: 'x', ok: 1 }], headers: { authorization: 'y', accept: '*/*' } },
      }) as Record<string, unknown>;
      for (const k of [
        'Password',
        'new_password',
        'exotelToken',
        'shopifyApiSecret',
        'X-Api-Key',
        'api_key',
        'Authorization',
        'cookie',
        'accessToken',
        'refresh_token',
        'creditCard',
        'SSN',
        'encryptionKey',
        'otp',
        'customer_phone',
      ])
        expect(out[k], k).to.equal(REDACTED);
      expect(out.email).to.equal('a@b.c');
      expect(out.nested).to.deep.equal({ deeper: [{ secretAnswer: REDACTED, ok: 1 }], headers: { authorization: REDACTED, accept: '*/*' } });
    });

    it('survives cycles, errors, buffers and depth', () => {
      const a: Record<string, unknown> = { name: 'x' };
      a.self = a;
      let deep: Record<string, unknown> = { token: 't' };
      for (let i = 0; i < 20; i++) deep = { d: deep };
      const out = redact({ a, err: new Error('boom'), buf: Buffer.from('abc'), deep }) as Record<string, unknown>;
      expect((out.a as Record<string, unknown>).self).to.equal('[Circular]');
      expect(out.err).to.deep.equal({ name: 'Error', message: 'boom' });
      expect(out.buf).to.equal('[Buffer 3 bytes]');
      expect(JSON.stringify(out.deep)).to.include('[Truncated]').and.not.include('"t"');
    });

    it('redacts sensitive query-string parameters, keeping the rest', () => {
      // Search terms (q) may name a person: removed like secrets; caller numbers keep 4 digits.
      expect(
        redactQueryString('page=2&access_token=abc&Password=x&q=o%27brien&api%5Fkey=k&From=%2B919812734650&note=call%20919812734650', logVerdict),
      ).to.equal(
        `page=2&access_token=${REDACTED}&Password=${REDACTED}&q=${REDACTED}&api%5Fkey=${REDACTED}&From=[phone ***4650]&note=${encodeURIComponent('call [phone ***4650]')}`,
      );
      expect(isSensitiveKey('from')).to.equal(false); // audit metadata keeps from/to of a change
    });

    it('the logger redacts every field before it is written', () => {
      const lines: string[] = [];
      const stream = new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) });
      const { logger } = createLogger({ level: 'info', service: 't', environment: 'test', stream });
      logger.info('login', { user: { email: 'a@b.c', password: 'hunter2' }, authorization: 'Bearer abc' });
      const line = JSON.parse(lines[0]!) as Record<string, unknown>;
      expect(line.msg).to.equal('login');
      expect(lines[0]).not.to.include('hunter2');
      expect(lines[0]).not.to.include('Bearer abc');
      expect((line.user as Record<string, unknown>).email).to.equal('a@b.c');
    });
  });

  describe('access log from the running service', function () {
    this.timeout(60_000);
    let tdb: TestDatabase;
    let svc: ServiceHandle;
    let quiet: ServiceHandle;
    before(async () => {
      tdb = await createTestDatabase();
      [svc, quiet] = await Promise.all([startService({ DATABASE_URL: tdb.url }), startService({ DATABASE_URL: tdb.url, ACCESS_LOG: 'errors-and-slow' })]);
    });
    after(async () => {
      await Promise.all([svc?.stop(), quiet?.stop()]);
      await tdb?.drop();
    });

    it('one line per request with the documented fields, query redacted', async () => {
      const res = await fetch(`${svc.url}/api/ping?page=2&token=abc123&apiKey=zzz`, { headers: { 'user-agent': 'caly-test/1.0' } });
      const id = res.headers.get('x-request-id');
      const line = await svc.waitForLog((l) => l.request_id === id);
      expect(line).to.include({
        level: 'info',
        msg: 'request',
        method: 'GET',
        route: '/api/ping',
        path: '/api/ping',
        status: 200,
        client_ip: '127.0.0.1',
        user_agent: 'caly-test/1.0',
        trace_id: id?.slice(0, 32),
      });
      expect(line.duration_ms).to.be.a('number');
      expect(line.span_id).to.match(/^[0-9a-f]{16}$/);
      expect(line.query).to.equal('page=2&token=[REDACTED]&apiKey=[REDACTED]');
      expect(JSON.stringify(svc.logs)).not.to.include('abc123');
      expect(svc.logs.filter((l) => l.request_id === id)).to.have.length(1);
    });

    it('an error line never carries the secrets of its request', async () => {
      const res = await fetch(`${svc.url}/api/ping`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sekrit-token', cookie: 'sid=abcdef' },
        body: '{"password": "hunter2", broken',
      });
      expect(res.status).to.equal(400);
      const line = await svc.waitForLog((l) => l.request_id === res.headers.get('x-request-id'));
      expect(line.level).to.equal('warn');
      expect(line.error_code).to.equal('BAD_REQUEST');
      const all = JSON.stringify(svc.logs);
      for (const secret of ['hunter2', 'sekrit-token', 'sid=abcdef']) expect(all).not.to.include(secret);
    });

    it('ACCESS_LOG=errors-and-slow drops fast successes but keeps errors', async () => {
      const ok = await fetch(`${quiet.url}/api/ping`);
      const bad = await fetch(`${quiet.url}/nope`);
      const badLine = await quiet.waitForLog((l) => l.request_id === bad.headers.get('x-request-id'));
      expect(badLine.status).to.equal(404);
      expect(quiet.logs.some((l) => l.request_id === ok.headers.get('x-request-id'))).to.equal(false);
    });
  });
});
