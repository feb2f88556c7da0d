import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { watchService } from './contract';

export const ROOT = resolve(__dirname, '..', '..');
export const MAIN = resolve(ROOT, 'dist', 'main.js');
export const TEST_ENCRYPTION_KEY = '0e'.repeat(32);

export interface LogLine {
  level: string;
  msg: string;
  [k: string]: unknown;
}

export interface ServiceHandle {
  child: ChildProcess;
  url: string;
  port: number;
  metricsUrl: string;
  /** Every JSON log line so far (stdout), in order. */
  logs: LogLine[];
  stderr(): string;
  /** Resolves with the first log line matching, waiting up to `timeoutMs`. */
  waitForLog(pred: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
  exited: Promise<number | null>;
}

/**
 * Starts the built service (dist/main.js, as `npm start` runs it) as a child process on free
 * ports and waits for its "listening" line. Tests talk to it over real HTTP.
 */
export async function startService(env: Record<string, string | undefined>, opts: { timeoutMs?: number } = {}): Promise<ServiceHandle> {
  // Each service is its own replica with its own local state (audit journal, scan reports), as in
  // production; `env` may point DATA_DIR elsewhere (or at a shared directory on purpose).
  const dataDir = mkdtempSync(join(tmpdir(), 'caly-svc-'));
  const child = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      PORT: '0',
      METRICS_PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      DATA_DIR: dataDir,
      // Services in one test share a database: one key, as replicas would (pass undefined to test
      // the development key under DATA_DIR).
      ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      ...env,
    } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  void new Promise((r) => child.once('exit', r)).then(() => rmSync(dataDir, { recursive: true, force: true }));
  const logs: LogLine[] = [];
  let err = '';
  let buf = '';
  const waiters: Array<{ pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buf += chunk;
    let i: number;
    while ((i = buf.indexOf('\n')) !== -1) {
      const raw = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (!raw.trim()) continue;
      let line: LogLine;
      try {
        line = JSON.parse(raw) as LogLine;
      } catch {
        line = { level: 'raw', msg: raw };
      }
      logs.push(line);
      for (const w of [...waiters]) {
        if (w.pred(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));

  const waitForLog = (pred: (l: LogLine) => boolean, timeoutMs = 15_000) =>
    new Promise<LogLine>((resolvePromise, reject) => {
      const found = logs.find(pred);
      if (found) return resolvePromise(found);
      const t = setTimeout(() => reject(new Error(`log line not seen within ${timeoutMs} ms; stderr: ${err}`)), timeoutMs);
      waiters.push({
        pred,
        resolve: (l) => {
          clearTimeout(t);
          resolvePromise(l);
        },
      });
      void exited.then((code) => {
        clearTimeout(t);
        reject(new Error(`service exited (${code}) before the expected log line; stderr: ${err}`));
      });
    });

  const ready = await waitForLog((l) => typeof l.port === 'number' && String(l.msg).startsWith('Caly API listening'), opts.timeoutMs ?? 30_000);
  const port = ready.port as number;
  // Every response this service gives a test is checked against docs/openapi.json.
  const unwatch = watchService(`http://127.0.0.1:${port}`);
  void exited.then(unwatch);
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    port,
    metricsUrl: String(ready.metrics_url),
    logs,
    stderr: () => err,
    waitForLog,
    exited,
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

/** Runs the service expecting it to exit (bad configuration …); returns code and output. */
export function runServiceToExit(
  env: Record<string, string | undefined>,
  timeoutMs = 20_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [MAIN], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, PORT: '0', METRICS_PORT: '0', ENCRYPTION_KEY: TEST_ENCRYPTION_KEY, ...env } as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(t);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** Fetches the Prometheus exposition and parses it into samples. */
export async function scrape(metricsUrl: string): Promise<Array<{ name: string; labels: Record<string, string>; value: number }>> {
  const text = await (await fetch(metricsUrl)).text();
  const out: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const lm of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[lm[1]!] = lm[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[4]) });
  }
  return out;
}
