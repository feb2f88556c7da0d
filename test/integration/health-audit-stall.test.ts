import { expect } from 'chai';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { auditRows, scratchDir } from '../helpers/domain';
import { startService, type ServiceHandle } from '../helpers/service';

/**
 * A writer that hangs (here: audit_logs locked by another session, so its inserts wait) looks busy,
 * not failed, to every other signal. Health must say so, and shutdown must not wait for it.
 */
describe('health and shutdown with a stalled audit writer', function () {
  this.timeout(120_000);
  let tdb: TestDatabase;
  const dir = scratchDir('caly-audit-stall');
  const env = () => ({
    DATABASE_URL: tdb.url,
    DATA_DIR: dir.path,
    ENCRYPTION_KEY: '7f'.repeat(32),
    AUDIT_STALL_MS: '1000',
    AUDIT_FLUSH_INTERVAL_MS: '20',
    SHUTDOWN_TIMEOUT_MS: '2000',
    DB_POOL_MIN: '0',
    RATE_LIMIT_LOGIN_POINTS: '1000',
  });
  before(async () => {
    tdb = await createTestDatabase();
  });
  after(async () => {
    dir.remove();
    await tdb?.drop();
  });

  /** Holds an exclusive lock on audit_logs until released. */
  async function lockAudit(): Promise<() => Promise<void>> {
    const c = new pg.Client({ connectionString: tdb.url });
    await c.connect();
    await c.query('BEGIN');
    await c.query('LOCK TABLE audit_logs IN ACCESS EXCLUSIVE MODE');
    return async () => {
      await c.query('ROLLBACK');
      await c.end();
    };
  }

  const failedLogin = (svc: ServiceHandle, email: string) =>
    fetch(`${svc.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: 'wrong password 123' }),
    });

  async function auditCheck(svc: ServiceHandle) {
    const res = await fetch(`${svc.url}/health/detailed`);
    const body = (await res.json()) as { status: string; checks: { audit: { status: string; backlog: number; message?: string } } };
    return { http: res.status, overall: body.status, ...body.checks.audit };
  }

  async function pollUntil<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await read();
      if (ok(v) || Date.now() > deadline) return v;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('/health/detailed turns unhealthy while events wait and nothing is stored, and healthy again once the writer moves', async () => {
    const svc = await startService(env());
    try {
      expect((await auditCheck(svc)).status).to.equal('healthy');
      const release = await lockAudit();
      try {
        expect((await failedLogin(svc, 'nobody@stall.test')).status).to.equal(401);
        const stalled = await pollUntil(
          () => auditCheck(svc),
          (c) => c.status === 'unhealthy',
          10_000,
        );
        expect(stalled.status).to.equal('unhealthy');
        expect(stalled.http).to.equal(503);
        expect(stalled.backlog).to.be.greaterThan(0);
        expect(stalled.message).to.match(/audit writer stalled/);
      } finally {
        await release();
      }
      const recovered = await pollUntil(
        () => auditCheck(svc),
        (c) => c.status === 'healthy' && c.backlog === 0,
        10_000,
      );
      expect(recovered).to.include({ status: 'healthy', backlog: 0 });
    } finally {
      expect(await svc.stop()).to.equal(0);
    }
  });

  it('SIGTERM with the writer stuck exits within the bound; the pending event is stored by the next start', async () => {
    const svc = await startService(env());
    const release = await lockAudit();
    try {
      expect((await failedLogin(svc, 'pending@stall.test')).status).to.equal(401);
      await pollUntil(
        () => auditCheck(svc),
        (c) => c.backlog > 0,
        5_000,
      );
      const t0 = Date.now();
      await svc.stop('SIGTERM', 20_000);
      expect(Date.now() - t0, 'SIGTERM to exit, with SHUTDOWN_TIMEOUT_MS=2000').to.be.below(2000 + 2500);
    } finally {
      await release();
    }
    const next = await startService(env());
    try {
      const rows = await auditRows(tdb.url, "event_type = 'LOGIN_FAILURE' AND metadata->>'email_ref' IS NOT NULL", [], 2, 15_000);
      expect(rows.length, 'both failed logins are in the trail, the second replayed from the journal').to.be.at.least(2);
    } finally {
      expect(await next.stop()).to.equal(0);
    }
  });
});
