import { expect } from 'chai';
import { addUser, auditRows, Client, createTenant, domainEnv, runCli, scratchDir, sql, type CreatedTenant, type Tokens } from '../helpers/domain';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { startOtlpReceiver } from '../helpers/otlp-receiver';
import { startService, type ServiceHandle } from '../helpers/service';

/**
 * Users and login against the running service and real PostgreSQL: the tenant CLI, login
 * success and failure (same answer, similar time), refresh rotation and reuse detection, logout,
 * password change, and the audit API's role checks.
 */
describe('domain: tenants CLI, login and sessions', function () {
  this.timeout(60_000);
  const ADMIN_TOKEN = 'platform-admin-token-for-tests';
  let tdb: TestDatabase;
  let dir: ReturnType<typeof scratchDir>;
  let env: Record<string, string>;
  let svc: ServiceHandle;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let api: Client;
  let acme: CreatedTenant;
  let globex: CreatedTenant;

  before(async function () {
    this.timeout(120_000);
    [tdb, receiver] = await Promise.all([createTestDatabase('caly_dom_auth'), startOtlpReceiver()]);
    dir = scratchDir('caly-dom-auth');
    // A realistic argon2 cost here (8 MiB) so that the timing comparison below measures hashing, not noise.
    env = domainEnv(tdb.url, dir.path, { PASSWORD_HASH_MEMORY_KIB: '8192', ADMIN_TOKEN });
    acme = await createTenant(env, {
      name: 'Acme',
      exophones: ['+918047112345'],
      ownerEmail: 'Owner@Acme.test',
      extra: ['--exotel-sid', 'acme1', '--exotel-api-key', 'ak-0123456789abcd', '--exotel-api-token', 'tok-secret-9876'],
    });
    globex = await createTenant(env, { name: 'Globex', exophones: ['08047112346'], ownerEmail: 'owner@globex.test', sector: 'fintech' });
    await addUser(env, acme.tenantId, 'viewer@acme.test', 'viewer');
    await addUser(env, acme.tenantId, 'admin@acme.test', 'admin');
    svc = await startService({ ...env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    api = new Client(svc);
  });
  after(async () => {
    await svc?.stop();
    await receiver?.close();
    await tdb?.drop();
    dir?.remove();
  });

  describe('tenant CLI', () => {
    it('refuses bad input with one message per flag and exit 1, writing nothing', async () => {
      const r = await runCli(
        'cli/tenants.js',
        ['create', '--name', 'X', '--sector', 'bogus', '--exophone', '12', '--owner-email', 'not-an-email', '--owner-password', 'short'],
        env,
      );
      expect(r.code).to.equal(1);
      for (const flag of ['--sector', '--exophone', '--owner-email', '--owner-password']) expect(r.stderr).to.include(flag);
      expect(r.stdout).to.equal('');
      expect(await sql(tdb.url, `SELECT 1 FROM tenants WHERE name = 'X'`)).to.have.length(0);
    });

    it('an ExoPhone belongs to one tenant (any spelling) and an email to one user', async () => {
      const dupPhone = await runCli(
        'cli/tenants.js',
        [
          'create',
          '--name',
          'Dup',
          '--sector',
          'support',
          '--exophone',
          '+91 80471 12345',
          '--owner-email',
          'dup@dup.test',
          '--owner-password',
          'dup password 123',
        ],
        env,
      );
      expect(dupPhone.code).to.equal(1);
      expect(dupPhone.stderr).to.match(/already exists/);
      const dupEmail = await runCli(
        'cli/tenants.js',
        ['add-user', '--tenant', globex.tenantId, '--email', 'OWNER@acme.test', '--role', 'agent', '--password', 'some password 12'],
        env,
      );
      expect(dupEmail.code).to.equal(1);
      expect(await sql(tdb.url, `SELECT 1 FROM tenants WHERE name = 'Dup'`)).to.have.length(0);
    });

    it('human output shows the webhook URLs and the credential once; only its SHA-256 is stored', async () => {
      const r = await runCli(
        'cli/tenants.js',
        [
          'create',
          '--name',
          'Initech',
          '--sector',
          'saas',
          '--exophone',
          '+918047112399',
          '--owner-email',
          'o@initech.test',
          '--owner-password',
          'initech password',
        ],
        { ...env, PUBLIC_BASE_URL: 'https://api.caly.test' },
      );
      expect(r.code, r.stderr).to.equal(0);
      const m = /https:\/\/api\.caly\.test\/webhooks\/exotel\/([A-Za-z0-9_-]{43})\/passthru/.exec(r.stdout);
      expect(m, r.stdout).to.exist;
      expect(r.stdout).to.include(`https://api.caly.test/webhooks/exotel/${m![1]}/status`);
      const rows = await sql<{ h: string }>(tdb.url, `SELECT encode(webhook_credential_hash, 'hex') AS h FROM tenants WHERE name = 'Initech'`);
      expect(rows[0]!.h).to.have.length(64);
      const stored = await sql(tdb.url, `SELECT row_to_json(t)::text AS j FROM tenants t`);
      expect(JSON.stringify(stored)).not.to.include(m![1]);
    });

    it('Exotel API credentials are encrypted at rest', async () => {
      const rows = await sql<{ k: string; t: string }>(tdb.url, 'SELECT exotel_api_key_enc AS k, exotel_api_token_enc AS t FROM tenants WHERE id = $1', [
        acme.tenantId,
      ]);
      expect(rows[0]!.k).to.match(/^v1\.[0-9a-f]{8}\./);
      expect(rows[0]!.k).not.to.include('0123456789abcd');
      expect(rows[0]!.t).not.to.include('secret-9876');
    });
  });

  describe('login', () => {
    it('succeeds with a normalised email: tokens, no-store, and a LOGIN_SUCCESS audit event', async () => {
      const r = await api.json<Tokens>('POST', '/api/auth/login', '/api/auth/login', { json: { email: '  OWNER@ACME.test ', password: acme.ownerPassword } });
      expect(r.status).to.equal(200);
      expect(r.res.headers.get('cache-control')).to.equal('no-store');
      expect(r.body.tokenType).to.equal('Bearer');
      expect(r.body.expiresIn).to.equal(900);
      expect(r.body.refreshToken).to.match(/^[A-Za-z0-9_-]{43}$/);
      expect(r.body.user).to.deep.equal({ id: acme.ownerId, email: 'owner@acme.test', role: 'owner', tenantId: acme.tenantId });
      const claims = JSON.parse(Buffer.from(r.body.accessToken.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
      expect(claims).to.include({ sub: acme.ownerId, tid: acme.tenantId, role: 'owner' });
      expect(Number(claims.exp) - Number(claims.iat)).to.equal(900);
      const rows = await auditRows(tdb.url, `event_type = 'LOGIN_SUCCESS' AND user_id = $1`, [acme.ownerId]);
      expect(rows[0]!.tenant_id).to.equal(acme.tenantId);
    });

    it('unknown email and wrong password get the same 401, and both are audited with their reason', async () => {
      // Equal timing (a dummy argon2 verification for unknown emails) is a benchmark's question,
      // not a test's on shared cores: here, the answers must be indistinguishable.
      const attempt = async (email: string) => {
        const r = await api.json<{ error: { code: string; message: string } }>('POST', '/api/auth/login', '/api/auth/login', {
          json: { email, password: 'wrong password!' },
        });
        return { status: r.status, error: r.body.error };
      };
      for (let i = 0; i < 8; i++) {
        const a = await attempt(`nobody${i}@acme.test`);
        const b = await attempt('owner@acme.test');
        expect(a.status).to.equal(401);
        expect(b.status).to.equal(401);
        expect(a.error.message).to.equal('Invalid email or password');
        expect(b.error).to.deep.include({ code: a.error.code, message: a.error.message });
      }
      const rows = await auditRows(tdb.url, `event_type = 'LOGIN_FAILURE'`, [], 16);
      const reasons = rows.map((r) => (r.metadata as { reason: string }).reason);
      expect(reasons.filter((r) => r === 'unknown_email')).to.have.length(8);
      expect(reasons.filter((r) => r === 'wrong_password')).to.have.length(8);
      expect(JSON.stringify(rows)).not.to.include('nobody0@acme.test'); // an email reference, not the address
    });

    it('a disabled user gets the same 401', async () => {
      await addUser(env, acme.tenantId, 'gone@acme.test', 'agent', 'gone password 12');
      await sql(tdb.url, `UPDATE users SET active = false WHERE email = 'gone@acme.test'`);
      const r = await api.json<{ error: { message: string } }>('POST', '/api/auth/login', '/api/auth/login', {
        json: { email: 'gone@acme.test', password: 'gone password 12' },
      });
      expect(r.status).to.equal(401);
      expect(r.body.error.message).to.equal('Invalid email or password');
    });

    it('bad input is a 400 naming the fields, never a 500', async () => {
      const r = await api.json<{ error: { code: string; details: Array<{ path: string }> } }>('POST', '/api/auth/login', '/api/auth/login', {
        json: { email: 'nope', password: '', extra: 1 },
      });
      expect(r.status).to.equal(400);
      expect(r.body.error.details.map((d) => d.path).sort()).to.include.members(['/body/email', '/body/password']);
    });

    it('/me shows the tenant with secrets masked, never in clear', async () => {
      const t = await api.login('owner@acme.test', acme.ownerPassword);
      const me = await api.json<{ user: { role: string }; tenant: { exophones: string[]; exotel: Record<string, string>; sector: string } }>(
        'GET',
        '/api/auth/me',
        '/api/auth/me',
        { token: t.accessToken },
      );
      expect(me.status).to.equal(200);
      expect(me.body.user.role).to.equal('owner');
      expect(me.body.tenant.exophones).to.deep.equal(['+918047112345']);
      expect(me.body.tenant.exotel).to.deep.equal({ accountSid: 'acme1', apiKey: '••••abcd', apiToken: '••••9876' });
      const text = JSON.stringify(me.body);
      expect(text).not.to.include('0123456789abcd');
      expect(text).not.to.include(acme.webhookCredential);
      // nor in any log line
      expect(JSON.stringify(svc.logs)).not.to.match(/0123456789abcd|tok-secret-9876/);
    });

    it('tampered, unsigned and missing tokens are 401', async () => {
      const t = await api.login('owner@acme.test', acme.ownerPassword);
      const [h, p] = t.accessToken.split('.') as [string, string, string];
      const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), role: 'owner', tid: globex.tenantId })).toString(
        'base64url',
      );
      const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${p}.`;
      for (const token of [`${h}.${forged}.${t.accessToken.split('.')[2]}`, none, 'garbage']) {
        expect((await api.req('GET', '/api/auth/me', '/api/auth/me', { token })).status).to.equal(401);
      }
      expect((await api.req('GET', '/api/auth/me', '/api/auth/me')).status).to.equal(401);
    });
  });

  describe('sessions', () => {
    it('refresh rotates; replaying a rotated token revokes the whole session (SECURITY_VIOLATION)', async () => {
      const first = await api.login('owner@acme.test', acme.ownerPassword);
      const second = await api.json<Tokens>('POST', '/api/auth/refresh', '/api/auth/refresh', { json: { refreshToken: first.refreshToken } });
      expect(second.status).to.equal(200);
      expect(second.body.refreshToken).not.to.equal(first.refreshToken);
      expect((await api.req('GET', '/api/auth/me', '/api/auth/me', { token: second.body.accessToken })).status).to.equal(200);

      const replay = await api.req('POST', '/api/auth/refresh', '/api/auth/refresh', { json: { refreshToken: first.refreshToken } });
      expect(replay.status).to.equal(401);
      // the thief's replay also kills the legitimate holder's newer tokens
      expect((await api.req('POST', '/api/auth/refresh', '/api/auth/refresh', { json: { refreshToken: second.body.refreshToken } })).status).to.equal(401);
      expect((await api.req('GET', '/api/auth/me', '/api/auth/me', { token: second.body.accessToken })).status).to.equal(401);
      const rows = await auditRows(tdb.url, `event_type = 'SECURITY_VIOLATION' AND user_id = $1`, [acme.ownerId]);
      expect(rows[0]!.outcome).to.equal('SECURITY_ALERT');
      const revoked = await sql(tdb.url, `SELECT revoked_reason FROM refresh_tokens WHERE user_id = $1 AND revoked_reason = 'reuse'`, [acme.ownerId]);
      expect(revoked.length).to.be.greaterThan(0);
      // stored as hashes only
      expect(JSON.stringify(await sql(tdb.url, `SELECT encode(token_hash, 'base64') FROM refresh_tokens`))).not.to.include(first.refreshToken);
    });

    it('refresh: malformed → 400, unknown → 401', async () => {
      expect((await api.req('POST', '/api/auth/refresh', '/api/auth/refresh', { json: { refreshToken: 'short' } })).status).to.equal(400);
      expect((await api.req('POST', '/api/auth/refresh', '/api/auth/refresh', { json: { refreshToken: 'A'.repeat(43) } })).status).to.equal(401);
    });

    it('logout ends the session at once: access and refresh tokens stop working', async () => {
      const t = await api.login('admin@acme.test', 'user password 123');
      expect((await api.req('POST', '/api/auth/logout', '/api/auth/logout', { token: t.accessToken })).status).to.equal(204);
      expect((await api.req('GET', '/api/auth/me', '/api/auth/me', { token: t.accessToken })).status).to.equal(401);
      expect((await api.req('POST', '/api/auth/refresh', '/api/auth/refresh', { json: { refreshToken: t.refreshToken } })).status).to.equal(401);
      expect(await auditRows(tdb.url, `event_type = 'LOGOUT'`, [])).to.have.length.greaterThan(0);
    });

    it('password change needs the current password and revokes every other session', async () => {
      const email = 'viewer@acme.test';
      const s1 = await api.login(email, 'user password 123');
      const s2 = await api.login(email, 'user password 123');
      const wrong = await api.json<{ error: { details: Array<{ path: string }> } }>('POST', '/api/auth/password', '/api/auth/password', {
        token: s1.accessToken,
        json: { currentPassword: 'not it at all', newPassword: 'a brand new password' },
      });
      expect(wrong.status).to.equal(400);
      expect(wrong.body.error.details[0]!.path).to.equal('/body/currentPassword');
      const short = await api.req('POST', '/api/auth/password', '/api/auth/password', {
        token: s1.accessToken,
        json: { currentPassword: 'user password 123', newPassword: 'short' },
      });
      expect(short.status).to.equal(400);

      const ok = await api.json<{ revokedSessions: number }>('POST', '/api/auth/password', '/api/auth/password', {
        token: s1.accessToken,
        json: { currentPassword: 'user password 123', newPassword: 'a brand new password' },
      });
      expect(ok.status).to.equal(200);
      expect(ok.body.revokedSessions).to.be.at.least(1);
      expect((await api.req('GET', '/api/auth/me', '/api/auth/me', { token: s2.accessToken })).status).to.equal(401);
      expect((await api.req('POST', '/api/auth/refresh', '/api/auth/refresh', { json: { refreshToken: s2.refreshToken } })).status).to.equal(401);
      expect((await api.req('GET', '/api/auth/me', '/api/auth/me', { token: s1.accessToken })).status).to.equal(200);
      expect((await api.req('POST', '/api/auth/login', '/api/auth/login', { json: { email, password: 'user password 123' } })).status).to.equal(401);
      await api.login(email, 'a brand new password');
      const rows = await auditRows(tdb.url, `event_type = 'PASSWORD_CHANGE'`, [], 2);
      expect(rows.map((r) => r.outcome)).to.have.members(['FAILURE', 'SUCCESS']);
    });
  });

  describe('audit API roles (replacing the interim admin-token guard)', () => {
    it('owner/admin see only their tenant; viewer is refused and the refusal audited; ADMIN_TOKEN sees all', async () => {
      const owner = await api.login('owner@acme.test', acme.ownerPassword);
      await api.login('owner@globex.test', globex.ownerPassword); // a Globex event to be hidden from Acme
      await auditRows(tdb.url, `event_type = 'LOGIN_SUCCESS' AND tenant_id = $1`, [globex.tenantId]);
      const mine = await api.json<{ data: Array<{ tenantId: string }> }>('GET', '/api/audit-logs', `/api/audit-logs?limit=100&tenantId=${globex.tenantId}`, {
        token: owner.accessToken,
      });
      expect(mine.status).to.equal(200);
      expect(mine.body.data.length).to.be.greaterThan(0);
      expect(new Set(mine.body.data.map((e) => e.tenantId))).to.deep.equal(new Set([acme.tenantId]));
      expect((await api.req('GET', '/api/audit-logs/stats', '/api/audit-logs/stats', { token: owner.accessToken })).status).to.equal(403);

      const viewer = await api.login('viewer@acme.test', 'a brand new password');
      expect((await api.req('GET', '/api/audit-logs', '/api/audit-logs', { token: viewer.accessToken })).status).to.equal(403);
      // (Earlier refusals of this viewer's ended sessions are audited too: pick the role refusal.)
      const denied = await auditRows(tdb.url, `event_type = 'ACCESS_DENIED' AND user_id = $1 AND metadata ? 'role'`, [viewer.user.id]);
      expect((denied[0]!.metadata as { role: string }).role).to.equal('viewer');
      expect((await api.req('GET', '/api/audit-logs', '/api/audit-logs')).status).to.equal(401);

      const all = await api.json<{ data: Array<{ tenantId: string | null }> }>('GET', '/api/audit-logs', '/api/audit-logs?limit=100', { token: ADMIN_TOKEN });
      expect(all.status).to.equal(200);
      expect(new Set(all.body.data.map((e) => e.tenantId)))
        .to.include(globex.tenantId)
        .and.to.include(acme.tenantId);
      expect((await api.req('GET', '/api/audit-logs/stats', '/api/audit-logs/stats', { token: ADMIN_TOKEN })).status).to.equal(200);
    });
  });

  // A suite of its own so that it runs last (mocha runs a suite's own tests before its child suites).
  describe('telemetry', () => {
    it('every request above is a span with its route and a sample in the duration histogram', async () => {
      await api.verifyTelemetry(receiver.spans);
    });
  });
});
