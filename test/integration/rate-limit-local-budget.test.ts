import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import Koa from 'koa';
import type { AuditEventInput, AuditSink } from '../../src/platform/audit/catalogue';
import { loadConfig } from '../../src/platform/config';
import { sentHeader } from '../../src/platform/response-head/lines';
import type { AppContext } from '../../src/platform/context/state';
import { createLogger } from '../../src/platform/logging/logger';
import { createLimiters, createRedisClient, limitApiPaths, quitRedisClient, waitUntilReady } from '../../src/platform/security/rate-limit';
import { EXACT_SLICES, sliceOf } from '../../src/platform/security/rate-limit/local-budget';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { startInProcessApp, type InProcessApp } from '../helpers/inprocess';
import { freePort } from '../helpers/ports';
import { startRedis, stopRedis } from '../helpers/redis-server';
import { telemetry } from '../setup/telemetry';

/**
 * The API limiter answering from slices reserved in the shared store. Two in-process apps (the
 * real middleware chain) with their own Redis clients and one key prefix are two replicas; the
 * client address (X-Forwarded-For, TRUST_PROXY on) picks the bucket.
 */
const REDIS_URL = 'redis://127.0.0.1:6379';
const POINTS = 320;
const SLICE = sliceOf(POINTS); // 5
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const { logger: silentLogger } = createLogger({ level: 'error', service: 'test', environment: 'test', stream: new Writable({ write: (_c, _e, cb) => cb() }) });

interface Answer {
  status: number;
  limit: string | null;
  remaining: number;
  reset: number;
}

async function ping(app: InProcessApp, ip: string): Promise<Answer> {
  const r = await fetch(`${app.url}/api/ping`, { headers: { 'X-Forwarded-For': ip } });
  await r.arrayBuffer();
  return {
    status: r.status,
    limit: r.headers.get('x-ratelimit-limit'),
    remaining: Number(r.headers.get('x-ratelimit-remaining')),
    reset: Number(r.headers.get('x-ratelimit-reset')),
  };
}

/** `n` requests from `ip`, at most `inFlight` at a time, alternating between the replicas. */
async function flood(replicas: InProcessApp[], ip: string, n: number, inFlight: number): Promise<Answer[]> {
  const out: Answer[] = [];
  let i = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (i < n) {
        const k = i++;
        out[k] = await ping(replicas[k % replicas.length]!, ip);
      }
    }),
  );
  return out;
}

const count = (answers: Answer[], status: number) => answers.filter((a) => a.status === status).length;

function recorder(): { audit: AuditSink; exceeded: () => AuditEventInput[] } {
  const events: AuditEventInput[] = [];
  return { audit: { emit: (e) => events.push(e) }, exceeded: () => events.filter((e) => e.type === 'RATE_LIMIT_EXCEEDED') };
}

async function twoReplicas(
  databaseUrl: string,
  prefix: string,
  opts: { windowS: number; audit: AuditSink; redisUrl?: string; apiLocalKeys?: number },
): Promise<{ replicas: InProcessApp[]; clients: Redis[] }> {
  // The service's own client: no offline queue, no retries, so a dead Redis fails over at once.
  const clients = [0, 1].map(() => createRedisClient(opts.redisUrl ?? REDIS_URL, silentLogger));
  for (const c of clients) expect(await waitUntilReady(c, 5_000)).to.equal(true);
  const env = {
    RATE_LIMIT_PREFIX: prefix,
    RATE_LIMIT_API_POINTS: String(POINTS),
    RATE_LIMIT_API_WINDOW_S: String(opts.windowS),
    TRUST_PROXY: 'true',
    ACCESS_LOG: 'errors-and-slow',
  };
  const replicas = await Promise.all(
    clients.map((client) =>
      startInProcessApp({ databaseUrl, env, audit: opts.audit, rateLimit: { store: { kind: 'redis', client }, apiLocalKeys: opts.apiLocalKeys } }),
    ),
  );
  return { replicas, clients };
}

/**
 * Two replicas on the shared Redis under a fresh key prefix, with their own test database, for one
 * describe block: started before its tests, closed after them, and the prefix's keys deleted.
 */
function replicasOnSharedRedis(name: string, opts: { windowS: number; audit: AuditSink }) {
  const fixture = {
    prefix: `test-${name}-${randomBytes(4).toString('hex')}`,
    replicas: [] as InProcessApp[],
    redis: undefined as unknown as Redis,
    tdb: undefined as unknown as TestDatabase,
  };
  let clients: Redis[] = [];
  before(async () => {
    fixture.tdb = await createTestDatabase();
    fixture.redis = new Redis(REDIS_URL);
    ({ replicas: fixture.replicas, clients } = await twoReplicas(fixture.tdb.url, fixture.prefix, opts));
  });
  after(async () => {
    await Promise.all(fixture.replicas.map((r) => r.close()));
    await Promise.all(clients.map((c) => quitRedisClient(c)));
    const keys = await fixture.redis.keys(`${fixture.prefix}:*`);
    if (keys.length) await fixture.redis.del(...keys);
    await fixture.redis.quit();
    await fixture.tdb?.drop();
  });
  return fixture;
}

describe('API limiter from a local budget: two replicas on one Redis', function () {
  this.timeout(60_000);
  const { audit, exceeded } = recorder();
  const shared = replicasOnSharedRedis('rlbudget', { windowS: 60, audit });
  const counter = async (ip: string) => Number((await shared.redis.get(`${shared.prefix}:api:ip:${ip}`)) ?? 0);

  it('reserves a slice per store call: one request, one reservation of SLICE points', async () => {
    expect(SLICE).to.be.greaterThan(1);
    const a = await ping(shared.replicas[0]!, '10.90.0.1');
    expect(a.status).to.equal(200);
    expect(await counter('10.90.0.1')).to.equal(SLICE);
    // the rest of the slice is spent without a store call
    for (let i = 1; i < SLICE; i++) expect((await ping(shared.replicas[0]!, '10.90.0.1')).status).to.equal(200);
    expect(await counter('10.90.0.1')).to.equal(SLICE);
    expect((await ping(shared.replicas[0]!, '10.90.0.1')).status).to.equal(200);
    expect(await counter('10.90.0.1')).to.equal(2 * SLICE);
  });

  it('one at a time, alternating shared.replicas: exactly POINTS admitted, then 429; headers on every answer, Remaining within one slice', async () => {
    const ip = '10.90.0.2';
    const started = Date.now() / 1000;
    const answers: Answer[] = [];
    for (let i = 0; i < POINTS + 10; i++) answers.push(await ping(shared.replicas[i % 2]!, ip));
    expect(answers.slice(0, POINTS).every((a) => a.status === 200)).to.equal(true);
    expect(answers.slice(POINTS).map((a) => a.status)).to.deep.equal(Array<number>(10).fill(429));
    for (const [i, a] of answers.slice(0, POINTS).entries()) {
      expect(a.limit).to.equal(String(POINTS));
      expect(a.reset).to.be.within(Math.floor(started), Math.ceil(started) + 61);
      // the true remainder after this request is POINTS - (i + 1)
      expect(Math.abs(a.remaining - (POINTS - i - 1)), `Remaining of request ${i + 1}`).to.be.at.most(SLICE);
    }
    // Near the end every request is decided by the store: its Remaining is exact.
    const exactTail = answers.slice(POINTS - EXACT_SLICES * SLICE + 2 * SLICE, POINTS);
    expect(exactTail.map((a) => a.remaining)).to.deep.equal(exactTail.map((_, k) => POINTS - (POINTS - exactTail.length + k) - 1));
    // Every point counted in the store was handed out once: POINTS admitted, 10 rejected.
    expect(await counter(ip)).to.equal(POINTS + 10);
    expect(exceeded(), 'one audit event for the window, across shared.replicas').to.have.length(1);
    const logs = shared.replicas.flatMap((r) => r.logs).filter((l) => l.msg === 'rate limit exceeded' && l.limiter === 'api');
    expect(logs).to.have.length(10);
  });

  it('a reservation that passes the budget is granted only what is left, and its replica reports the first rejection', async () => {
    const ip = '10.90.0.4';
    const [a, b] = shared.replicas as [InProcessApp, InProcessApp];
    const before = exceeded().length;
    // a reserves a slice and spends one point: it still believes the budget is far from spent
    expect((await ping(a, ip)).status).to.equal(200);
    // b brings the store to 2 points short of the budget
    for (let i = 0; i < POINTS - SLICE - 2; i++) expect((await ping(b, ip)).status).to.equal(200);
    expect(await counter(ip)).to.equal(POINTS - 2);
    // a spends what it holds, then reserves a whole slice: only the 2 points left are its to spend
    const fromA: Answer[] = [];
    for (let i = 0; i < SLICE + 2; i++) fromA.push(await ping(a, ip));
    expect(fromA.map((r) => r.status)).to.deep.equal([...Array<number>(SLICE - 1 + 2).fill(200), 429]);
    expect(fromA.at(-2)!.remaining).to.equal(0);
    expect(exceeded().length - before, 'the first rejection is audited by the replica that passed the budget').to.equal(1);
    expect((await ping(b, ip)).status).to.equal(429);
    expect((await ping(a, ip)).status).to.equal(429);
    expect(exceeded().length - before, 'once per window').to.equal(1);
  });

  it('under concurrency from both shared.replicas never admits more than POINTS, and at most one slice per replica fewer', async () => {
    const before = exceeded().length;
    const answers = await flood(shared.replicas, '10.90.0.3', POINTS + 200, 32);
    expect(count(answers, 200) + count(answers, 429)).to.equal(POINTS + 200);
    expect(count(answers, 200)).to.be.within(POINTS - 2 * SLICE, POINTS);
    expect(exceeded().length - before).to.equal(1);
  });

  it('a flood of distinct addresses keeps the local map bounded; an evicted bucket keeps its count in the store', async () => {
    const prefix2 = `${shared.prefix}-lru`;
    const small = await twoReplicas(shared.tdb.url, prefix2, { windowS: 60, audit, apiLocalKeys: 50 });
    try {
      const [a] = small.replicas as [InProcessApp, InProcessApp];
      for (let i = 0; i < 3; i++) expect((await ping(a, '10.91.0.1')).status).to.equal(200);
      expect(await shared.redis.get(`${prefix2}:api:ip:10.91.0.1`)).to.equal(String(SLICE));
      const statuses = await Promise.all(Array.from({ length: 400 }, (_, i) => ping(a, `10.92.${i >> 8}.${i & 255}`).then((r) => r.status)));
      expect(statuses.every((s) => s === 200)).to.equal(true);
      expect(a.limiters.apiLocalBuckets()).to.be.at.most(50);
      // the evicted bucket reserves again from where the store is, not from a fresh budget
      expect((await ping(a, '10.91.0.1')).status).to.equal(200);
      expect(await shared.redis.get(`${prefix2}:api:ip:10.91.0.1`)).to.equal(String(2 * SLICE));
      let admitted = 4;
      while ((await ping(a, '10.91.0.1')).status === 200) admitted++;
      // the 2 points left in the evicted bucket are lost, never added
      expect(admitted).to.be.within(POINTS - SLICE, POINTS);
    } finally {
      await Promise.all(small.replicas.map((r) => r.close()));
      await Promise.all(small.clients.map((c) => quitRedisClient(c)));
      const keys = await shared.redis.keys(`${prefix2}:*`);
      if (keys.length) await shared.redis.del(...keys);
    }
  });
});

describe('API limiter from a local budget: window rollover', function () {
  this.timeout(60_000);
  const shared = replicasOnSharedRedis('rlroll', { windowS: 2, audit: recorder().audit });

  it('points reserved in a window are never spent in the next: the next window starts with a new reservation', async () => {
    const ip = '10.93.0.1';
    const key = `${shared.prefix}:api:ip:${ip}`;
    expect((await ping(shared.replicas[0]!, ip)).status).to.equal(200);
    expect((await ping(shared.replicas[1]!, ip)).status).to.equal(200);
    expect(await shared.redis.get(key)).to.equal(String(2 * SLICE)); // both hold SLICE - 1 points
    const deadline = Date.now() + 5_000;
    while ((await shared.redis.exists(key)) && Date.now() < deadline) await sleep(20);
    expect(await shared.redis.exists(key), 'window ended in the store').to.equal(0);
    const a = await ping(shared.replicas[0]!, ip);
    expect(a.status).to.equal(200);
    expect(await shared.redis.get(key)).to.equal(String(SLICE)); // a new reservation, not a leftover point
    expect(a.remaining).to.equal(POINTS - 1);
    const b = await ping(shared.replicas[1]!, ip);
    expect(await shared.redis.get(key)).to.equal(String(2 * SLICE));
    expect(b.remaining).to.equal(POINTS - 2 * SLICE + SLICE - 1);
    expect(b.reset).to.be.within(Math.floor(Date.now() / 1000), Math.ceil(Date.now() / 1000) + 2);
  });
});

describe('API limiter from a local budget: Redis fails mid-run', function () {
  this.timeout(60_000);
  const prefix = `test-rlbudgetfail-${randomBytes(4).toString('hex')}`;
  let port: number;
  let server: ChildProcess | undefined;
  let tdb: TestDatabase;
  let replicas: InProcessApp[];
  let clients: Redis[];

  before(async () => {
    port = await freePort();
    server = await startRedis(port);
    tdb = await createTestDatabase();
    ({ replicas, clients } = await twoReplicas(tdb.url, prefix, { windowS: 60, audit: recorder().audit, redisUrl: `redis://127.0.0.1:${port}` }));
  });
  after(async () => {
    await Promise.all((replicas ?? []).map((r) => r.close()));
    for (const c of clients ?? []) c.disconnect();
    await stopRedis(server);
    await tdb?.drop();
  });

  it('keeps serving, and limiting, from process memory', async () => {
    const a = replicas[0]!;
    expect((await ping(a, '10.94.0.1')).status).to.equal(200); // SLICE - 1 left here, from Redis
    await stopRedis(server);
    server = undefined;
    const started = Date.now();
    const first = await ping(a, '10.94.0.1');
    expect(first.status).to.equal(200);
    expect(Date.now() - started, 'no waiting on the dead store').to.be.below(1_000);
    let admitted = 1;
    let last = first;
    for (;;) {
      const r = await ping(a, '10.94.0.1');
      if (r.status !== 200) {
        last = r;
        break;
      }
      expect(r.limit).to.equal(String(POINTS));
      admitted++;
      if (admitted > 2 * POINTS) break;
    }
    expect(last.status).to.equal(429);
    // the slice left from Redis, then the budget again in memory
    expect(admitted).to.be.within(POINTS, POINTS + SLICE - 1);
    const line = a.logs.find((l) => l.msg === 'rate-limit store failed: limiter fell back to process memory' && l.limiter === 'api');
    expect(line?.level).to.equal('error');
  });
});

describe('API limiter from a local budget: the fast path (memory store)', function () {
  it('returns what next() returns, synchronously, when a point is held locally; sets the headers', async () => {
    const { config } = loadConfig({ NODE_ENV: 'test', RATE_LIMIT_API_POINTS: String(POINTS) });
    const limiters = createLimiters({ config, store: { kind: 'memory' }, logger: silentLogger, instruments: telemetry.instruments, audit: recorder().audit });
    const middleware = limitApiPaths(limiters.api);
    const koa = new Koa();
    const contextFor = () => {
      const req = new IncomingMessage(new Socket());
      req.url = '/api/ping';
      req.method = 'GET';
      return koa.createContext(req, new ServerResponse(req)) as unknown as AppContext;
    };
    const downstream = Promise.resolve('downstream');
    const next = () => downstream;
    await middleware(contextFor(), next); // the first request reserves a slice (store call)
    const ctx = contextFor();
    const answer = middleware(ctx, next);
    expect(answer, 'no promise of its own on the fast path').to.equal(downstream);
    expect(sentHeader(ctx.res, 'X-RateLimit-Limit')).to.equal(String(POINTS));
    expect(sentHeader(ctx.res, 'X-RateLimit-Remaining')).to.equal(String(POINTS - 2));
    expect(Number(sentHeader(ctx.res, 'X-RateLimit-Reset'))).to.be.within(Math.floor(Date.now() / 1000), Math.ceil(Date.now() / 1000) + 900);
  });
});
