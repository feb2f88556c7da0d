import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import type { ReceivedSpan } from './otlp-receiver';
import { ROOT, scrape, type ServiceHandle } from './service';

/** Test keys (never used outside tests). */
export const K1 = '1'.repeat(64);
export const K2 = '2a'.repeat(32);
export const K3 = '3b'.repeat(32);

/** A scratch directory per test file (DATA_DIR: audit journal, recordings), removed afterwards. */
export function scratchDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * The environment domain tests run the service and the CLI with: real PostgreSQL, a fixed key,
 * a low argon2 cost (documented: PASSWORD_HASH_MEMORY_KIB) and budgets high enough that the
 * limiters never interfere with what a test is checking.
 */
export function domainEnv(databaseUrl: string, dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    DATA_DIR: dataDir,
    ENCRYPTION_KEY: K1,
    PASSWORD_HASH_MEMORY_KIB: '1024',
    RATE_LIMIT_LOGIN_POINTS: '1000',
    RATE_LIMIT_LOGIN_IP_POINTS: '1000',
    RATE_LIMIT_API_POINTS: '100000',
    RATE_LIMIT_UPLOAD_POINTS: '1000',
    AUDIT_FLUSH_INTERVAL_MS: '20',
    DB_POOL_MIN: '0',
    DB_POOL_MAX: '5',
    ...extra,
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a built CLI (dist/…) as `npm run` would, with exactly the given environment. */
export function runCli(script: 'cli/tenants.js' | 'cli/reencrypt.js', args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [resolve(ROOT, 'dist', script), ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH, NODE_ENV: 'test', ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

export interface CreatedTenant {
  tenantId: string;
  ownerId: string;
  ownerEmail: string;
  ownerPassword: string;
  webhookCredential: string;
  passthruUrl: string;
  statusCallbackUrl: string;
}

export async function createTenant(
  env: Record<string, string>,
  t: { name: string; exophones: string[]; ownerEmail: string; sector?: string; ownerPassword?: string; extra?: string[] },
): Promise<CreatedTenant> {
  const ownerPassword = t.ownerPassword ?? 'owner password 123';
  const args = [
    'create',
    '--json',
    '--name',
    t.name,
    '--sector',
    t.sector ?? 'ecommerce',
    '--owner-email',
    t.ownerEmail,
    '--owner-password',
    ownerPassword,
    ...(t.extra ?? []),
  ];
  for (const p of t.exophones) args.push('--exophone', p);
  const r = await runCli('cli/tenants.js', args, env);
  expect(r.code, r.stderr).to.equal(0);
  return { ...(JSON.parse(r.stdout) as Omit<CreatedTenant, 'ownerPassword'>), ownerPassword };
}

export async function addUser(env: Record<string, string>, tenantId: string, email: string, role: string, password = 'user password 123'): Promise<string> {
  const r = await runCli('cli/tenants.js', ['add-user', '--json', '--tenant', tenantId, '--email', email, '--role', role, '--password', password], env);
  expect(r.code, r.stderr).to.equal(0);
  return (JSON.parse(r.stdout) as { userId: string }).userId;
}

export interface Sent {
  method: string;
  route: string;
  requestId: string;
  status: number;
}

export interface ReqInit {
  token?: string;
  json?: unknown;
  form?: Record<string, string>;
  body?: RequestInit['body'];
  headers?: Record<string, string>;
}

/**
 * HTTP client for the service under test that remembers every request with the route template
 * it must be recorded under, so a test file can prove at its end that each one produced a span
 * with that route and a sample in http_server_request_duration_seconds.
 */
export class Client {
  readonly sent: Sent[] = [];
  constructor(public svc: ServiceHandle) {}

  async req(method: string, route: string, path: string, init: ReqInit = {}): Promise<Response> {
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    let body: RequestInit['body'] = init.body;
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    } else if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const res = await fetch(`${this.svc.url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    this.sent.push({ method, route, requestId: res.headers.get('x-request-id') ?? '', status: res.status });
    return res; // checked against docs/openapi.json by the fetch watch startService set up (helpers/contract.ts)
  }

  async json<T = Record<string, unknown>>(
    method: string,
    route: string,
    path: string,
    init: ReqInit = {},
  ): Promise<{ status: number; body: T; res: Response }> {
    const res = await this.req(method, route, path, init);
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, res };
  }

  async login(email: string, password: string): Promise<Tokens> {
    const r = await this.json<Tokens>('POST', '/api/auth/login', '/api/auth/login', { json: { email, password } });
    expect(r.status, JSON.stringify(r.body)).to.equal(200);
    return r.body;
  }

  /**
   * Every request sent has a SERVER span named by its route (OTLP receiver) and the duration
   * histogram counts exactly the requests sent per method and route (Prometheus scrape).
   */
  async verifyTelemetry(spans: ReceivedSpan[]): Promise<void> {
    const expected = new Map<string, number>();
    for (const s of this.sent) expected.set(`${s.method} ${s.route}`, (expected.get(`${s.method} ${s.route}`) ?? 0) + 1);
    const samples = await scrape(this.svc.metricsUrl);
    const seen = new Map<string, number>();
    for (const s of samples) {
      if (s.name !== 'http_server_request_duration_seconds_count' || !s.labels.http_route) continue;
      const k = `${s.labels.http_request_method} ${s.labels.http_route}`;
      seen.set(k, (seen.get(k) ?? 0) + s.value);
    }
    for (const [k, n] of expected) expect(seen.get(k), `duration histogram count for ${k}`).to.equal(n);
    const deadline = Date.now() + 15_000;
    for (const s of this.sent) {
      let span: ReceivedSpan | undefined;
      while (!(span = spans.find((x) => `${x.traceId}-${x.spanId}` === s.requestId && x.kind === 2)) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      expect(span, `server span of ${s.method} ${s.route} (${s.requestId})`).to.exist;
      expect(span!.attributes['http.route']).to.equal(s.route);
      expect(span!.name).to.equal(`${s.method} ${s.route}`);
      expect(span!.attributes['http.response.status_code']).to.equal(s.status);
    }
  }
}

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  tokenType: string;
  expiresIn: number;
  refreshTokenExpiresAt: string;
  user: { id: string; email: string; role: string; tenantId: string };
}

/** Waits until the audit trail has stored rows matching `where` (it writes in batches). */
export async function auditRows(
  databaseUrl: string,
  where: string,
  values: unknown[],
  atLeast = 1,
  timeoutMs = 10_000,
): Promise<Array<Record<string, unknown>>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await client.query(
        `SELECT event_type, outcome, tenant_id, user_id, resource_type, resource_id, changes, metadata, description FROM audit_logs WHERE ${where} ORDER BY seq`,
        values,
      );
      if (rows.length >= atLeast || Date.now() > deadline) return rows;
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await client.end();
  }
}

export async function sql<R extends Record<string, unknown> = Record<string, unknown>>(
  databaseUrl: string,
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/**
 * Resolves once the service has stored every audit event it accepted (backlog and journal at 0 on
 * /metrics): after it, the absence of a row means the event was never emitted, not that it is late.
 */
export async function auditSettled(metricsUrl: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const samples = await scrape(metricsUrl);
    const pending = samples.filter((s) => s.name === 'caly_audit_backlog' || s.name === 'caly_audit_journal_pending').reduce((a, s) => a + s.value, 0);
    if (pending === 0) return;
    if (Date.now() > deadline) throw new Error(`audit still has ${pending} events pending after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
