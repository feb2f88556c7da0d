import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { Client, createTenant, runCli, scratchDir, type CreatedTenant } from '../helpers/domain';
import { runServiceToExit, startService, type ServiceHandle } from '../helpers/service';

/**
 * The zero-setup default as a newcomer meets it: no DATABASE_URL, no ENCRYPTION_KEY, the service
 * as a child process running its own PostgreSQL server under DATA_DIR.
 */
const embeddedEnv = (dataDir: string, extra: Record<string, string> = {}): Record<string, string | undefined> => ({
  DATA_DIR: dataDir,
  DATABASE_URL: undefined,
  ENCRYPTION_KEY: undefined,
  PASSWORD_HASH_MEMORY_KIB: '1024',
  RATE_LIMIT_API_POINTS: '100000',
  RATE_LIMIT_LOGIN_POINTS: '1000',
  AUDIT_FLUSH_INTERVAL_MS: '20',
  ...extra,
});
/** The CLI's environment: what a developer's shell has (no DATABASE_URL, no key). */
const cliEnv = (dataDir: string) => ({ DATA_DIR: dataDir, PASSWORD_HASH_MEMORY_KIB: '1024' });

const EXOPHONE = '+918047112345';
const callerOf = (i: number) => `0987654${String(i).padStart(4, '0')}`;
const e164 = (local: string) => `+91${local.slice(1)}`;
const passthru = (t: CreatedTenant, sid: string, i: number) =>
  `/webhooks/exotel/${t.webhookCredential}/passthru?${new URLSearchParams({ CallSid: sid, CallFrom: callerOf(i), CallTo: '08047112345', Direction: 'incoming', CallType: 'call-attempt' })}`;

/** Runs `n` tasks with at most `width` in flight. */
async function inParallel<T>(n: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await task(i);
      }
    }),
  );
  return out;
}

interface CallView {
  callSid: string;
  from: string | null;
  to: string | null;
}

async function allCalls(api: Client, token: string): Promise<CallView[]> {
  const out: CallView[] = [];
  let cursor: string | null = null;
  do {
    const r: { status: number; body: { data: CallView[]; nextCursor: string | null } } = await api.json(
      'GET',
      '/api/calls',
      `/api/calls?limit=100${cursor ? `&cursor=${cursor}` : ''}`,
      { token },
    );
    expect(r.status).to.equal(200);
    out.push(...r.body.data);
    cursor = r.body.nextCursor;
  } while (cursor);
  return out;
}

/** 300 Exotel Passthru webhooks, 16 at a time, each with its own CallSid and caller. */
async function webhookBurst(svc: ServiceHandle, tenant: CreatedTenant, prefix: string, n = 300, width = 16) {
  const statuses = await inParallel(n, width, async (i) => (await fetch(`${svc.url}${passthru(tenant, `${prefix}${i}`, i)}`)).status);
  const failed = statuses.map((s, i) => [i, s] as const).filter(([, s]) => s !== 200);
  return { statuses, failed };
}

function postmasterPid(dataDir: string): number {
  return Number(readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
}

/** Exited processes only: a zombie (never reaped by this sandbox's init) counts as gone. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('zero-setup default: a real PostgreSQL server under DATA_DIR', function () {
  this.timeout(240_000);
  // Each test's DATA_DIR is a fresh mkdtemp directory, as a newcomer's ./data would be its own.
  const dirs: Array<{ remove(): void }> = [];
  const freshDataDir = () => {
    const d = scratchDir('caly-embedded');
    dirs.push(d);
    return d.path;
  };
  after(() => dirs.forEach((d) => d.remove()));

  it('starts with no setup, says which database it uses, stores a 0600 development key, and keeps data across restarts', async () => {
    const dataDir = freshDataDir();
    const first = await startService(embeddedEnv(dataDir), { timeoutMs: 60_000 });
    let installationId: string;
    try {
      const line = first.logs.find((l) => /^database: embedded PostgreSQL \d+/.test(l.msg));
      expect(line, 'a startup line naming the embedded server').to.exist;
      expect(line!.msg).to.include(join(dataDir, 'postgres'));
      expect(line!.msg, 'the password never reaches the log').not.to.include(readFileSync(join(dataDir, 'postgres.password'), 'utf8').trim());
      expect(first.logs.some((l) => l.level === 'warn' && l.msg.includes(join(dataDir, 'encryption.key')))).to.equal(true);
      expect(statSync(join(dataDir, 'encryption.key')).mode & 0o777).to.equal(0o600);
      expect(statSync(join(dataDir, 'postgres.password')).mode & 0o777).to.equal(0o600);
      expect((await fetch(`${first.url}/health/ready`)).status).to.equal(200);
      installationId = ((await (await fetch(`${first.url}/api/info`)).json()) as { installationId: string }).installationId;
      expect(installationId).to.match(/^[0-9a-f-]{36}$/);
    } finally {
      expect(await first.stop()).to.equal(0);
    }
    const key = readFileSync(join(dataDir, 'encryption.key'), 'utf8');
    const second = await startService(embeddedEnv(dataDir), { timeoutMs: 60_000 });
    try {
      const info = (await (await fetch(`${second.url}/api/info`)).json()) as { installationId: string };
      expect(info.installationId).to.equal(installationId);
      expect(readFileSync(join(dataDir, 'encryption.key'), 'utf8'), 'the key is reused, not regenerated').to.equal(key);
    } finally {
      expect(await second.stop()).to.equal(0);
    }
  });

  it('the tenant CLI works beside the running service; 300 webhooks at 16 in parallel all land; after a restart every encrypted field decrypts and phone search finds it', async () => {
    const dataDir = freshDataDir();
    let svc = await startService(embeddedEnv(dataDir), { timeoutMs: 60_000 });
    let api = new Client(svc);
    try {
      // The CLI runs while the service runs, against the service's own server: no restart needed.
      const tenant = await createTenant(cliEnv(dataDir), { name: 'Acme', exophones: [EXOPHONE], ownerEmail: 'owner@acme.test' });
      const { accessToken } = await api.login('owner@acme.test', tenant.ownerPassword);
      const { failed } = await webhookBurst(svc, tenant, 'burst');
      expect(failed, `failed webhooks (index, status): ${JSON.stringify(failed.slice(0, 10))}`).to.deep.equal([]);
      const calls = await allCalls(api, accessToken);
      expect(calls).to.have.length(300);
      // The audit writer keeps up with the burst and says so.
      await until(
        async () => {
          const r = await fetch(`${svc.url}/health/detailed`);
          const body = (await r.json()) as { checks: { audit: { status: string; backlog: number } } };
          return body.checks.audit.backlog === 0 && body.checks.audit.status === 'healthy';
        },
        20_000,
        'the audit backlog to drain',
      );
    } finally {
      expect(await svc.stop()).to.equal(0);
    }

    svc = await startService(embeddedEnv(dataDir), { timeoutMs: 60_000 });
    api = new Client(svc);
    try {
      const { accessToken } = await api.login('owner@acme.test', 'owner password 123');
      const calls = await allCalls(api, accessToken);
      expect(calls).to.have.length(300);
      const bySid = new Map(calls.map((c) => [c.callSid, c]));
      for (let i = 0; i < 300; i++) {
        const c = bySid.get(`burst${i}`);
        expect(c, `burst${i}`).to.exist;
        expect(c!.from, `from of burst${i} decrypts after the restart`).to.equal(e164(callerOf(i)));
        expect(c!.to).to.equal(EXOPHONE);
      }
      for (const i of [0, 137, 299]) {
        const r = await api.json<{ data: CallView[] }>('GET', '/api/calls', `/api/calls?phone=${callerOf(i)}`, { token: accessToken });
        expect(r.body.data.map((c) => c.callSid)).to.deep.equal([`burst${i}`]);
      }
      const me = await api.json<{ tenant?: unknown }>('GET', '/api/auth/me', '/api/auth/me', { token: accessToken });
      expect(me.status).to.equal(200);
    } finally {
      expect(await svc.stop()).to.equal(0);
    }
  });

  it('kill -9 in the middle of a burst, then a restart at once: up, and every call answered 2xx is there', async () => {
    const dataDir = freshDataDir();
    let svc = await startService(embeddedEnv(dataDir), { timeoutMs: 60_000 });
    const tenant = await createTenant(cliEnv(dataDir), { name: 'Acme', exophones: [EXOPHONE], ownerEmail: 'owner@acme.test' });
    const answered: string[] = [];
    let sent = 0;
    const burst = inParallel(400, 16, async (i) => {
      sent++;
      try {
        const r = await fetch(`${svc.url}${passthru(tenant, `crash${i}`, i)}`);
        if (r.status === 200) answered.push(`crash${i}`);
      } catch {
        // the process is gone: the request was never answered
      }
    });
    await until(() => answered.length >= 60, 30_000, 'some answered webhooks');
    svc.child.kill('SIGKILL');
    await svc.exited;
    await burst;
    expect(sent).to.be.greaterThan(answered.length);

    svc = await startService(embeddedEnv(dataDir), { timeoutMs: 60_000 });
    try {
      const api = new Client(svc);
      const { accessToken } = await api.login('owner@acme.test', tenant.ownerPassword);
      const stored = new Set((await allCalls(api, accessToken)).map((c) => c.callSid));
      const lost = answered.filter((sid) => !stored.has(sid));
      expect(lost, 'calls answered 200 before the crash and missing after it').to.deep.equal([]);
    } finally {
      expect(await svc.stop()).to.equal(0);
    }
  });

  it('a second process on the same DATA_DIR refuses to start, naming the first and the fix; a clean stop releases it', async () => {
    const dataDir = freshDataDir();
    const first = await startService(embeddedEnv(dataDir), { timeoutMs: 60_000 });
    try {
      const second = await runServiceToExit({ ...embeddedEnv(dataDir), NODE_ENV: 'test', HOST: '127.0.0.1' } as Record<string, string>, 60_000);
      expect(second.code).to.equal(1);
      expect(second.stderr).to.include(`is in use by process ${first.child.pid} (caly-api service`);
      expect(second.stderr).to.include('Each running service needs its own DATA_DIR');
      expect((await fetch(`${first.url}/health/ready`)).status, 'the first one is untouched').to.equal(200);
    } finally {
      expect(await first.stop()).to.equal(0);
    }
    const third = await startService(embeddedEnv(dataDir), { timeoutMs: 60_000 });
    expect(await third.stop()).to.equal(0);
  });

  it('a dead owner never blocks a restart: after kill -9 the lock is gone whatever pid comes next', async () => {
    const dataDir = freshDataDir();
    const first = await startService(embeddedEnv(dataDir), { timeoutMs: 60_000 });
    const pg1 = postmasterPid(dataDir);
    first.child.kill('SIGKILL');
    await first.exited;
    // The server follows its parent down (or is stopped by the next start).
    const second = await startService(embeddedEnv(dataDir), { timeoutMs: 60_000 });
    try {
      expect(alive(pg1), 'the orphaned server is gone').to.equal(false);
      expect((await fetch(`${second.url}/health/ready`)).status).to.equal(200);
    } finally {
      expect(await second.stop()).to.equal(0);
    }
  });

  it('a stale postmaster.pid naming a live process that is not our server (a reused pid) does not block the start', async () => {
    const dataDir = freshDataDir();
    const first = await startService(embeddedEnv(dataDir), { timeoutMs: 60_000 });
    expect(await first.stop()).to.equal(0);
    const pidFile = join(dataDir, 'postgres', 'postmaster.pid');
    // What a server killed with the machine leaves behind, its pid since taken by another program.
    writeFileSync(pidFile, `${process.pid}\n${join(dataDir, 'postgres')}\n0\n5432\n\n127.0.0.1\n`);
    const second = await startService(embeddedEnv(dataDir), { timeoutMs: 60_000 });
    try {
      expect((await fetch(`${second.url}/health/ready`)).status).to.equal(200);
      expect(second.logs.some((l) => l.msg.includes('removing a stale postmaster.pid'))).to.equal(true);
      expect(alive(process.pid), 'the unrelated process is left alone').to.equal(true);
    } finally {
      expect(await second.stop()).to.equal(0);
    }
  });

  it('SIGTERM with the database frozen under it still exits within the bound', async () => {
    const dataDir = freshDataDir();
    const svc = await startService(embeddedEnv(dataDir, { SHUTDOWN_TIMEOUT_MS: '3000', DB_STATEMENT_TIMEOUT: '60000', REQUEST_TIMEOUT_MS: '60000' }), {
      timeoutMs: 60_000,
    });
    const server = postmasterPid(dataDir);
    const children = () =>
      execFileSync('pgrep', ['-P', String(server)], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
        .map(Number);
    const frozen = [server, ...children()];
    for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    try {
      const hanging = fetch(`${svc.url}/api/info`).catch(() => undefined); // a query that never returns
      await new Promise((r) => setTimeout(r, 300));
      const t0 = Date.now();
      await svc.stop('SIGTERM', 15_000);
      const took = Date.now() - t0;
      expect(took, `SIGTERM took ${took} ms`).to.be.below(3000 + 2500);
      await hanging;
    } finally {
      for (const pid of frozen) if (alive(pid)) process.kill(pid, 'SIGCONT');
    }
    await until(() => !alive(server), 20_000, 'the embedded server to stop once thawed');
  });
});

describe('concurrent Exotel webhooks against the PostgreSQL server at DATABASE_URL', function () {
  this.timeout(120_000);
  let tdb: TestDatabase;
  const dir = scratchDir('caly-concurrency');
  before(async () => {
    tdb = await createTestDatabase();
  });
  after(async () => {
    dir.remove();
    await tdb?.drop();
  });

  it('300 webhooks at 16 in parallel: 0 errors, 300 stored calls', async () => {
    const env = {
      DATABASE_URL: tdb.url,
      DATA_DIR: dir.path,
      ENCRYPTION_KEY: '4c'.repeat(32),
      PASSWORD_HASH_MEMORY_KIB: '1024',
      RATE_LIMIT_API_POINTS: '100000',
    };
    const svc = await startService(env);
    try {
      const tenant = await createTenant({ ...env, DATA_DIR: join(dir.path, 'cli') }, { name: 'Acme', exophones: [EXOPHONE], ownerEmail: 'owner@acme.test' });
      const { failed } = await webhookBurst(svc, tenant, 'real');
      expect(failed, JSON.stringify(failed.slice(0, 10))).to.deep.equal([]);
      const c = new pg.Client({ connectionString: tdb.url });
      await c.connect();
      try {
        const { rows } = await c.query<{ n: string }>("SELECT count(*) AS n FROM calls WHERE call_sid LIKE 'real%'");
        expect(Number(rows[0]!.n)).to.equal(300);
      } finally {
        await c.end();
      }
    } finally {
      expect(await svc.stop()).to.equal(0);
    }
  });
});

describe('an encryption key that cannot read the database', function () {
  this.timeout(60_000);
  let tdb: TestDatabase;
  const dir = scratchDir('caly-keycheck');
  before(async () => {
    tdb = await createTestDatabase();
  });
  after(async () => {
    dir.remove();
    await tdb?.drop();
  });

  it('stops startup with a message naming the key the data needs; listing the old key as previous lets it start', async () => {
    const a = '5d'.repeat(32);
    const b = '6e'.repeat(32);
    const svc = await startService({ DATABASE_URL: tdb.url, ENCRYPTION_KEY: a });
    expect(await svc.stop()).to.equal(0);
    const wrong = await runServiceToExit(
      { DATABASE_URL: tdb.url, ENCRYPTION_KEY: b, DATA_DIR: join(dir.path, 'x'), NODE_ENV: 'test', HOST: '127.0.0.1' },
      30_000,
    );
    expect(wrong.code).to.equal(1);
    expect(wrong.stderr).to.match(/ENCRYPTION_KEY cannot read this database: its data was encrypted under key id [0-9a-f]{8}/);
    expect(wrong.stderr).not.to.include(a);
    const rotated = await startService({ DATABASE_URL: tdb.url, ENCRYPTION_KEY: b, ENCRYPTION_KEYS_PREVIOUS: a });
    expect(await rotated.stop()).to.equal(0);
  });

  it('the secrets:reencrypt CLI moves the check to the new key, after which the old key can go', async () => {
    const a = '5d'.repeat(32);
    const b = '6e'.repeat(32);
    const r = await runCli('cli/reencrypt.js', [], { DATABASE_URL: tdb.url, ENCRYPTION_KEY: b, ENCRYPTION_KEYS_PREVIOUS: a, DATA_DIR: join(dir.path, 'cli') });
    expect(r.code, r.stderr).to.equal(0);
    const svc = await startService({ DATABASE_URL: tdb.url, ENCRYPTION_KEY: b });
    expect(await svc.stop()).to.equal(0);
  });
});
