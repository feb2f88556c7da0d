'use strict';
/**
 * Where a server's CPU goes at full speed, by package: `perf record -g` on the running server (the
 * kernel's cpu-clock, 4999 Hz, V8's code map from --perf-basic-prof) while autocannon loads one
 * route, each sample charged to the package of the innermost JavaScript frame on its stack
 * (`koa`, `pg`, `@opentelemetry/sdk-trace`, `caly:db/pool.js` for the service's own files,
 * `node:_http_server` for Node's), with the kernel's part of it alongside. Two or more servers give
 * a side-by-side table in µs per request. Servers are bench/run.js's, started as it starts them
 * (`koa-bare` is the route's baseline).
 *
 * Why beside instructions.js: callgrind counts instructions, not time, and slows V8's tiering; this
 * sees the JIT as it runs, and kernel time (socket wake-ups) as well. The figures carry perf's own
 * overhead (about a third more CPU per request): compare servers within one run, never with
 * bench/run.js's figures.
 *
 *   node bench/perf-owners.js --route info --servers service,fastify-full [--seconds 8] [--top 40]
 *   node bench/perf-owners.js --route ping --servers service --compare s0=bench/results/builds/s0
 *   node bench/perf-owners.js --route info --servers service --functions 40   # also by function
 */
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const lib = require('./lib');
const { GROUPS, envFor, PROXY_HEADERS } = require('./run');

function parseArgs(argv) {
  const o = { route: 'ping', servers: ['service'], seconds: 8, top: 40, functions: 0, compare: [] };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--route') o.route = argv[++i];
    else if (a === '--servers') o.servers = argv[++i].split(',');
    else if (a === '--seconds') o.seconds = Number(argv[++i]);
    else if (a === '--top') o.top = Number(argv[++i]);
    else if (a === '--functions') o.functions = Number(argv[++i]);
    else if (a === '--compare') o.compare.push(lib.parseCompare(argv[++i]));
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

/** The package a JavaScript frame belongs to, or undefined for a native frame. */
function ownerOf(sym) {
  let m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(sym);
  if (m) return m[1];
  m = /\/platform\/([^/]+)\/([^/:]+)/.exec(sym) ?? /\/(?:dist|builds\/[^/]+)\/([^/]+)\/([^/:]+)/.exec(sym);
  if (m) return `caly:${m[1]}/${m[2]}`;
  m = /bench\/(?:peers|baseline)\/([^:]+)/.exec(sym);
  if (m) return m[1];
  m = / (node:[^:]+):\d/.exec(sym);
  return m ? m[1] : undefined;
}

/** This checkout's folder, cut from the file names V8 reports. */
const ROOT = `${path.resolve(__dirname, '..')}${path.sep}`;

/**
 * A perf script frame (`ip sym (dso)`) as its JavaScript function: V8's name for it (tier marker,
 * function, file:line:column), without the address, the map file, or this checkout's folder.
 */
function functionOf(frame) {
  return frame
    .trim()
    .replace(/^[0-9a-f]+ /, '')
    .replace(/ \([^)]*\)$/, '')
    .replace(ROOT, '');
}

/** µs per request by owner, total and kernel part, from one perf.data. */
function owners(dataFile, requests) {
  const out = spawnSync('perf', ['script', '-i', dataFile, '-F', 'ip,sym,dso'], { encoding: 'utf8', maxBuffer: 1 << 30 }).stdout;
  const perSample = 1e6 / 4999 / requests;
  const total = new Map();
  const kernel = new Map();
  const functions = new Map();
  let samples = 0;
  for (const block of out.split('\n\n')) {
    const frames = block.split('\n').filter((l) => l.trim() !== '');
    if (frames.length === 0) continue;
    samples++;
    const inKernel = frames[0].includes('kernel');
    let owner = '(no JavaScript frame)';
    let fn = owner;
    for (const f of frames) {
      const o = ownerOf(f);
      if (o) {
        owner = o;
        fn = functionOf(f);
        break;
      }
    }
    total.set(owner, (total.get(owner) ?? 0) + perSample);
    functions.set(fn, (functions.get(fn) ?? 0) + perSample);
    if (inKernel) kernel.set(owner, (kernel.get(owner) ?? 0) + perSample);
  }
  return { total, kernel, functions, all: samples * perSample };
}

async function profile(o, db, workDir, spec) {
  const srv = await lib.startServer({
    kind: spec.kind,
    env: envFor({ nodeEnv: 'production' }, db, workDir, spec, spec.id),
    cpu: 0,
    workDir,
    label: spec.id,
    nodeArgs: ['--perf-basic-prof', ...(spec.nodeArgs ?? [])],
    script: lib.scriptOf(spec),
  });
  const url = srv.url + GROUPS[o.route].route;
  const dataFile = path.join(workDir, `${spec.id.replace(/[^\w.-]/g, '_')}.perf.data`);
  try {
    await lib.autocannon({ url, connections: 50, durationS: 3, cpu: 1, headers: PROXY_HEADERS });
    const perf = spawn('perf', ['record', '-g', '-e', 'cpu-clock', '-F', '4999', '-p', String(srv.pid), '-o', dataFile, '--', 'sleep', String(o.seconds)], {
      stdio: 'ignore',
    });
    const recorded = new Promise((resolve) => perf.once('exit', resolve));
    const res = await lib.autocannon({ url, connections: 50, durationS: o.seconds + 1, cpu: 1, headers: PROXY_HEADERS });
    await recorded;
    // requests in perf's window, at the load run's mean rate
    return { id: spec.id, reqPerSec: res.requests.average, ...owners(dataFile, res.requests.average * o.seconds) };
  } finally {
    await srv.stop();
    fs.rmSync(dataFile, { force: true });
  }
}

function raise(message) {
  throw new Error(message);
}

function print(o, results) {
  const f = (n) => (n === undefined ? '-' : n.toFixed(2));
  console.log(
    `\n${GROUPS[o.route].route}, µs per request under perf (kernel part in brackets); totals: ${results.map((r) => `${r.id} ${f(r.all)}`).join(', ')}`,
  );
  const keys = new Set(results.flatMap((r) => [...r.total.keys()]));
  const rows = [...keys].sort((a, b) => results.reduce((s, r) => s + (r.total.get(b) ?? 0) - (r.total.get(a) ?? 0), 0)).slice(0, o.top);
  console.log(`| owner | ${results.map((r) => r.id).join(' | ')} |`);
  console.log(`|---|${results.map(() => '---').join('|')}|`);
  for (const k of rows) console.log(`| ${k} | ${results.map((r) => `${f(r.total.get(k) ?? 0)} (${f(r.kernel.get(k) ?? 0)})`).join(' | ')} |`);
  if (!o.functions) return;
  // --functions N: the same samples by the innermost JavaScript function, each server's top N
  for (const r of results) {
    console.log(`\n${r.id}: µs per request by innermost JavaScript function`);
    const top = [...r.functions].sort((a, b) => b[1] - a[1]).slice(0, o.functions);
    for (const [fn, us] of top) console.log(`${f(us).padStart(8)}  ${fn}`);
  }
}

async function main() {
  const o = parseArgs(process.argv);
  if (spawnSync('perf', ['--version']).status !== 0) throw new Error('perf is not installed (Debian: linux-perf)');
  const group = GROUPS[o.route];
  if (!group) throw new Error(`unknown route ${o.route} (${Object.keys(GROUPS).join(', ')})`);
  // run.js's own server specs; `koa-bare` names the group's baseline (koa-bare+pg on info)
  const pick = (id) => group.servers.find((s) => s.id === id || (id === 'koa-bare' && s.kind === 'baseline'));
  const specs = o.servers.map((id) => pick(id) ?? raise(`unknown server ${id}`));
  const service = group.servers.find((s) => s.id === 'service');
  for (const c of o.compare) specs.push(lib.compareSpec(service, c));
  const db = await lib.createBenchDatabase();
  const workDir = lib.tmpWorkDir();
  const results = [];
  try {
    for (const spec of specs) {
      const r = await profile(o, db, workDir, spec);
      console.log(`  ${spec.id}: ${r.reqPerSec.toFixed(0)} req/s under perf`);
      results.push(r);
    }
  } finally {
    await db.drop();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
  print(o, results);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

module.exports = { ownerOf, functionOf };
