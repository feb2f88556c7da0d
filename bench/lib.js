'use strict';
/**
 * Shared pieces of the benchmark scripts: a throw-away PostgreSQL database, starting the real
 * service or the bare-Koa baseline pinned to a CPU, running autocannon pinned to another CPU, and
 * reading the service's /metrics and log file afterwards.
 */
const { spawn, spawnSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const pg = require('pg');

const ROOT = path.resolve(__dirname, '..');
const ADMIN_URL = process.env.BENCH_ADMIN_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const HAS_TASKSET = spawnSync('taskset', ['-V']).status === 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A fresh database with the service's own app_meta migration applied, dropped by `drop()`. */
async function createBenchDatabase() {
  const name = `caly_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  // The baseline reads app_meta too and may start first: apply the service's own migration SQL
  // (idempotent, so the service's migrator running it again later is harmless).
  const { m001 } = require(path.join(ROOT, 'dist/platform/db/migrations/001_app_meta.js'));
  const c = new pg.Client({ connectionString: url.toString() });
  await c.connect();
  try {
    await c.query(m001.sql);
  } finally {
    await c.end();
  }
  return {
    url: url.toString(),
    name,
    async drop() {
      const a = new pg.Client({ connectionString: ADMIN_URL });
      await a.connect();
      try {
        await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}

function pinned(cpu, args) {
  return HAS_TASKSET && cpu !== undefined ? ['taskset', ['-c', String(cpu), ...args]] : [args[0], args.slice(1)];
}

/** Waits until `file` holds a JSON line matching `pred`; returns that line. */
async function waitForLine(file, pred, child, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  let exited = false;
  child.once('exit', () => (exited = true));
  while (Date.now() < until) {
    let text = '';
    try {
      // The start-up lines are at the head of the file; 64 KB is plenty.
      const fd = fs.openSync(file, 'r');
      const buf = Buffer.alloc(65536);
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      fs.closeSync(fd);
      text = buf.subarray(0, n).toString('utf8');
    } catch {
      /* not created yet */
    }
    for (const raw of text.split('\n')) {
      if (!raw.startsWith('{')) continue;
      try {
        const line = JSON.parse(raw);
        if (pred(line)) return line;
      } catch {
        /* partial line */
      }
    }
    if (exited) break;
    await sleep(50);
  }
  throw new Error(`${path.basename(file)}: ready line not seen (exited: ${exited})`);
}

/**
 * Starts a server process pinned to `cpu` with its stdout written to a real file (so that
 * logging costs what it costs in production: a real write(2) per batch, never /dev/null).
 *   kind 'service'  → node dist/main.js with `env`
 *   kind 'baseline' → node bench/baseline/koa-bare.js
 *   kind 'peer'     → `script` (bench/peers/*), ready when it prints a JSON line with msg "listening"
 */
async function startServer({ kind, env, cpu, workDir, label, nodeArgs = [], node = process.execPath, script: customScript, stdout, readyTimeoutMs }) {
  // `stdout` ({fd, file}): write somewhere else (a FIFO) and watch `file` for the ready line.
  const logFile = stdout ? stdout.file : path.join(workDir, `${label}-${Date.now()}-${randomBytes(2).toString('hex')}.log`);
  const out = stdout ? stdout.fd : fs.openSync(logFile, 'w');
  const script = customScript ?? (kind === 'service' ? path.join(ROOT, 'dist/main.js') : path.join(__dirname, 'baseline/koa-bare.js'));
  const [cmd, args] = pinned(cpu, [node, ...nodeArgs, script]);
  const child = spawn(cmd, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', out, 'pipe'],
  });
  if (!stdout) fs.closeSync(out);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c) => (stderr += c));
  const exited = new Promise((r) => child.once('exit', (code, signal) => r(code ?? signal)));
  let ready;
  try {
    ready = await waitForLine(
      logFile,
      (l) => (kind === 'service' ? String(l.msg).startsWith('Caly API listening') : l.msg === 'listening'),
      child,
      readyTimeoutMs,
    );
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${label} did not start: ${err.message}\n${stderr}`, { cause: err });
  }
  return {
    label,
    kind,
    logFile,
    url: `http://127.0.0.1:${ready.port}`,
    metricsUrl: ready.metrics_url,
    pid: child.pid,
    stderr: () => stderr,
    signal(sig) {
      child.kill(sig);
    },
    async stop(sig = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

/**
 * One load run as its own process pinned to `cpu`; resolves with its JSON result. As fast as
 * answered: autocannon (bench/load.js), whose result also carries `latencyUs` (latencies to the
 * microsecond, where autocannon's own `latency` is in whole milliseconds), for `durationS` seconds
 * or, with `amount`, until that many requests are answered; `settleMs` leaves the run's first
 * milliseconds out of `latencyUs` (bench/load.js says why). With `rate` (requests per second over
 * all connections): bench/steady.js, an open-loop load at that steady rate for `durationS` seconds,
 * with the fields bench/run.js reads (autocannon's own pacing comes in bursts, see steady.js).
 */
function autocannon({ url, connections, durationS, amount, cpu, rate, headers = {}, settleMs }) {
  const [script, opts] =
    rate === undefined
      ? ['load.js', { url, connections, headers, settleMs, ...(amount === undefined ? { duration: durationS } : { amount }) }]
      : ['steady.js', { url, connections, headers, rate, duration: durationS }];
  const [cmd, args] = pinned(cpu, [process.execPath, path.join(__dirname, script), JSON.stringify(opts)]);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c) => (err += c));
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`autocannon exited ${code}: ${err}`));
      try {
        resolve(JSON.parse(out));
      } catch (e) {
        reject(new Error(`autocannon output unreadable: ${e.message}: ${out.slice(0, 200)}`));
      }
    });
  });
}

/** Prometheus text → [{name, labels, value}]. */
async function scrape(metricsUrl) {
  const text = await (await fetch(metricsUrl)).text();
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    for (const lm of (m[3] || '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[lm[1]] = lm[2];
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}

/** http_server_request_duration_seconds_count summed over the series of one route. */
async function histogramCount(metricsUrl, route) {
  const samples = await scrape(metricsUrl);
  return samples.filter((s) => s.name === 'http_server_request_duration_seconds_count' && s.labels.http_route === route).reduce((a, s) => a + s.value, 0);
}

/** Streams the log file and counts access lines of `route` and lines of each level. */
async function countLogLines(file, route) {
  const routeNeedle = `"route":"${route}"`;
  let access = 0;
  let total = 0;
  let rest = '';
  const levels = {};
  for await (const chunk of fs.createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop();
    for (const l of lines) {
      if (!l) continue;
      total++;
      const lv = /"level":"(\w+)"/.exec(l);
      if (lv) levels[lv[1]] = (levels[lv[1]] || 0) + 1;
      if ((l.includes('"msg":"request"') || l.includes('"msg":"slow request"')) && l.includes(routeNeedle)) access++;
    }
  }
  return { access, total, levels };
}

/**
 * CPU seconds (user + system) a process has used so far, from /proc (Linux). Throughput on a
 * shared machine moves with whatever else runs; CPU time per request served does much less.
 */
function cpuSeconds(pid) {
  const t = cpuTimes(pid);
  return t.user + t.sys;
}

/**
 * The same split into user and system (kernel) time. The kernel part is mostly the socket writes,
 * and on loopback it grows as the server gets slower: an idle load generator has to be woken for
 * every response (bench/README.md, "the kernel share"), so compare it between servers.
 */
function cpuTimes(pid, tid) {
  try {
    const stat = fs.readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(f[11]) / CLK_TCK, sys: Number(f[12]) / CLK_TCK };
  } catch {
    return { user: NaN, sys: NaN };
  }
}
/**
 * CPU seconds of the process's main thread alone (the thread id of a process's first thread is its
 * pid): JavaScript, the event loop and most of the collector run there; V8's compiler and GC helper
 * threads and libuv's thread pool (the log writer's writes) do not.
 */
function mainThreadCpuSeconds(pid) {
  const t = cpuTimes(pid, pid);
  return t.user + t.sys;
}

/**
 * The PostgreSQL backends serving database `name` now, and the CPU seconds each has used so far.
 * A server's requests cost the database CPU too, on the same two cores: read this before a window,
 * and `dbCpuSecondsSince` sums what that database's backends used since. A backend that connected
 * in between counts whole (its connection set-up belongs to the window); one that exited in
 * between is lost, which the pools' idle timeouts (longer than a window) make rare.
 */
async function dbBackends(name) {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    const { rows } = await c.query('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
    return { name, cpu: new Map(rows.map((r) => [r.pid, runSeconds(r.pid)])) };
  } finally {
    await c.end();
  }
}
async function dbCpuSecondsSince(before) {
  const now = await dbBackends(before.name);
  let s = 0;
  for (const [pid, cpu] of now.cpu) {
    const d = cpu - (before.cpu.get(pid) ?? 0);
    if (Number.isFinite(d)) s += d;
  }
  return s;
}

/**
 * CPU seconds a process has run so far, to the nanosecond, from /proc/<pid>/schedstat (its first
 * field is the scheduler's run time). /proc/<pid>/stat counts whole clock ticks (10 ms), charged to
 * whichever process a tick lands on: a database backend that runs 40 µs per request for a one-second
 * smoke window spread over ten connections can read 0 ticks, and did (a CI run, stop 25). Falls back
 * to the tick count where schedstat is missing.
 */
function runSeconds(pid) {
  try {
    return Number(fs.readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e9;
  } catch {
    return cpuSeconds(pid);
  }
}

/** Resident set size of a process in MB (VmRSS from /proc), NaN where /proc is missing. */
function rssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

/**
 * The script a server spec runs: a --compare build's main.js, a peer's own script, or undefined for
 * startServer's default of its kind (dist/main.js for the service, bare Koa for a baseline).
 */
function scriptOf(spec) {
  return spec.distDir ? path.join(spec.distDir, 'main.js') : spec.script;
}

/** `--compare name=dir`: another build of the service (a tsc outDir), measured beside this one. */
function parseCompare(arg) {
  const [name, dir] = arg.split('=');
  return { name, dir: path.resolve(dir) };
}

/** The server spec of a `--compare` build: the service's own spec, run from that build. */
function compareSpec(service, c, extra = {}) {
  return { ...service, id: `service@${c.name}`, distDir: c.dir, ...extra };
}

function tmpWorkDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'caly-bench-'));
}

module.exports = {
  cpuTimes,
  dbBackends,
  dbCpuSecondsSince,
  scriptOf,
  mainThreadCpuSeconds,
  parseCompare,
  compareSpec,
  ROOT,
  HAS_TASKSET,
  sleep,
  createBenchDatabase,
  startServer,
  autocannon,
  scrape,
  histogramCount,
  cpuSeconds,
  rssMb,
  countLogLines,
  median,
  tmpWorkDir,
};
