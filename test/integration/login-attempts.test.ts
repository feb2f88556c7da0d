import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { scrape, startService, type ServiceHandle } from '../helpers/service';

/**
 * A brute-force attacker is soon limited by the generic API budget (it runs before the login
 * limiters). The login path's attempts must still be seen, with their route and outcome, by the
 * metric the brute-force alert reads, by the access log the runbook filters on, and by the span.
 */
describe('login attempts are counted however the attacker is limited', function () {
  this.timeout(60_000);
  let tdb: TestDatabase;
  let svc: ServiceHandle;
  before(async () => {
    tdb = await createTestDatabase();
    svc = await startService({ DATABASE_URL: tdb.url, RATE_LIMIT_API_POINTS: '5', RATE_LIMIT_LOGIN_POINTS: '3', PASSWORD_HASH_MEMORY_KIB: '1024' });
  });
  after(async () => {
    await svc?.stop();
    await tdb?.drop();
  });

  it("20 wrong logins from one address: every attempt counted by route and outcome, the API limiter's 429s too", async () => {
    const statuses: number[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${svc.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'victim@example.com', password: `guess-${i}-wrong` }),
      });
      statuses.push(res.status);
      ids.push(res.headers.get('x-request-id')!);
      await res.arrayBuffer();
    }
    expect(statuses.filter((s) => s === 401).length, 'failed attempts').to.equal(3);
    expect(statuses.filter((s) => s === 429).length, 'limited attempts').to.equal(17);

    const samples = (await scrape(svc.metricsUrl)).filter((s) => s.name === 'caly_auth_login_attempts_total');
    const by = (outcome: string) =>
      samples.filter((s) => s.labels.outcome === outcome && s.labels.http_route === '/api/auth/login').reduce((a, s) => a + s.value, 0);
    expect(by('failure'), 'failure').to.equal(3);
    expect(by('rate_limited'), 'rate_limited').to.equal(17);

    // The runbook filters access lines on route: the API limiter's 429s must carry it as well.
    const lastId = ids[ids.length - 1]!;
    const line = await svc.waitForLog((l) => l.request_id === lastId && (l.msg === 'request' || l.msg === 'slow request'));
    expect(line.status).to.equal(429);
    expect(line.route).to.equal('/api/auth/login');
  });

  it('other routes are not login attempts', async () => {
    await fetch(`${svc.url}/api/ping`);
    await fetch(`${svc.url}/api/auth/login`, { method: 'GET' });
    const samples = (await scrape(svc.metricsUrl)).filter((s) => s.name === 'caly_auth_login_attempts_total');
    expect(samples.reduce((a, s) => a + s.value, 0)).to.equal(20);
  });
});
