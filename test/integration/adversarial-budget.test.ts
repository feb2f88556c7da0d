import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { createTenant, domainEnv, scratchDir, sql, type CreatedTenant } from '../helpers/domain';
import { addUser } from '../helpers/domain';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { startService, type ServiceHandle } from '../helpers/service';

/**
 * Budgets under attack, against two replicas sharing one PostgreSQL and one Redis. Sources are
 * told apart by X-Forwarded-For (TRUST_PROXY on, as behind the load balancer).
 */
describe('adversarial budgets: charged to verified principals, no lockout as a weapon (two replicas, Redis)', function () {
  this.timeout(120_000);
  let tdb: TestDatabase;
  let dir: ReturnType<typeof scratchDir>;
  let env: Record<string, string>;
  let replicas: ServiceHandle[] = [];
  const replicaDirs: Array<ReturnType<typeof scratchDir>> = [];
  let acme: CreatedTenant;

  const at = (i: number) => replicas[i % replicas.length]!.url;

  before(async () => {
    tdb = await createTestDatabase();
    dir = scratchDir('caly-adv-budget');
    env = domainEnv(tdb.url, dir.path);
    const shared = {
      ...env,
      TRUST_PROXY: 'true',
      REDIS_URL: 'redis://127.0.0.1:6379',
      RATE_LIMIT_PREFIX: `adv-${randomBytes(4).toString('hex')}`,
      RATE_LIMIT_API_POINTS: '100',
      RATE_LIMIT_API_WINDOW_S: '900',
      RATE_LIMIT_LOGIN_POINTS: '6',
      RATE_LIMIT_WEBHOOK_AUTH_POINTS: '20',
    };
    // Each replica its own DATA_DIR (audit journal), as in production.
    const dirs = [scratchDir('caly-adv-budget-r0'), scratchDir('caly-adv-budget-r1')];
    replicaDirs.push(...dirs);
    replicas = await Promise.all(dirs.map((d) => startService({ ...shared, DATA_DIR: d.path })));
    acme = await createTenant(env, { name: 'Acme', exophones: ['+918047112345'], ownerEmail: 'owner@acme.test' });
    await addUser(env, acme.tenantId, 'viewer@acme.test', 'viewer');
  });
  after(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await tdb?.drop();
    dir?.remove();
    for (const d of replicaDirs) d.remove();
  });

  it("101 requests with a logged-out viewer token exhaust the attacker's address, not the tenant: the owner keeps working on both replicas", async () => {
    const login = (email: string, password: string, ip: string) =>
      fetch(`${at(0)}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
        body: JSON.stringify({ email, password }),
      }).then((r) => r.json() as Promise<{ accessToken: string }>);
    const viewer = await login('viewer@acme.test', 'user password 123', '198.51.100.20');
    const owner = await login('owner@acme.test', acme.ownerPassword, '198.51.100.21');
    expect(
      (
        await fetch(`${at(1)}/api/auth/logout`, {
          method: 'POST',
          headers: { authorization: `Bearer ${viewer.accessToken}`, 'x-forwarded-for': '198.51.100.20' },
        })
      ).status,
    ).to.equal(204);
    const statuses: number[] = [];
    for (let i = 0; i < 101; i++) {
      statuses.push(
        (await fetch(`${at(i)}/api/calls`, { headers: { authorization: `Bearer ${viewer.accessToken}`, 'x-forwarded-for': '198.51.100.20' } })).status,
      );
    }
    expect(statuses.filter((s) => s === 401).length).to.be.within(97, 100); // the address budget (100, the 2 logins/logouts included)
    expect(statuses.at(-1)).to.equal(429);
    for (let i = 0; i < 2; i++) {
      const r = await fetch(`${at(i)}/api/calls`, { headers: { authorization: `Bearer ${owner.accessToken}`, 'x-forwarded-for': '198.51.100.21' } });
      expect(r.status, `owner on replica ${i}`).to.equal(200);
    }
  });

  it('six wrong passwords from one address lock out only that address for that account, not the user everywhere', async () => {
    const attempt = (password: string, ip: string, i: number) =>
      fetch(`${at(i)}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
        body: JSON.stringify({ email: 'Owner@Acme.test ', password }),
      });
    const attacker: number[] = [];
    for (let i = 0; i < 8; i++) attacker.push((await attempt('wrong password', '198.51.100.30', i)).status);
    expect(attacker.slice(0, 6)).to.deep.equal([401, 401, 401, 401, 401, 401]);
    expect(attacker.slice(6)).to.deep.equal([429, 429]);
    // The real owner, from elsewhere, on either replica.
    expect((await attempt(acme.ownerPassword, '198.51.100.31', 0)).status).to.equal(200);
    expect((await attempt(acme.ownerPassword, '198.51.100.31', 1)).status).to.equal(200);
    const failures = await sql<{ n: string; tenant_id: string }>(
      tdb.url,
      "SELECT count(*) AS n, max(tenant_id) AS tenant_id FROM audit_logs WHERE event_type = 'LOGIN_FAILURE'",
    );
    expect(Number(failures[0]!.n)).to.be.at.least(6);
    expect(failures[0]!.tenant_id).to.equal(acme.tenantId);
  });

  it('webhook credential guessing is limited per client address across replicas and audited; Exotel from elsewhere is not slowed', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const r = await fetch(`${at(i)}/webhooks/exotel/${randomBytes(32).toString('base64url')}/passthru?CallSid=g${i}`, {
        headers: { 'x-forwarded-for': '198.51.100.40' },
      });
      statuses.push(r.status);
    }
    expect(statuses.slice(0, 20).every((s) => s === 401)).to.equal(true);
    expect(statuses.slice(20).every((s) => s === 429)).to.equal(true);
    const ok = await fetch(`${at(1)}/webhooks/exotel/${acme.webhookCredential}/passthru?CallSid=real1&From=09876543210&To=08047112345`, {
      headers: { 'x-forwarded-for': '198.51.100.41' },
    });
    expect(ok.status).to.equal(200);
    const deadline = Date.now() + 10_000;
    let rows: Array<{ event_type: string; limiter: string | null }> = [];
    while (Date.now() < deadline) {
      rows = await sql(
        tdb.url,
        "SELECT event_type, metadata->>'limiter' AS limiter FROM audit_logs WHERE host(client_ip) = '198.51.100.40' AND event_type IN ('ACCESS_DENIED', 'RATE_LIMIT_EXCEEDED')",
      );
      if (rows.some((r) => r.event_type === 'RATE_LIMIT_EXCEEDED')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(rows.filter((r) => r.event_type === 'RATE_LIMIT_EXCEEDED').map((r) => r.limiter)).to.deep.equal(['webhook_auth']);
    expect(rows.filter((r) => r.event_type === 'ACCESS_DENIED').length).to.be.greaterThan(0);
  });
});
