import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import fc from 'fast-check';
import pg from 'pg';
import { AUDIT_EVENT_TYPES, DEFAULT_SEVERITY } from '../../src/platform/audit/catalogue';
import { PURGE_LOCK_KEY, purgeExpired } from '../../src/platform/audit/purge';
import { toRecord } from '../../src/platform/audit/record';
import { verifyChain } from '../../src/platform/audit/repository';
import { SourceThrottle } from '../../src/platform/audit/throttle';
import { AuditTrail, type AuditTrailOptions } from '../../src/platform/audit/trail';
import { storeBatch } from '../../src/platform/audit/writer';
import { migrate } from '../../src/platform/db/migrate';
import { createDatabase, type Database } from '../../src/platform/db/pool';
import { createLogger } from '../../src/platform/logging/logger';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { startInProcessApp, type InProcessApp } from '../helpers/inprocess';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';
import { spanExporter, telemetry } from '../setup/telemetry';
import { MIGRATIONS } from '../../src/modules';

const TOKEN = 'audit-test-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const log = createLogger({ level: 'error', service: 't', environment: 'test', stream: new Writable({ write: (_c, _e, cb) => cb() }) });

function makeDb(url: string): Database {
  return createDatabase(
    {
      connectionString: url,
      max: 4,
      min: 0,
      idleTimeoutMillis: 1000,
      connectionTimeoutMillis: 1000,
      statementTimeoutMillis: 10000,
      applicationName: 'caly-audit-test',
      slowQueryMs: 5000,
      preparedStatements: 500,
    },
    log.logger,
    telemetry.instruments,
  );
}

function makeTrail(db: Database, journalDir: string, over: Partial<AuditTrailOptions> = {}): AuditTrail {
  return new AuditTrail({
    db,
    logger: log.logger,
    instruments: telemetry.instruments,
    isSensitiveKey: log.redactor.isSensitiveKey,
    journalDir,
    batchSize: 100,
    flushIntervalMs: 20,
    maxBacklog: 10_000,
    ...over,
  });
}

type Row = { seq: string; event_type: string; severity: string; description: string; request_id: string | null };
type Page = { data: Array<Record<string, unknown> & { seq: number; occurredAt: string; eventType: string; severity: string }>; nextCursor: string | null };

async function getJson<T>(url: string, headers: Record<string, string> = auth): Promise<{ status: number; body: T; requestId: string }> {
  const res = await fetch(url, { headers });
  return { status: res.status, body: (await res.json()) as T, requestId: res.headers.get('x-request-id') ?? '' };
}

describe('audit trail: storage, API, chain (real PostgreSQL, in-process app)', function () {
  this.timeout(60_000);
  let tdb: TestDatabase;
  let db: Database;
  let admin: pg.Client;
  let app: InProcessApp;
  let trail: AuditTrail;
  let dir: string;
  const run = `run-${Date.now().toString(36)}`;

  before(async () => {
    tdb = await createTestDatabase('caly_audit');
    dir = await mkdtemp(join(tmpdir(), 'caly-audit-'));
    db = makeDb(tdb.url);
    await migrate(db.pool, log.logger, MIGRATIONS);
    trail = makeTrail(db, dir);
    await trail.start();
    app = await startInProcessApp({ databaseUrl: tdb.url, env: { ADMIN_TOKEN: TOKEN, RATE_LIMIT_API_POINTS: '1000000' }, audit: trail });
    admin = new pg.Client({ connectionString: tdb.url });
    await admin.connect();
  });
  after(async () => {
    await trail?.close(2000);
    await app?.close();
    await admin?.end();
    await db?.close();
    await tdb?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('stores every event type once, with its default severity, and returns it through the API', async () => {
    const resourceId = `${run}-all`;
    for (const type of AUDIT_EVENT_TYPES) {
      trail.emit({ type, outcome: 'SUCCESS', description: `round trip ${type}`, resourceType: 'test', resourceId });
    }
    trail.emit({
      type: 'DATA_EXPORTED',
      outcome: 'FAILURE',
      severity: 'CRITICAL',
      description: 'override',
      resourceType: 'test',
      resourceId: `${run}-override`,
    });
    expect(await trail.drain(10_000)).to.equal(true);

    const { status, body } = await getJson<Page>(`${app.url}/api/audit-logs?resourceId=${resourceId}&limit=100`);
    expect(status).to.equal(200);
    expect(body.data).to.have.length(AUDIT_EVENT_TYPES.length);
    const byType = new Map(body.data.map((r) => [r.eventType, r]));
    for (const type of AUDIT_EVENT_TYPES) {
      expect(byType.get(type), type).to.include({ severity: DEFAULT_SEVERITY[type], outcome: 'SUCCESS', description: `round trip ${type}` });
    }
    expect(new Set(Object.values(DEFAULT_SEVERITY))).to.have.keys('LOW', 'MEDIUM', 'HIGH', 'CRITICAL');
    const override = await getJson<Page>(`${app.url}/api/audit-logs?resourceId=${run}-override`);
    expect(override.body.data[0]).to.include({ eventType: 'DATA_EXPORTED', severity: 'CRITICAL', outcome: 'FAILURE' });
  });

  it('redacts changes and metadata deeply, and stores awkward text so that it still verifies', async () => {
    trail.emit(
      {
        type: 'SETTINGS_CHANGED',
        outcome: 'SUCCESS',
        description: 'nul\u0000 and lone surrogate \ud800 survive',
        resourceType: 'settings',
        resourceId: `${run}-redact`,
        changes: { exotelToken: { before: 'old-secret', after: 'new-secret' }, nested: { new_password: 'p', keep: 'visible', at: new Date(0) } },
        metadata: { apiKey: 'k', list: [{ authorization: 'Bearer x' }, 1.5, null], text: 'a\u0000b' },
      },
      { clientIp: '2001:DB8:0:0:1:0:0:1', userAgent: 'ua\u0000x', requestId: 'r-1' },
    );
    expect(await trail.drain(10_000)).to.equal(true);
    const { body } = await getJson<Page>(`${app.url}/api/audit-logs?resourceId=${run}-redact`);
    const row = body.data[0]!;
    expect(row.changes).to.deep.equal({ exotelToken: '[REDACTED]', nested: { new_password: '[REDACTED]', keep: 'visible', at: '1970-01-01T00:00:00.000Z' } });
    expect(row.metadata).to.deep.equal({ apiKey: '[REDACTED]', list: [{ authorization: '[REDACTED]' }, 1.5, null], text: 'ab' });
    expect(row.description).to.equal('nul and lone surrogate \ufffd survive');
    expect(row.clientIp).to.equal('2001:db8::1:0:0:1');
    expect((await verifyChain(db)).ok).to.equal(true);
  });

  it('audits the API itself: DATA_ACCESSED (LOW) for reads, ACCESS_DENIED for refused callers, as span events too', async () => {
    spanExporter.reset();
    const ok = await getJson<Page>(`${app.url}/api/audit-logs?limit=1`);
    expect(ok.status).to.equal(200);
    const denied = await getJson<{ error: { code: string } }>(`${app.url}/api/audit-logs`, {});
    expect(denied.status).to.equal(401);
    const wrong = await getJson<{ error: { code: string } }>(`${app.url}/api/audit-logs/stats`, { authorization: 'Bearer not-the-token-at-all' });
    expect(wrong.status).to.equal(401);
    expect(await trail.drain(10_000)).to.equal(true);

    const rows = async (requestId: string) =>
      (
        await admin.query<Row & { user_id: string | null }>(
          'SELECT seq, event_type, severity, description, request_id, user_id FROM audit_logs WHERE request_id = $1',
          [requestId],
        )
      ).rows;
    expect(await rows(ok.requestId))
      .to.have.length(1)
      .and.to.satisfy((r: Row[]) => r[0]!.event_type === 'DATA_ACCESSED' && r[0]!.severity === 'LOW');
    expect((await rows(ok.requestId))[0]!.user_id).to.equal('admin-token');
    for (const id of [denied.requestId, wrong.requestId]) {
      const r = await rows(id);
      expect(r, id).to.have.length(1);
      expect(r[0]).to.include({ event_type: 'ACCESS_DENIED', severity: 'HIGH' });
    }
    const span = spanExporter.getFinishedSpans().find((s) => s.spanContext().traceId === ok.requestId.slice(0, 32) && s.kind === 1);
    const ev = span?.events.find((e) => e.name === 'audit.DATA_ACCESSED');
    expect(ev?.attributes).to.include({ 'caly.audit.event_type': 'DATA_ACCESSED', 'caly.audit.severity': 'LOW', 'caly.audit.outcome': 'SUCCESS' });
  });

  it('filters by type, severity, outcome, actor, tenant, resource and time, newest first with cursor pages', async () => {
    const resourceType = `${run}-filter`;
    const t0 = new Date().toISOString();
    for (let i = 0; i < 25; i++) {
      trail.emit({
        type: i % 2 ? 'DATA_UPDATED' : 'DATA_CREATED',
        outcome: i % 5 === 0 ? 'FAILURE' : 'SUCCESS',
        severity: i % 3 === 0 ? 'HIGH' : undefined,
        description: `item ${i}`,
        tenantId: i < 10 ? 'tenant-a' : 'tenant-b',
        userId: `user-${i % 4}`,
        resourceType,
        resourceId: `r-${i % 2}`,
      });
      await new Promise((r) => setTimeout(r, 2)); // distinct occurred_at for a meaningful order check
    }
    expect(await trail.drain(10_000)).to.equal(true);
    const list = async (qs: string) => (await getJson<Page>(`${app.url}/api/audit-logs?resourceType=${resourceType}&${qs}`)).body;

    const seen: Page['data'] = [];
    let cursor: string | null = null;
    const sizes: number[] = [];
    do {
      const page: Page = await list(`limit=10${cursor ? `&cursor=${cursor}` : ''}`);
      sizes.push(page.data.length);
      seen.push(...page.data);
      cursor = page.nextCursor;
    } while (cursor);
    expect(sizes).to.deep.equal([10, 10, 5]);
    expect(new Set(seen.map((r) => r.seq)).size).to.equal(25);
    const times = seen.map((r) => Date.parse(r.occurredAt));
    expect(times).to.deep.equal([...times].sort((a, b) => b - a));
    expect(seen[0]!.description).to.equal('item 24');

    expect((await list('type=DATA_UPDATED&limit=100')).data).to.have.length(12);
    expect((await list('severity=HIGH&limit=100')).data).to.have.length(9);
    expect((await list('outcome=FAILURE&limit=100')).data).to.have.length(5);
    expect((await list('userId=user-1&limit=100')).data).to.have.length(6);
    expect((await list('tenantId=tenant-a&limit=100')).data).to.have.length(10);
    expect((await list('resourceId=r-1&type=DATA_UPDATED&limit=100')).data).to.have.length(12);
    const mid = seen[12]!.occurredAt;
    expect((await list(`from=${encodeURIComponent(mid)}&limit=100`)).data.every((r) => r.occurredAt >= mid)).to.equal(true);
    expect((await list(`from=${encodeURIComponent(t0)}&to=${encodeURIComponent(mid)}&limit=100`)).data).to.have.length(13);
  });

  it('answers bad query parameters with 400 VALIDATION_ERROR in the envelope, never a 500', async () => {
    const bad = [
      'limit=0',
      'limit=101',
      'limit=abc',
      'type=NOT_A_TYPE',
      'severity=low',
      'outcome=MAYBE',
      'from=yesterday',
      'to=2024-13-45T00:00:00Z',
      'cursor=!!!',
      `cursor=${Buffer.from('["x",1]').toString('base64url')}`,
      'unknown=1',
      'type=LOGIN_SUCCESS&type=LOGOUT',
      `userId=${'u'.repeat(201)}`,
      'from=2025-01-02T00:00:00Z&to=2025-01-01T00:00:00Z',
      'from=0000-01-01T00:00:00Z', // valid RFC 3339, outside timestamptz
      `cursor=${Buffer.from('["0000-01-01T00:00:00Z",1]').toString('base64url')}`,
    ];
    for (const qs of bad) {
      const { status, body } = await getJson<{ error: { code: string; details: unknown[] } }>(`${app.url}/api/audit-logs?${qs}`);
      expect(status, qs).to.equal(400);
      expect(body.error.code, qs).to.equal('VALIDATION_ERROR');
      expect(body.error.details, qs).to.be.an('array').that.is.not.empty;
    }
    for (const qs of ['days=0', 'days=x', 'days=99999', 'other=1']) {
      expect((await getJson(`${app.url}/api/audit-logs/stats?${qs}`)).status, qs).to.equal(400);
    }
    expect((await getJson(`${app.url}/api/audit-logs/verify?deep=1`)).status).to.equal(400);
    // An offset no time zone has (+23:59, which PostgreSQL also refuses) is a client error, not a 500.
    expect((await getJson(`${app.url}/api/audit-logs?from=2024-01-01T00:00:00%2B23:59`)).status).to.equal(400);
    expect((await getJson(`${app.url}/api/audit-logs?from=2024-01-01T00:00:00%2B14:00`)).status).to.equal(200);
  });

  it('never answers 5xx to arbitrary query strings (property-based)', async () => {
    const keys = ['type', 'severity', 'outcome', 'userId', 'tenantId', 'resourceType', 'resourceId', 'from', 'to', 'limit', 'cursor', 'days', 'x'];
    const value = fc.oneof(
      fc.string(),
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      fc.integer().map(String),
      fc.constantFrom('LOW', 'DATA_ACCESSED', 'SUCCESS', '+23:59'),
    );
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.constantFrom(...keys), value, { maxKeys: 4 }), fc.constantFrom('', '/stats'), async (params, path) => {
        const res = await fetch(`${app.url}/api/audit-logs${path}?${new URLSearchParams(params)}`, { headers: auth });
        const body = (await res.json()) as { error?: { code: string } };
        expect(res.status, JSON.stringify(params)).to.be.oneOf([200, 400]);
        if (res.status === 400) expect(body.error?.code).to.equal('VALIDATION_ERROR');
      }),
      { numRuns: 150 },
    );
  });

  it('counts by type, severity and outcome over the last N days', async () => {
    expect(await trail.drain(10_000)).to.equal(true); // events of earlier requests are all stored
    const { status, body } = await getJson<{
      days: number;
      total: number;
      byType: Record<string, number>;
      bySeverity: Record<string, number>;
      byOutcome: Record<string, number>;
    }>(`${app.url}/api/audit-logs/stats?days=7`);
    expect(status).to.equal(200);
    const { rows } = await admin.query<{ n: string }>("SELECT count(*) AS n FROM audit_logs WHERE occurred_at >= now() - interval '7 days'");
    // The stats request audits itself (DATA_ACCESSED) after answering: that row may already be in.
    expect(Number(rows[0]!.n) - body.total).to.be.oneOf([0, 1]);
    const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
    expect(sum(body.byType)).to.equal(body.total);
    expect(sum(body.bySeverity)).to.equal(body.total);
    expect(sum(body.byOutcome)).to.equal(body.total);
    expect(body.byType.DATA_UPDATED).to.be.at.least(12);
    expect(body.byOutcome.FAILURE).to.be.at.least(5);
  });

  it('refuses events outside the catalogue without throwing into the caller', async () => {
    const bad = [
      { type: 'login_success', outcome: 'SUCCESS', description: 'old lowercase type', resourceId: `${run}-bad` },
      { type: 'LOGOUT', outcome: 'OK', description: 'bad outcome', resourceId: `${run}-bad` },
      { type: 'LOGOUT', outcome: 'SUCCESS', severity: 'URGENT', description: 'bad severity', resourceId: `${run}-bad` },
    ];
    for (const e of bad) expect(() => trail.emit(e as never)).to.not.throw();
    trail.emit({ type: 'LOGOUT', outcome: 'SUCCESS', description: 'good', resourceId: `${run}-bad` });
    expect(await trail.drain(10_000)).to.equal(true);
    const { rows } = await admin.query<{ description: string }>('SELECT description FROM audit_logs WHERE resource_id = $1', [`${run}-bad`]);
    expect(rows.map((r) => r.description)).to.deep.equal(['good']);
  });

  it('bounds floodable events per source (SECURITY_VIOLATION), counting the rest as throttled', async () => {
    const t = makeTrail(db, join(dir, 'throttle'), { throttle: new SourceThrottle({ perWindow: 5, windowMs: 60_000 }) });
    await t.start();
    for (let i = 0; i < 50; i++)
      t.emit({ type: 'SECURITY_VIOLATION', outcome: 'SECURITY_ALERT', description: 'probe', resourceId: `${run}-flood` }, { clientIp: '198.51.100.7' });
    for (let i = 0; i < 3; i++)
      t.emit({ type: 'SECURITY_VIOLATION', outcome: 'SECURITY_ALERT', description: 'probe', resourceId: `${run}-flood` }, { clientIp: '198.51.100.8' });
    await t.close(5000);
    const { rows } = await admin.query<{ ip: string; n: string }>(
      'SELECT host(client_ip) AS ip, count(*) AS n FROM audit_logs WHERE resource_id = $1 GROUP BY 1 ORDER BY 1',
      [`${run}-flood`],
    );
    expect(rows.map((r) => [r.ip, Number(r.n)])).to.deep.equal([
      ['198.51.100.7', 5],
      ['198.51.100.8', 3],
    ]);
  });

  it('verify walks the chain and reports the first broken link after a row is tampered with in SQL', async () => {
    const clean = await getJson<{ ok: boolean; checked: number; firstBroken: unknown }>(`${app.url}/api/audit-logs/verify`);
    expect(clean.body).to.include({ ok: true, firstBroken: null });
    expect(clean.body.checked).to.be.greaterThan(60);

    const { rows } = await admin.query<{ id: string; seq: string }>('SELECT id, seq FROM audit_logs ORDER BY seq OFFSET 20 LIMIT 1');
    const target = rows[0]!;
    await admin.query("UPDATE audit_logs SET description = description || ' (edited)' WHERE id = $1", [target.id]);
    const edited = await getJson<{ ok: boolean; firstBroken: { id: string; seq: number; reason: string; expectedHash: string; storedHash: string } }>(
      `${app.url}/api/audit-logs/verify`,
    );
    expect(edited.body.ok).to.equal(false);
    expect(edited.body.firstBroken).to.include({ id: target.id, seq: Number(target.seq), reason: 'hash_mismatch' });
    expect(edited.body.firstBroken.expectedHash).to.not.equal(edited.body.firstBroken.storedHash);
    await admin.query("UPDATE audit_logs SET description = replace(description, ' (edited)', '') WHERE id = $1", [target.id]);
    expect((await getJson<{ ok: boolean }>(`${app.url}/api/audit-logs/verify`)).body.ok).to.equal(true);

    // A deleted row breaks the chain at its successor.
    await admin.query('DELETE FROM audit_logs WHERE seq = $1', [Number(target.seq) + 5]);
    const gap = await getJson<{ ok: boolean; firstBroken: { seq: number; reason: string } }>(`${app.url}/api/audit-logs/verify`);
    expect(gap.body.firstBroken).to.include({ seq: Number(target.seq) + 6, reason: 'seq_gap' });
  });
});

describe('audit trail: back-pressure, outage, retention (real PostgreSQL)', function () {
  this.timeout(60_000);
  let tdb: TestDatabase;
  let proxy: TcpProxy;
  let db: Database;
  let admin: pg.Client;
  const dirs: string[] = [];
  const tempDir = async () => {
    const d = await mkdtemp(join(tmpdir(), 'caly-audit-bp-'));
    dirs.push(d);
    return d;
  };

  before(async () => {
    tdb = await createTestDatabase('caly_audit');
    proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
    db = makeDb(proxy.url(tdb.name));
    await migrate(db.pool, log.logger, MIGRATIONS);
    admin = new pg.Client({ connectionString: tdb.url });
    await admin.connect();
  });
  after(async () => {
    await db?.close();
    await admin?.end();
    await proxy?.close();
    await tdb?.drop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('purges past retention on one replica at a time, keeps the chain verifiable, and audits the purge', async () => {
    const old = new Date(Date.now() - 40 * 86_400_000);
    const mk = (i: number, at: Date) =>
      toRecord({ type: 'CALL_ENDED', outcome: 'SUCCESS', description: `call ${i}`, resourceType: 'call' }, undefined, log.redactor.isSensitiveKey, at);
    await storeBatch(
      db,
      Array.from({ length: 30 }, (_, i) => mk(i, old)),
    );
    await storeBatch(
      db,
      Array.from({ length: 10 }, (_, i) => mk(100 + i, new Date())),
    );
    const purgeTrail = makeTrail(db, await tempDir());
    await purgeTrail.start();

    // Another replica holds the purge lock: this one does nothing.
    const other = new pg.Client({ connectionString: tdb.url });
    await other.connect();
    await other.query('SELECT pg_advisory_lock($1)', [PURGE_LOCK_KEY]);
    expect(await purgeExpired(db, 30, purgeTrail)).to.deep.equal({ ran: false, deleted: 0, anchor: null });
    await other.end();

    const result = await purgeExpired(db, 30, purgeTrail);
    expect(result).to.include({ ran: true, deleted: 30 });
    expect(result.anchor?.seq).to.equal(30);
    expect(await purgeTrail.drain(10_000)).to.equal(true);
    await purgeTrail.close(1000);

    const { rows } = await admin.query<{ min: string; n: string }>('SELECT min(seq) AS min, count(*) AS n FROM audit_logs');
    expect(rows[0]).to.deep.equal({ min: '31', n: '11' });
    const purged = await admin.query<{ metadata: { deleted: number; anchorSeq: number } }>("SELECT metadata FROM audit_logs WHERE event_type = 'AUDIT_PURGED'");
    expect(purged.rows[0]!.metadata).to.include({ deleted: 30, anchorSeq: 30 });
    const v = await verifyChain(db);
    expect(v).to.include({ ok: true, checked: 11 });
    expect(v.anchor?.seq).to.equal(30);
  });

  it('beyond the backlog bound, journals only, then stores every event once and in emit order after an outage', async () => {
    const dir = await tempDir();
    const t = makeTrail(db, dir, { maxBacklog: 100, batchSize: 50 });
    await t.start();
    proxy.cut();
    const marker = `bp-${Date.now()}`;
    for (let i = 0; i < 1000; i++) {
      t.emit({ type: 'CALL_STARTED', outcome: 'SUCCESS', description: `call ${i}`, resourceType: marker, resourceId: String(i) });
      if (i % 100 === 99) await new Promise((r) => setImmediate(r)); // several event-loop turns, several journal writes
    }
    await t.flushJournal();
    expect((t as unknown as { queue: unknown[] }).queue.length).to.be.at.most(100);
    const lines = (await readdir(t.journalPath)).filter((f) => f.endsWith('.jsonl'));
    expect(lines.length).to.be.greaterThan(1); // the spill went to its own segment(s)
    await new Promise((r) => setTimeout(r, 300)); // a few failed, backed-off attempts
    proxy.restore();
    expect(await t.drain(30_000)).to.equal(true);
    await t.close(1000);

    const { rows } = await admin.query<{ resource_id: string }>('SELECT resource_id FROM audit_logs WHERE resource_type = $1 ORDER BY seq', [marker]);
    expect(rows.map((r) => Number(r.resource_id))).to.deep.equal(Array.from({ length: 1000 }, (_, i) => i));
    expect((await readdir(t.journalPath)).filter((f) => f.startsWith('seg-'))).to.deep.equal([]);
    expect((await verifyChain(db)).ok).to.equal(true);
  });

  it('replays a journal left by a crashed run exactly once, even when part of it was already stored', async () => {
    const dir = await tempDir();
    const marker = `replay-${Date.now()}`;
    const recs = Array.from({ length: 40 }, (_, i) =>
      toRecord(
        { type: 'RECORDING_RECEIVED', outcome: 'SUCCESS', description: `rec ${i}`, resourceType: marker, resourceId: String(i) },
        undefined,
        log.redactor.isSensitiveKey,
      ),
    );
    // What a killed process leaves: a segment whose first half was committed before the journal
    // was trimmed, ending in a line cut short mid-write (its request was never answered).
    // Segments live under the installation id of the database they feed.
    const { rows: meta } = await admin.query<{ value: string }>("SELECT value FROM app_meta WHERE key = 'installation_id'");
    const scoped = join(dir, `db-${meta[0]!.value}`);
    await mkdir(scoped, { recursive: true });
    await writeFile(join(scoped, 'seg-000000000007.jsonl'), `${recs.map((r) => JSON.stringify(r)).join('\n')}\n{"eventId":"cut-sh`);
    await storeBatch(db, recs.slice(0, 20));
    const trail = makeTrail(db, dir);
    expect((await trail.start()).replaySegments).to.equal(1);
    trail.emit({ type: 'RECORDING_RECEIVED', outcome: 'SUCCESS', description: 'after restart', resourceType: marker, resourceId: 'new' });
    expect(await trail.drain(15_000)).to.equal(true);
    await trail.close(1000);
    const { rows } = await admin.query<{ resource_id: string }>('SELECT resource_id FROM audit_logs WHERE resource_type = $1 ORDER BY seq', [marker]);
    expect(rows.map((r) => r.resource_id)).to.deep.equal([...recs.map((_, i) => String(i)), 'new']);
    expect(trail.journalPath).to.equal(scoped);
    expect((await readdir(scoped)).filter((f) => f.startsWith('seg-'))).to.deep.equal([]);
    // The same directory against another database replays nothing of this one's journal.
    await writeFile(join(scoped, 'seg-000000000009.jsonl'), `${JSON.stringify(recs[0])}\n`);
    const other = await createTestDatabase('caly_audit');
    const otherDb = makeDb(other.url);
    try {
      await migrate(otherDb.pool, log.logger, MIGRATIONS);
      const foreign = makeTrail(otherDb, dir);
      expect((await foreign.start()).replaySegments).to.equal(0);
      await foreign.close(1000);
    } finally {
      await otherDb.close();
      await other.drop();
    }
    await rm(join(scoped, 'seg-000000000009.jsonl'));
    expect((await verifyChain(db)).ok).to.equal(true);
  });
});
