import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { AuditEventInput, AuditRequestContext, AuditSink } from '../../src/platform/audit/catalogue';
import { loadConfig } from '../../src/platform/config';
import type { AppContext } from '../../src/platform/context/state';
import { createLogger } from '../../src/platform/logging/logger';
import { createLimiters, type Limiters } from '../../src/platform/security/rate-limit';
import { ipv6Prefix64 } from '../../src/platform/security/rate-limit/keys';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { startInProcessApp, type InProcessApp } from '../helpers/inprocess';
import { spanExporter, telemetry } from '../setup/telemetry';

const REDIS_URL = 'redis://127.0.0.1:6379';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Recorded = AuditEventInput & { request?: AuditRequestContext };

/**
 * The limiters are mounted here on test routes of the real app (every middleware in order),
 * counting in the real shared Redis; the api budget stands in for any per-address limiter.
 */
describe('rate limiters on routes (in process, Redis store)', function () {
  this.timeout(30_000);
  const prefix = `test-rlroutes-${randomBytes(4).toString('hex')}`;
  const audits: Recorded[] = [];
  const audit: AuditSink = { emit: (e, request) => audits.push({ ...e, request }) };
  let tdb: TestDatabase;
  let app: InProcessApp;
  let redis: Redis;
  let limiters: Limiters;

  before(async () => {
    tdb = await createTestDatabase();
    redis = new Redis(REDIS_URL);
    const { config } = loadConfig({
      NODE_ENV: 'test',
      RATE_LIMIT_PREFIX: prefix,
      RATE_LIMIT_API_POINTS: '2',
      RATE_LIMIT_API_WINDOW_S: '2',
      RATE_LIMIT_WEBHOOK_POINTS: '3',
      RATE_LIMIT_WEBHOOK_WINDOW_S: '2',
      RATE_LIMIT_UPLOAD_POINTS: '2',
      RATE_LIMIT_UPLOAD_WINDOW_S: '2',
    });
    const { logger } = createLogger({ level: 'error', service: 'test', environment: 'test', stream: new Writable({ write: (_c, _e, cb) => cb() }) });
    limiters = createLimiters({ config, store: { kind: 'redis', client: redis }, logger, instruments: telemetry.instruments, audit });
    expect(limiters.store).to.equal('redis');
    const ok = (ctx: AppContext) => {
      ctx.status = 201;
      ctx.body = { ok: true };
    };
    app = await startInProcessApp({
      databaseUrl: tdb.url,
      audit,
      plugins: [
        (router) => router.post('/test/anonymous', limiters.api, ok),
        (router) =>
          router.post(
            '/test/webhooks/:token',
            limiters.webhook((ctx) => (ctx as AppContext & { params: { token: string } }).params.token),
            ok,
          ),
        (router) =>
          router.post(
            '/test/upload',
            async (ctx, next) => {
              const tenant = ctx.get('x-test-tenant');
              if (tenant) ctx.state.caller = { kind: 'webhook', tenantId: tenant };
              await next();
            },
            limiters.upload,
            ok,
          ),
      ],
    });
  });
  after(async () => {
    await app?.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
    await tdb?.drop();
  });

  const post = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${app.url}${path}`, { method: 'POST', headers }).then(async (r) => (await r.arrayBuffer(), r));

  it('api before authentication: per client address, with headers; 429 after the budget; open again after the window', async () => {
    const a = await post('/test/anonymous');
    expect(a.status).to.equal(201);
    expect([a.headers.get('x-ratelimit-limit'), a.headers.get('x-ratelimit-remaining')]).to.deep.equal(['2', '1']);
    expect((await post('/test/anonymous')).status).to.equal(201);
    const limited = await post('/test/anonymous');
    expect(limited.status).to.equal(429);
    expect(Number(limited.headers.get('retry-after'))).to.be.within(1, 2);
    await sleep(Number(limited.headers.get('x-ratelimit-reset')) * 1000 - Date.now() + 100);
    expect((await post('/test/anonymous')).status).to.equal(201);
  });

  it('webhook: one bucket per sender credential, never one for all senders', async () => {
    for (let i = 0; i < 3; i++) expect((await post('/test/webhooks/sender-a')).status).to.equal(201);
    const limited = await post('/test/webhooks/sender-a');
    expect(limited.status).to.equal(429);
    expect(limited.headers.get('x-ratelimit-limit')).to.equal('3');
    const other = await post('/test/webhooks/sender-b');
    expect(other.status).to.equal(201);
    expect(other.headers.get('x-ratelimit-remaining')).to.equal('2');
    // credentials are hashed in the store
    const keys = await redis.keys(`${prefix}:webhook:*`);
    expect(keys).to.have.length(2);
    expect(keys.join(' ')).not.to.include('sender-');
  });

  it('upload: per tenant', async () => {
    for (let i = 0; i < 2; i++) expect((await post('/test/upload', { 'x-test-tenant': 'tenant-1' })).status).to.equal(201);
    expect((await post('/test/upload', { 'x-test-tenant': 'tenant-1' })).status).to.equal(429);
    expect((await post('/test/upload', { 'x-test-tenant': 'tenant-2' })).status).to.equal(201);
    expect(await redis.exists(`${prefix}:upload:t:tenant-1`)).to.equal(1);
  });

  it('a rejection adds a span event naming the limiter, never the key', async () => {
    for (let i = 0; i < 3; i++) await post('/test/webhooks/span-check');
    spanExporter.reset();
    const limited = await post('/test/webhooks/span-check');
    expect(limited.status).to.equal(429);
    const id = limited.headers.get('x-request-id')!;
    const span = spanExporter.getFinishedSpans().find((s) => `${s.spanContext().traceId}-${s.spanContext().spanId}` === id)!;
    const event = span.events.find((e) => e.name === 'ratelimit.rejected')!;
    expect(event, 'ratelimit.rejected event').to.not.equal(undefined);
    expect(event.attributes!['caly.ratelimit.limiter']).to.equal('webhook');
    expect(JSON.stringify(span.events)).not.to.include('span-check');
    expect(span.attributes['caly.error.code']).to.equal('RATE_LIMIT_EXCEEDED');
  });

  it('a flood yields one RATE_LIMIT_EXCEEDED audit event per bucket and window', async () => {
    audits.length = 0;
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await post('/test/webhooks/flooder')).status);
    expect(statuses.filter((s) => s === 429)).to.have.length(9);
    const events = audits.filter((e) => e.type === 'RATE_LIMIT_EXCEEDED');
    expect(events).to.have.length(1);
    expect(events[0]!.outcome).to.equal('FAILURE');
    expect(events[0]!.metadata).to.include({ limiter: 'webhook', points: 3, window_s: 2 });
    expect(events[0]!.request?.clientIp).to.match(/127\.0\.0\.1/);
    expect(events[0]!.request?.requestId).to.match(/^[0-9a-f]{32}-[0-9a-f]{16}$/);
    expect(JSON.stringify(events)).not.to.include('flooder');
    // a new window, a new flood: one more
    await sleep(2_100);
    for (let i = 0; i < 6; i++) await post('/test/webhooks/flooder');
    expect(audits.filter((e) => e.type === 'RATE_LIMIT_EXCEEDED')).to.have.length(2);
  });
});

describe('rate limiters: client address and the memory store (in process)', function () {
  this.timeout(30_000);
  let tdb: TestDatabase;
  let direct: InProcessApp;
  let proxied: InProcessApp;
  before(async () => {
    tdb = await createTestDatabase();
    // no REDIS_URL: createApp's default limiters count in process memory
    [direct, proxied] = await Promise.all([
      startInProcessApp({ databaseUrl: tdb.url, env: { RATE_LIMIT_API_POINTS: '3' } }),
      startInProcessApp({ databaseUrl: tdb.url, env: { RATE_LIMIT_API_POINTS: '3', TRUST_PROXY: 'true' } }),
    ]);
  });
  after(async () => {
    await Promise.all([direct?.close(), proxied?.close()]);
    await tdb?.drop();
  });

  const ping = (base: string, xff: string) =>
    fetch(`${base}/api/ping`, { headers: { 'X-Forwarded-For': xff } }).then(async (r) => (await r.arrayBuffer(), r.status));

  it('ignores X-Forwarded-For without TRUST_PROXY: rotating it does not escape the limit', async () => {
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push(await ping(direct.url, `203.0.113.${i}`));
    expect(statuses).to.deep.equal([200, 200, 200, 429, 429]);
  });

  it('honours X-Forwarded-For with TRUST_PROXY: one bucket per client behind the proxy', async () => {
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push(await ping(proxied.url, `203.0.113.${i}`));
    expect(statuses).to.deep.equal([200, 200, 200, 200, 200]);
  });

  it('buckets IPv6 clients per /64, so rotating the interface id does not escape the limit', async () => {
    const statuses = [];
    for (let i = 1; i <= 4; i++) statuses.push(await ping(proxied.url, `2001:db8:aa:bb::${i.toString(16)}`));
    expect(statuses).to.deep.equal([200, 200, 200, 429]);
    expect(await ping(proxied.url, '2001:db8:aa:cc::1')).to.equal(200);
    expect(ipv6Prefix64('2001:DB8:0:0:1::1')).to.equal('2001:db8:0:0');
    expect(ipv6Prefix64('::1')).to.equal('0:0:0:0');
    expect(ipv6Prefix64('fe80::1%eth0')).to.equal('fe80:0:0:0');
  });
});
