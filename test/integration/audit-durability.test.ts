import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { scrape, startService, type ServiceHandle } from '../helpers/service';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';

/*
 * The service as a child process, PostgreSQL behind a TCP proxy the test cuts, and SIGKILL: every
 * audit event of every answered request ends up stored exactly once. Events come from the audit
 * API itself: a request without the admin token is answered 401 and leaves ACCESS_DENIED, with
 * no database involved on the request path, so requests keep being answered during the outage.
 */
const TOKEN = 'durability-admin-token-0123456789';

async function burst(url: string, total: number, concurrency: number, stopAfter?: { answered: number; then: () => void }): Promise<string[]> {
  const answered: string[] = [];
  let next = 0;
  let stopped = false;
  const worker = async () => {
    while (!stopped && next < total) {
      next++;
      try {
        const res = await fetch(`${url}/api/audit-logs`, { headers: { 'user-agent': 'durability-test' } });
        await res.arrayBuffer();
        if (res.status !== 401) throw new Error(`unexpected status ${res.status}`);
        answered.push(res.headers.get('x-request-id')!);
        if (stopAfter && answered.length === stopAfter.answered) {
          stopped = true;
          stopAfter.then();
        }
      } catch (err) {
        if (!stopAfter) throw err; // after a kill, requests in flight fail: they were never answered
        stopped = true;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return answered;
}

describe('audit trail durability: outage and SIGKILL (service as a child process)', function () {
  this.timeout(90_000);
  let tdb: TestDatabase;
  let proxy: TcpProxy;
  let admin: pg.Client;
  let svc: ServiceHandle | undefined;
  const dirs: string[] = [];

  const env = (journalDir: string, databaseUrl: string) => ({
    DATABASE_URL: databaseUrl,
    ADMIN_TOKEN: TOKEN,
    AUDIT_JOURNAL_DIR: journalDir,
    AUDIT_FLUSH_INTERVAL_MS: '50',
    AUDIT_BATCH_SIZE: '100',
    RATE_LIMIT_API_POINTS: '1000000',
    DB_CONNECTION_TIMEOUT: '1000',
    DB_POOL_MIN: '0',
    ACCESS_LOG: 'errors-and-slow',
    // the bursts are ACCESS_DENIED from one address: lift the per-source flood bound above them
    AUDIT_THROTTLE_PER_MINUTE: '100000',
  });

  /** Request ids → how many ACCESS_DENIED rows each has. */
  async function stored(ids: string[]): Promise<Map<string, number>> {
    const { rows } = await admin.query<{ request_id: string; n: string }>(
      "SELECT request_id, count(*) AS n FROM audit_logs WHERE event_type = 'ACCESS_DENIED' AND request_id = ANY($1) GROUP BY 1",
      [ids],
    );
    return new Map(rows.map((r) => [r.request_id, Number(r.n)]));
  }
  async function waitStored(ids: string[], timeoutMs = 20_000): Promise<Map<string, number>> {
    const until = Date.now() + timeoutMs;
    let m = await stored(ids);
    while (m.size < ids.length && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
      m = await stored(ids);
    }
    return m;
  }
  async function assertExactlyOnceAndChained(ids: string[]): Promise<void> {
    const m = await waitStored(ids);
    expect(
      ids.filter((id) => !m.has(id)),
      'answered requests without a stored event',
    ).to.deep.equal([]);
    expect(
      [...m.values()].every((n) => n === 1),
      'every event stored once',
    ).to.equal(true);
    const dup = await admin.query("SELECT request_id FROM audit_logs WHERE event_type = 'ACCESS_DENIED' GROUP BY 1 HAVING count(*) > 1");
    expect(dup.rows, 'no event stored twice, answered or not').to.deep.equal([]);
    const verify = await fetch(`${svc!.url}/api/audit-logs/verify`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(((await verify.json()) as { ok: boolean }).ok).to.equal(true);
  }
  /** Journal segments the service left for this test's database (AUDIT_JOURNAL_DIR/db-<installation id>). */
  const segments = async (dir: string) => {
    const { rows } = await admin.query<{ value: string }>("SELECT value FROM app_meta WHERE key = 'installation_id'");
    return (await readdir(join(dir, `db-${rows[0]!.value}`))).filter((f) => f.startsWith('seg-'));
  };

  before(async () => {
    tdb = await createTestDatabase('caly_audit_dur');
    proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
    admin = new pg.Client({ connectionString: tdb.url });
    await admin.connect();
  });
  afterEach(async () => {
    proxy.restore();
    await svc?.stop('SIGKILL');
    svc = undefined;
  });
  after(async () => {
    await admin?.end();
    await proxy?.close();
    await tdb?.drop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  const journalDir = async () => {
    const d = await mkdtemp(join(tmpdir(), 'caly-audit-dur-'));
    dirs.push(d);
    return d;
  };

  it('keeps answering through a database outage and, after recovery, stores every event once; SIGTERM flushes the journal', async () => {
    const dir = await journalDir();
    svc = await startService(env(dir, proxy.url(tdb.name)));
    proxy.cut();
    const ids = await burst(svc.url, 300, 16);
    expect(ids).to.have.length(300);
    const during = await scrape(svc.metricsUrl);
    const value = (name: string) => during.filter((s) => s.name === name).reduce((a, s) => a + s.value, 0);
    expect(value('caly_audit_journal_pending'), 'journaled, not yet stored').to.be.greaterThan(0);
    expect(value('caly_audit_backlog')).to.be.greaterThan(0);
    expect((await stored(ids)).size, 'nothing reached PostgreSQL during the outage').to.equal(0);
    expect(value('caly_audit_events_total')).to.be.at.least(300);
    // The writer has tried and failed against the cut database (bounded poll, not a fixed sleep).
    const failedWrites = async () => (await scrape(svc!.metricsUrl)).some((s) => s.name === 'caly_audit_write_failures_total' && s.value > 0);
    const deadline = Date.now() + 10_000;
    while (!(await failedWrites()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await failedWrites()).to.equal(true);

    proxy.restore();
    await assertExactlyOnceAndChained(ids);
    const after = await scrape(svc.metricsUrl);
    expect(after.find((s) => s.name === 'caly_audit_flush_duration_seconds_count' && s.labels.outcome === 'success')?.value).to.be.greaterThan(0);

    // Graceful shutdown stores what is queued and leaves an empty journal.
    const more = await burst(svc.url, 50, 8);
    expect(await svc.stop('SIGTERM')).to.equal(0);
    svc = undefined;
    expect((await stored(more)).size).to.equal(50);
    expect(await segments(dir)).to.deep.equal([]);
    svc = await startService(env(dir, tdb.url));
    await assertExactlyOnceAndChained([...ids, ...more]);
  });

  it('SIGKILL mid-burst: after restart, every answered request has its event stored exactly once', async () => {
    const dir = await journalDir();
    svc = await startService(env(dir, tdb.url));
    const victim = svc;
    const ids = await burst(svc.url, 5000, 16, { answered: 400, then: () => victim.child.kill('SIGKILL') });
    await victim.exited;
    svc = undefined;
    expect(ids.length).to.be.at.least(400);
    svc = await startService(env(dir, tdb.url));
    await assertExactlyOnceAndChained(ids);
    await new Promise((r) => setTimeout(r, 200));
    expect(await segments(dir), 'replayed journal trimmed').to.have.length.at.most(1);
  });

  it('SIGKILL while the database is unreachable: the journal alone carries the events to the next start', async () => {
    const dir = await journalDir();
    svc = await startService(env(dir, proxy.url(tdb.name)));
    proxy.cut();
    const victim = svc;
    const ids = await burst(svc.url, 5000, 16, { answered: 300, then: () => victim.child.kill('SIGKILL') });
    await victim.exited;
    svc = undefined;
    expect((await stored(ids)).size).to.equal(0);
    expect((await segments(dir)).length).to.be.greaterThan(0);
    proxy.restore();
    svc = await startService(env(dir, tdb.url));
    expect(svc.logs.some((l) => String(l.msg).includes('replaying events left by the previous run'))).to.equal(true);
    await assertExactlyOnceAndChained(ids);
  });
});
