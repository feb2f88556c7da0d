import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { scrape, startService, type ServiceHandle } from '../helpers/service';

const REDIS_URL = 'redis://127.0.0.1:6379';

function login(base: string, email: string, ip?: string, password = 'not-the-password'): Promise<Response> {
  return fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(ip ? { 'X-Forwarded-For': ip } : {}) },
    body: JSON.stringify({ email, password }),
  });
}

async function drain(res: Response): Promise<Response> {
  await res.arrayBuffer();
  return res;
}

const nowS = () => Date.now() / 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until a response's X-RateLimit-Reset (unix seconds) has passed. */
async function waitForReset(res: Response): Promise<void> {
  const reset = Number(res.headers.get('x-ratelimit-reset'));
  await sleep(Math.max(0, reset * 1000 - Date.now()) + 100);
}

async function deleteKeys(prefix: string): Promise<void> {
  const r = new Redis(REDIS_URL);
  const keys = await r.keys(`${prefix}:*`);
  if (keys.length) await r.del(...keys);
  await r.quit();
}

describe('rate limits on the running service (shared Redis)', function () {
  this.timeout(60_000);
  const prefix = `test-rl-${randomBytes(4).toString('hex')}`;
  let tdb: TestDatabase;
  let svc: ServiceHandle;

  before(async () => {
    tdb = await createTestDatabase();
    svc = await startService({
      DATABASE_URL: tdb.url,
      REDIS_URL,
      RATE_LIMIT_PREFIX: prefix,
      TRUST_PROXY: 'true',
      RATE_LIMIT_LOGIN_POINTS: '3',
      RATE_LIMIT_LOGIN_IP_POINTS: '4',
      RATE_LIMIT_LOGIN_WINDOW_S: '3',
      // login tests make up to 6 /api requests per address inside one API window
      RATE_LIMIT_API_POINTS: '6',
      RATE_LIMIT_API_WINDOW_S: '2',
    });
  });
  after(async () => {
    await svc?.stop();
    await tdb?.drop();
    await deleteKeys(prefix);
  });

  it('login: per address and normalised email pair (trimmed, lower-cased); headers count down; 429 with Retry-After', async () => {
    const spellings = ['Lim.Email@Example.com', '  lim.email@example.COM ', 'lim.email@example.com'];
    const t0 = nowS();
    for (let i = 0; i < 3; i++) {
      const res = await drain(await login(svc.url, spellings[i]!, '10.20.0.1'));
      expect(res.status, `attempt ${i + 1}`).to.equal(401);
      expect(res.headers.get('x-ratelimit-limit')).to.equal('3');
      expect(res.headers.get('x-ratelimit-remaining')).to.equal(String(2 - i));
      const reset = Number(res.headers.get('x-ratelimit-reset'));
      expect(reset).to.be.within(Math.floor(t0), Math.ceil(t0) + 4);
    }
    const limited = await login(svc.url, 'LIM.EMAIL@example.com', '10.20.0.1');
    expect(limited.status).to.equal(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).to.be.within(1, 3);
    expect(limited.headers.get('x-ratelimit-remaining')).to.equal('0');
    expect(limited.headers.get('x-ratelimit-limit')).to.equal('3');
    const body = (await limited.json()) as { error: { code: string; retryAfter: number; requestId: string } };
    expect(body.error.code).to.equal('RATE_LIMIT_EXCEEDED');
    expect(body.error.retryAfter).to.equal(retryAfter);
    expect(body.error.requestId).to.equal(limited.headers.get('x-request-id'));

    // another person is not affected, and neither is the same account from another address:
    // a guesser locks out only itself (lockout must not be a denial-of-service tool)
    expect((await drain(await login(svc.url, 'someone.else@example.com', '10.20.0.10'))).status).to.equal(401);
    expect((await drain(await login(svc.url, 'lim.email@example.com', '10.20.0.12'))).status).to.equal(401);

    // the bucket empties when its window ends
    await waitForReset(limited);
    const again = await drain(await login(svc.url, 'lim.email@example.com', '10.20.0.1'));
    expect(again.status).to.equal(401);
    expect(again.headers.get('x-ratelimit-remaining')).to.equal('2');
  });

  it('login: per client address (X-Forwarded-For through TRUST_PROXY), whatever the email', async () => {
    for (let i = 0; i < 4; i++) expect((await drain(await login(svc.url, `user${i}@ip-test.example`, '10.30.0.1'))).status).to.equal(401);
    const limited = await drain(await login(svc.url, 'user9@ip-test.example', '10.30.0.1'));
    expect(limited.status).to.equal(429);
    expect((await drain(await login(svc.url, 'user9@ip-test.example', '10.30.0.2'))).status).to.equal(401);
  });

  it('logs a warn line per rejection with the limiter and request id, never the email', async () => {
    const res = await drain(await login(svc.url, 'secret.person@example.com', '10.30.0.1'));
    expect(res.status).to.equal(429);
    const id = res.headers.get('x-request-id');
    const line = await svc.waitForLog((l) => l.msg === 'rate limit exceeded' && l.request_id === id);
    expect(line.level).to.equal('warn');
    expect(line.limiter).to.equal('login_ip');
    expect(JSON.stringify(line)).not.to.include('secret.person');
  });

  it('api: per address on /api/*, X-RateLimit-* on every answer, resets after the window; health is never limited', async () => {
    const ip = '10.40.0.1';
    for (let i = 0; i < 6; i++) {
      const res = await drain(await fetch(`${svc.url}/api/ping`, { headers: { 'X-Forwarded-For': ip } }));
      expect(res.status).to.equal(200);
      expect(res.headers.get('x-ratelimit-limit')).to.equal('6');
      expect(res.headers.get('x-ratelimit-remaining')).to.equal(String(5 - i));
    }
    const limited = await drain(await fetch(`${svc.url}/api/ping`, { headers: { 'X-Forwarded-For': ip } }));
    expect(limited.status).to.equal(429);
    // unknown /api paths spend the same budget
    expect((await drain(await fetch(`${svc.url}/api/nope`, { headers: { 'X-Forwarded-For': ip } }))).status).to.equal(429);
    // prepending an address does not give a new bucket: only the proxy's (last) entry counts
    expect((await drain(await fetch(`${svc.url}/api/ping`, { headers: { 'X-Forwarded-For': `1.2.3.4, ${ip}` } }))).status).to.equal(429);
    // another address has its own budget
    expect((await drain(await fetch(`${svc.url}/api/ping`, { headers: { 'X-Forwarded-For': '10.40.0.2' } }))).status).to.equal(200);
    // health checks from the limited address still answer, without limit headers
    for (let i = 0; i < 10; i++) {
      const h = await drain(await fetch(`${svc.url}/health/live`, { headers: { 'X-Forwarded-For': ip } }));
      expect(h.status).to.equal(200);
      expect(h.headers.get('x-ratelimit-limit')).to.equal(null);
    }
    await waitForReset(limited);
    expect((await drain(await fetch(`${svc.url}/api/ping`, { headers: { 'X-Forwarded-For': ip } }))).status).to.equal(200);
  });

  it('counts rejections by limiter in caly_ratelimit_rejections_total', async () => {
    const samples = (await scrape(svc.metricsUrl)).filter((s) => s.name === 'caly_ratelimit_rejections_total');
    const by = (limiter: string) => samples.find((s) => s.labels.limiter === limiter)?.value ?? 0;
    expect(by('login_email')).to.be.at.least(1);
    expect(by('login_ip')).to.be.at.least(2);
    expect(by('api')).to.be.at.least(3);
    for (const s of samples) expect(Object.keys(s.labels)).to.deep.equal(['limiter']);
  });

  it('stores buckets under <prefix>:<limiter>: with emails hashed', async () => {
    expect((await drain(await login(svc.url, 'Key.Check@Example.com', '10.60.0.1'))).status).to.equal(401);
    const r = new Redis(REDIS_URL);
    try {
      const keys = await r.keys(`${prefix}:*`);
      expect(keys.some((k) => k.startsWith(`${prefix}:login_email:p:`))).to.equal(true);
      expect(keys.some((k) => k.startsWith(`${prefix}:login_ip:ip:10.60.0.1`))).to.equal(true);
      expect(keys.some((k) => k.startsWith(`${prefix}:api:ip:`))).to.equal(true);
      expect(keys.join(' ')).not.to.match(/example\.com/i);
    } finally {
      await r.quit();
    }
  });
});

describe('rate limits shared by two service processes on one Redis', function () {
  this.timeout(90_000);
  const prefix = `test-rl2-${randomBytes(4).toString('hex')}`;
  let tdb: TestDatabase;
  let a: ServiceHandle;
  let b: ServiceHandle;

  before(async () => {
    tdb = await createTestDatabase();
    const env = {
      DATABASE_URL: tdb.url,
      REDIS_URL,
      RATE_LIMIT_PREFIX: prefix,
      TRUST_PROXY: 'true',
      RATE_LIMIT_API_POINTS: '100000',
      DB_POOL_MIN: '0',
      ACCESS_LOG: 'errors-and-slow',
    };
    [a, b] = await Promise.all([startService(env), startService(env)]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await tdb?.drop();
    await deleteKeys(prefix);
  });

  it('hold the default login limit together: 6 in total, the 7th rejected', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await drain(await login(i % 2 ? b.url : a.url, 'shared@example.com', '10.50.0.1'))).status);
    expect(statuses).to.deep.equal([401, 401, 401, 401, 401, 401, 429]);
  });

  it('under 200 concurrent attempts exactly 6 reach the 401, the other 194 get 429', async () => {
    const attempts = Array.from({ length: 200 }, (_, i) => login(i % 2 ? b.url : a.url, 'burst@example.com', '10.50.0.2').then(drain));
    const statuses = (await Promise.all(attempts)).map((r) => r.status);
    const count = (s: number) => statuses.filter((x) => x === s).length;
    expect({ 401: count(401), 429: count(429), other: statuses.length - count(401) - count(429) }).to.deep.equal({ 401: 6, 429: 194, other: 0 });
  });
});
