import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { createServiceKeys } from '../../src/platform/crypto/keys';
import { addUser, Client, createTenant, domainEnv, K1, scratchDir, sql, type CreatedTenant, type Tokens } from '../helpers/domain';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { scrape, startService, type ServiceHandle } from '../helpers/service';

type Row = { event_type: string; severity: string; outcome: string; tenant_id: string | null; user_id: string | null; metadata: Record<string, unknown> };

/** Polls until `done(rows)` holds or the bound passes; returns the last rows either way. */
async function until(url: string, where: string, values: unknown[], done: (rows: Row[]) => boolean, timeoutMs = 15_000): Promise<Row[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await sql<Row>(url, `SELECT event_type, severity, outcome, tenant_id, user_id, metadata FROM audit_logs WHERE ${where} ORDER BY seq`, values);
    if (done(rows) || Date.now() > deadline) return rows;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Rows stored one by one plus what AUDIT_SUMMARY rows report as held back, for one source and type. */
async function accounted(url: string, source: string, type: string, reason?: string): Promise<{ stored: number; summarised: number }> {
  const stored = await sql<{ n: string }>(
    url,
    `SELECT count(*) AS n FROM audit_logs WHERE event_type = $1 AND host(client_ip) = $2 AND tenant_id IS NULL AND ($3::text IS NULL OR metadata->>'reason' = $3)`,
    [type, source, reason ?? null],
  );
  const summ = await sql<{ n: string | null }>(
    url,
    `SELECT sum((metadata->>'count')::int) AS n FROM audit_logs WHERE event_type = 'AUDIT_SUMMARY' AND metadata->>'source' = $1 AND metadata->>'event_type' = $2`,
    [source, type],
  );
  return { stored: Number(stored[0]!.n), summarised: Number(summ[0]!.n ?? 0) };
}

export const auditFigures = { attempts: 0, lost: 0 };

describe('adversarial audit: nothing an attacker does is hidden from the trail', function () {
  this.timeout(120_000);
  let tdb: TestDatabase;
  let dir: ReturnType<typeof scratchDir>;
  let env: Record<string, string>;
  let svc: ServiceHandle;
  let acme: CreatedTenant;
  let globex: CreatedTenant;
  let viewerId: string;
  let acmeCall: string;
  let client: Client;

  const from = (ip: string, extra: Record<string, string> = {}) => ({ 'x-forwarded-for': ip, 'user-agent': 'adversary', ...extra });

  before(async () => {
    tdb = await createTestDatabase();
    dir = scratchDir('caly-adv-audit');
    env = domainEnv(tdb.url, dir.path);
    svc = await startService({
      ...env,
      TRUST_PROXY: 'true',
      AUDIT_THROTTLE_PER_MINUTE: '5',
      AUDIT_THROTTLE_WINDOW_S: '2',
      RATE_LIMIT_WEBHOOK_AUTH_POINTS: '100000',
    });
    client = new Client(svc);
    [acme, globex] = await Promise.all([
      createTenant(env, { name: 'Acme', exophones: ['+918047112345'], ownerEmail: 'owner@acme.test' }),
      createTenant(env, { name: 'Globex', exophones: ['+918047199999'], ownerEmail: 'owner@globex.test' }),
    ]);
    viewerId = await addUser(env, acme.tenantId, 'viewer@acme.test', 'viewer');
    const hook = await fetch(`${svc.url}/webhooks/exotel/${acme.webhookCredential}/passthru?CallSid=audit1&From=09876543210&To=08047112345`, {
      headers: { 'user-agent': 'Exotel' },
    });
    expect(hook.status).to.equal(200);
    acmeCall = (await sql<{ id: string }>(tdb.url, "SELECT id FROM calls WHERE call_sid = 'audit1'"))[0]!.id;
  });
  after(async () => {
    console.log(`      figures: ${auditFigures.attempts} audited attempts, ${auditFigures.lost} missing from the trail`);
    await svc?.stop();
    await tdb?.drop();
    dir?.remove();
  });

  it("60 anonymous webhook guesses from one address do not hide a viewer's 8 refusals from the same address, and are all accounted for", async () => {
    const ip = '203.0.113.10';
    for (let i = 0; i < 60; i++) {
      const r = await fetch(`${svc.url}/webhooks/exotel/${randomBytes(32).toString('base64url')}/passthru?CallSid=g${i}`, { headers: from(ip) });
      expect(r.status).to.equal(401);
    }
    const viewer = await client.login('viewer@acme.test', 'user password 123');
    for (let i = 0; i < 4; i++) {
      expect(
        (await fetch(`${svc.url}/api/calls/${acmeCall}`, { method: 'DELETE', headers: from(ip, { authorization: `Bearer ${viewer.accessToken}` }) })).status,
      ).to.equal(403);
      expect((await fetch(`${svc.url}/api/audit-logs`, { headers: from(ip, { authorization: `Bearer ${viewer.accessToken}` }) })).status).to.equal(403);
    }
    const mine = await until(tdb.url, "event_type = 'ACCESS_DENIED' AND user_id = $1", [viewerId], (r) => r.length >= 8);
    expect(mine).to.have.length(8);
    for (const r of mine) expect(r.tenant_id).to.equal(acme.tenantId);
    // The 60 anonymous refusals: 5 stored one by one, the other 55 in a summary row once the window ends.
    const deadline = Date.now() + 15_000;
    let a = await accounted(tdb.url, ip, 'ACCESS_DENIED');
    while (a.stored + a.summarised < 60 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      a = await accounted(tdb.url, ip, 'ACCESS_DENIED');
    }
    auditFigures.attempts += 68;
    auditFigures.lost += Math.max(0, 60 - a.stored - a.summarised) + Math.max(0, 8 - mine.length);
    expect(a).to.deep.equal({ stored: 5, summarised: 55 });
    const summary = await until(tdb.url, "event_type = 'AUDIT_SUMMARY' AND metadata->>'source' = $1", [ip], (r) => r.length > 0);
    expect(summary[0]!.metadata).to.include.keys('first_seen', 'last_seen', 'count', 'event_type', 'source');
    const held = (await scrape(svc.metricsUrl)).filter((s) => s.name === 'caly_audit_held_back_total' && s.labels.event_type === 'ACCESS_DENIED');
    expect(held.reduce((n, s) => n + s.value, 0)).to.be.at.least(55);
  });

  it('23 forged tokens are audited through the summarising path: none vanish', async () => {
    const ip = '203.0.113.11';
    const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(
      JSON.stringify({ sub: viewerId, tid: acme.tenantId, role: 'owner', sid: viewerId, iss: 'caly-api', aud: 'caly-api', exp: 4102444800 }),
    ).toString('base64url');
    for (let i = 0; i < 23; i++) {
      const forged = `${header}.${payload}.${randomBytes(32).toString('base64url')}`;
      expect((await fetch(`${svc.url}/api/calls`, { headers: from(ip, { authorization: `Bearer ${forged}` }) })).status).to.equal(401);
    }
    const deadline = Date.now() + 15_000;
    let a = await accounted(tdb.url, ip, 'ACCESS_DENIED', 'invalid_token');
    while (a.stored + a.summarised < 23 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      a = await accounted(tdb.url, ip, 'ACCESS_DENIED', 'invalid_token');
    }
    auditFigures.attempts += 23;
    auditFigures.lost += Math.max(0, 23 - a.stored - a.summarised);
    expect(a.stored + a.summarised).to.equal(23);
    expect(a.stored).to.equal(5);
  });

  it('60 cross-tenant id probes are each audited under the tenant probed, naming the prober', async () => {
    const globexOwner = await client.login('owner@globex.test', globex.ownerPassword);
    const auth = { authorization: `Bearer ${globexOwner.accessToken}`, 'content-type': 'application/json' };
    for (let i = 0; i < 20; i++) {
      expect((await fetch(`${svc.url}/api/calls/${acmeCall}`, { headers: from('203.0.113.12', auth) })).status).to.equal(404);
      expect(
        (await fetch(`${svc.url}/api/calls/${acmeCall}`, { method: 'PATCH', body: '{"resolved":true}', headers: from('203.0.113.12', auth) })).status,
      ).to.equal(404);
      expect((await fetch(`${svc.url}/api/calls/${acmeCall}`, { method: 'DELETE', headers: from('203.0.113.12', auth) })).status).to.equal(404);
    }
    const rows = await until(tdb.url, "event_type = 'ACCESS_DENIED' AND metadata->>'reason' = 'cross_tenant_id'", [], (r) => r.length >= 60);
    auditFigures.attempts += 60;
    auditFigures.lost += Math.max(0, 60 - rows.length);
    expect(rows).to.have.length(60);
    for (const r of rows) {
      expect(r.tenant_id).to.equal(acme.tenantId);
      expect(r.user_id).to.equal(globexOwner.user.id);
      expect(r.metadata.actor_tenant_id).to.equal(globex.tenantId);
    }
    // A random id that exists nowhere is a plain 404, not a probe of anyone.
    expect((await fetch(`${svc.url}/api/calls/00000000-0000-4000-8000-000000000000`, { headers: from('203.0.113.12', auth) })).status).to.equal(404);
  });

  it('a logged-out token is refused and audited under its tenant; refresh after logout is MEDIUM, true reuse CRITICAL', async () => {
    const s1: Tokens = await client.login('viewer@acme.test', 'user password 123');
    expect((await fetch(`${svc.url}/api/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${s1.accessToken}` } })).status).to.equal(204);
    for (let i = 0; i < 10; i++)
      expect((await fetch(`${svc.url}/api/calls`, { headers: from('203.0.113.13', { authorization: `Bearer ${s1.accessToken}` }) })).status).to.equal(401);
    const ended = await until(tdb.url, "metadata->>'reason' = 'session_ended'", [], (r) => r.length >= 10);
    expect(ended).to.have.length(10);
    for (const r of ended) expect([r.tenant_id, r.user_id]).to.deep.equal([acme.tenantId, viewerId]);

    const refresh = (t: string) =>
      fetch(`${svc.url}/api/auth/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken: t }) });
    expect((await refresh(s1.refreshToken)).status).to.equal(401);
    const afterLogout = await until(tdb.url, "metadata->>'reason' = 'refresh_after_logout'", [], (r) => r.length >= 1);
    expect(afterLogout.map((r) => [r.event_type, r.severity, r.tenant_id])).to.deep.equal([['ACCESS_DENIED', 'MEDIUM', acme.tenantId]]);

    const s2 = await client.login('viewer@acme.test', 'user password 123');
    expect((await refresh(s2.refreshToken)).status).to.equal(200);
    expect((await refresh(s2.refreshToken)).status).to.equal(401); // the rotated token again: theft
    const theft = await until(tdb.url, "metadata->>'reason' = 'refresh_token_reuse'", [], (r) => r.length >= 1);
    expect(theft.map((r) => [r.event_type, r.severity, r.tenant_id, r.user_id])).to.deep.equal([['SECURITY_VIOLATION', 'CRITICAL', acme.tenantId, viewerId]]);
  });

  it('a validly signed token without exp is refused', async () => {
    const { SignJWT } = await import('jose');
    const s = await client.login('owner@acme.test', acme.ownerPassword);
    const key = createServiceKeys({ ENCRYPTION_KEY: K1, ENCRYPTION_KEYS_PREVIOUS: undefined, PHONE_HASH_KEY: undefined } as never).accessTokenKeys[0]!;
    const forever = await new SignJWT({
      tid: acme.tenantId,
      role: 'owner',
      sid: (
        await sql<{ family_id: string }>(tdb.url, 'SELECT family_id FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL LIMIT 1', [s.user.id])
      )[0]!.family_id,
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(s.user.id)
      .setIssuer('caly-api')
      .setAudience('caly-api')
      .setIssuedAt()
      .sign(key);
    expect((await fetch(`${svc.url}/api/auth/me`, { headers: { authorization: `Bearer ${s.accessToken}` } })).status).to.equal(200);
    expect((await fetch(`${svc.url}/api/auth/me`, { headers: { authorization: `Bearer ${forever}` } })).status).to.equal(401);
  });
});
