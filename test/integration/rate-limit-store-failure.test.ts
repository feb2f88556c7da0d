import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { freePort } from '../helpers/ports';
import { startRedis, stopRedis } from '../helpers/redis-server';
import { scrape, startService, type ServiceHandle } from '../helpers/service';

const ping = (svc: ServiceHandle) => fetch(`${svc.url}/api/ping`).then(async (r) => (await r.arrayBuffer(), r));

describe('rate limits when Redis fails mid-run', function () {
  this.timeout(60_000);
  const prefix = `test-rlfail-${randomBytes(4).toString('hex')}`;
  let port: number;
  let redis: ChildProcess | undefined;
  let tdb: TestDatabase;
  let svc: ServiceHandle;

  before(async () => {
    port = await freePort();
    redis = await startRedis(port);
    tdb = await createTestDatabase();
    svc = await startService({
      DATABASE_URL: tdb.url,
      REDIS_URL: `redis://127.0.0.1:${port}`,
      RATE_LIMIT_PREFIX: prefix,
      RATE_LIMIT_API_POINTS: '8',
      RATE_LIMIT_API_WINDOW_S: '60',
    });
  });
  after(async () => {
    await svc?.stop();
    await stopRedis(redis);
    await tdb?.drop();
  });

  it('counts in Redis while it is up', async () => {
    for (let i = 0; i < 2; i++) expect((await ping(svc)).status).to.equal(200);
    const r = new Redis(port, '127.0.0.1');
    try {
      const keys = await r.keys(`${prefix}:api:*`);
      expect(keys).to.have.length(1);
      expect(await r.get(keys[0]!)).to.equal('2');
    } finally {
      await r.quit();
    }
  });

  it('keeps serving from process memory after Redis is killed, with an error line and a metric', async () => {
    await stopRedis(redis);
    redis = undefined;
    const started = Date.now();
    const first = await ping(svc);
    expect(first.status).to.equal(200);
    expect(Date.now() - started, 'no waiting on the dead store').to.be.below(1_000);
    // the memory fallback starts its own count, and still limits
    expect(first.headers.get('x-ratelimit-remaining')).to.equal('7');
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await ping(svc)).status);
    expect(statuses).to.deep.equal([200, 200, 200, 200, 200, 200, 200, 429]);
    const login = await fetch(`${svc.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'X-Forwarded-For': '10.70.0.1' },
      body: JSON.stringify({ email: 'a@example.com', password: 'x' }),
    });
    expect(login.status).to.equal(429); // the api budget of this address is spent, in memory

    const line = await svc.waitForLog((l) => l.msg === 'rate-limit store failed: limiter fell back to process memory' && l.limiter === 'api');
    expect(line.level).to.equal('error');
    await svc.waitForLog((l) => l.level === 'error' && String(l.msg).startsWith('rate-limit store (Redis) connection lost'));
    const failures = (await scrape(svc.metricsUrl)).find((s) => s.name === 'caly_ratelimit_store_failures_total' && s.labels.limiter === 'api');
    expect(failures?.value ?? 0).to.be.at.least(9);
  });

  it('goes back to Redis when it returns', async () => {
    redis = await startRedis(port);
    await svc.waitForLog((l) => l.msg === 'rate-limit store (Redis) connection restored', 15_000);
    expect((await ping(svc)).status).to.equal(200);
    const r = new Redis(port, '127.0.0.1');
    try {
      const keys = await r.keys(`${prefix}:api:*`);
      expect(keys).to.have.length(1);
      expect(await r.get(keys[0]!)).to.equal('1'); // a fresh Redis: counting there again
    } finally {
      await r.quit();
    }
  });
});
