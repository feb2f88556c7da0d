import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import type { AddressInfo } from 'node:net';
import { freePort } from './ports';

/** Repository root and the observability files these helpers read. */
export const ROOT = resolve(__dirname, '..', '..');
export const PROMETHEUS_DIR = join(ROOT, 'otel', 'prometheus');
export const ALERTMANAGER_CONFIG = join(ROOT, 'otel', 'alertmanager', 'alertmanager.yml');
export const DASHBOARDS_DIR = join(ROOT, 'dashboards');

export const BIN = {
  prometheus: '/usr/bin/prometheus',
  promtool: '/usr/bin/promtool',
  alertmanager: '/usr/bin/prometheus-alertmanager',
  amtool: '/usr/bin/amtool',
  dockerCompose: '/usr/bin/docker-compose',
} as const;

/** Absolute path of a binary (PATH first, then the Debian location), or undefined if absent. */
export function which(name: keyof typeof BIN): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${BIN[name].split('/').pop()}`], { encoding: 'utf8' });
  const found = r.stdout.trim();
  if (r.status === 0 && found) return found;
  return existsSync(BIN[name]) ? BIN[name] : undefined;
}

export function run(bin: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}) {
  const r = spawnSync(bin, args, { encoding: 'utf8', cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, input: opts.input, timeout: 60_000 });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a value other than undefined, or fails with the last reason. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(everyMs);
  }
}

export interface Daemon {
  url: string;
  dir: string;
  output(): string;
  stop(): Promise<void>;
}

/** Starts a binary with its own temp dir, waits for `<url>/-/ready`, and stops it by its own pid. */
async function daemon(bin: string, args: (dir: string, port: number) => string[], name: string): Promise<Daemon> {
  const dir = mkdtempSync(join(tmpdir(), `caly-${name}-`));
  const port = await freePort();
  const child: ChildProcess = spawn(bin, args(dir, port), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      `${name} ready`,
      async () => {
        if (child.exitCode !== null) throw new Error(`${name} exited: ${out.slice(-2000)}`);
        const r = await fetch(`${url}/-/ready`);
        return r.ok ? true : undefined;
      },
      20_000,
      100,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, dir, output: () => out, stop };
}

/** Real Prometheus on a free loopback port. `files` are written into its temp dir first. */
export function startPrometheus(files: (dir: string) => Record<string, string>): Promise<Daemon> {
  return daemon(
    BIN.prometheus,
    (dir, port) => {
      for (const [name, text] of Object.entries(files(dir))) writeFileSync(join(dir, name), text);
      return [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--enable-feature=exemplar-storage',
      ];
    },
    'prometheus',
  );
}

/** Real Alertmanager, clustering off (empty --cluster.listen-address), on a free loopback port. */
export function startAlertmanager(configYaml: string): Promise<Daemon> {
  return daemon(
    BIN.alertmanager,
    (dir, port) => {
      writeFileSync(join(dir, 'alertmanager.yml'), configYaml);
      return [
        `--config.file=${join(dir, 'alertmanager.yml')}`,
        `--storage.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=',
      ];
    },
    'alertmanager',
  );
}

/**
 * The repository's alertmanager.yml with every receiver's webhook pointed at `<base>/<receiver>`
 * and the waits cut to a second. Routes, matchers, grouping keys and inhibitions stay as committed,
 * so the test proves the real routing.
 */
export function alertmanagerTestConfig(base: string): string {
  const cfg = parse(readFileSync(ALERTMANAGER_CONFIG, 'utf8')) as {
    route: Record<string, unknown> & { routes?: Array<Record<string, unknown>> };
    receivers: Array<{ name: string; webhook_configs?: Array<{ url: string }> }>;
  };
  const fast = (r: Record<string, unknown> & { routes?: Array<Record<string, unknown>> }) => {
    if (r.group_wait !== undefined || r === cfg.route) r.group_wait = '1s';
    if (r.group_interval !== undefined || r === cfg.route) r.group_interval = '1s';
    for (const child of r.routes ?? []) fast(child);
  };
  fast(cfg.route);
  for (const rec of cfg.receivers) for (const w of rec.webhook_configs ?? []) w.url = `${base}/${rec.name}`;
  return stringify(cfg);
}

export interface WebhookDelivery {
  path: string;
  body: {
    receiver: string;
    status: string;
    groupLabels: Record<string, string>;
    alerts: Array<{ status: string; labels: Record<string, string>; annotations: Record<string, string> }>;
  };
}

/** The Alertmanager webhook receiver: records every POST (Alertmanager's v4 webhook JSON). */
export async function startWebhookReceiver(): Promise<{ url: string; deliveries: WebhookDelivery[]; close(): Promise<void> }> {
  const deliveries: WebhookDelivery[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      try {
        deliveries.push({ path: req.url ?? '', body: JSON.parse(body) as WebhookDelivery['body'] });
      } catch {
        /* not an Alertmanager payload: ignore */
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, deliveries, close: () => new Promise((r) => server.close(() => r())) };
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** Instant query; throws on a PromQL error (a parse or type error is an error, not "no data"). */
export async function promQuery(url: string, expr: string): Promise<PromSample[]> {
  const r = await fetch(`${url}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: expr }),
  });
  const doc = (await r.json()) as { status: string; error?: string; data?: { resultType: string; result: PromSample[] } };
  if (doc.status !== 'success') throw new Error(`query failed: ${expr}: ${doc.error}`);
  return doc.data!.resultType === 'vector' ? doc.data!.result : [];
}

// ----- dashboards --------------------------------------------------------------------------------

export interface DashboardJson {
  uid: string;
  title: string;
  panels: Array<{
    id: number;
    title: string;
    type: string;
    datasource?: { type: string; uid: string };
    targets?: Array<{ refId: string; expr: string; datasource?: { uid: string } }>;
    panels?: unknown[];
  }>;
  templating: { list: Array<{ name: string; type: string; current?: { value: string } }> };
}

export function loadDashboards(): Array<{ file: string; json: DashboardJson }> {
  return readdirSync(DASHBOARDS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, json: JSON.parse(readFileSync(join(DASHBOARDS_DIR, file), 'utf8')) as DashboardJson }));
}

export interface PanelQuery {
  dashboard: string;
  panel: string;
  refId: string;
  raw: string;
  /** With Grafana's variables substituted as Grafana would for a 15 s scrape (`$__rate_interval` → 1m). */
  expr: string;
}

/** Every panel query of every dashboard (rows included), with variables substituted. */
export function panelQueries(vars: { job: string; rateInterval?: string }): PanelQuery[] {
  const out: PanelQuery[] = [];
  for (const { json } of loadDashboards()) {
    const walk = (panels: DashboardJson['panels']) => {
      for (const p of panels) {
        for (const t of p.targets ?? [])
          out.push({
            dashboard: json.uid,
            panel: p.title,
            refId: t.refId,
            raw: t.expr,
            expr: t.expr
              .replaceAll('$__rate_interval', vars.rateInterval ?? '1m')
              .replaceAll('$__interval', '15s')
              .replaceAll('$__range', '5m')
              .replaceAll('$job', vars.job),
          });
        if (p.panels) walk(p.panels as DashboardJson['panels']);
      }
    };
    walk(json.panels);
  }
  return out;
}

// ----- rules -------------------------------------------------------------------------------------

export interface RuleDoc {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Every rule of the committed otel/prometheus/rules/*.yml. */
export function committedRules(): RuleDoc[] {
  return ['recording.yml', 'slo.yml', 'alerts.yml'].flatMap((f) =>
    (parse(readFileSync(join(PROMETHEUS_DIR, 'rules', f), 'utf8')) as { groups: Array<{ rules: RuleDoc[] }> }).groups.flatMap((g) => g.rules),
  );
}

/**
 * Raw metric names (as scraped: `_bucket`, `_total` …) that rule and panel expressions select,
 * leaving out recorded series (names with a colon) and `up`, which Prometheus makes itself.
 */
export function selectedMetricNames(exprs: string[]): string[] {
  const names = new Set<string>();
  for (const e of exprs)
    for (const m of e.replace(/"[^"]*"/g, '""').matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{|\[)/g)) {
      const name = m[1]!;
      if (name !== 'up' && !name.includes(':')) names.add(name);
    }
  return [...names].sort();
}
