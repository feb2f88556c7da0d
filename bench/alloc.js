'use strict';
/**
 * Bytes allocated per request, and by which functions, for the service and bare Koa under the same
 * load as bench/run.js (same environment, same proxy headers, 50 connections). Every allocation is
 * sampled (V8's sampling heap profiler with collected objects included, bench/alloc-probe.js), so
 * the figure counts the per-request garbage that the scavenger later frees: the part of the cost
 * that a CPU profile spreads over the garbage collector, cache misses and every function that
 * touches memory. Unlike time, it hardly moves with the load on the machine.
 *
 *   node bench/alloc.js                                      # service vs koa-bare on /api/ping
 *   node bench/alloc.js --only info --top 30
 *   node bench/alloc.js --compare before=bench/results/builds/before   # another build, same table
 *
 * Options: --only ping|info, --servers service,koa-bare,fastify-full,koa-otel, --compare name=dir, --skip N (requests
 * before the window, default 20000), --requests N (in the window, default 20000), --top N,
 * --survivors (only what is still in the heap when the window ends: what requests leave behind).
 */
const fs = require('node:fs');
const path = require('node:path');
const lib = require('./lib');
const { GROUPS, serviceEnv, PROXY_HEADERS } = require('./run');

function parseArgs(argv) {
  const o = { only: 'ping', servers: ['koa-bare', 'service'], compare: [], skip: 20000, requests: 20000, top: 20, nodeEnv: 'production' };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i];
    if (a === '--only') o.only = next();
    else if (a === '--servers') o.servers = next().split(',');
    else if (a === '--compare') o.compare.push(lib.parseCompare(next()));
    else if (a === '--skip') o.skip = Number(next());
    else if (a === '--requests') o.requests = Number(next());
    else if (a === '--top') o.top = Number(next());
    else if (a === '--survivors') o.survivors = true;
    else throw new Error(`unknown option ${a} (see the header of bench/alloc.js)`);
  }
  if (!GROUPS[o.only]) throw new Error(`--only: one of ${Object.keys(GROUPS).join(', ')}`);
  return o;
}

/** Self bytes per function ("name file:line") and per owner (package or source file). */
function summarise(profile, buildDir) {
  const byFn = new Map();
  const byOwner = new Map();
  let total = 0;
  const walk = (node) => {
    const f = node.callFrame;
    const url = f.url || '';
    const nm = url.lastIndexOf('node_modules/');
    const file = url.replace(/^file:\/\//, '');
    let owner = url.startsWith('node:') ? url : '(native/v8)';
    if (nm !== -1) {
      const rest = url.slice(nm + 13).split('/');
      owner = rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
    } else if (file.startsWith(`${buildDir}/`)) owner = `caly:${file.slice(buildDir.length + 1)}`;
    else if (file.startsWith('/')) owner = path.relative(lib.ROOT, file);
    const key = `${f.functionName || '(anonymous)'} ${owner}:${f.lineNumber + 1}`;
    const bytes = node.selfSize || 0;
    total += bytes;
    byFn.set(key, (byFn.get(key) || 0) + bytes);
    byOwner.set(owner, (byOwner.get(owner) || 0) + bytes);
    for (const c of node.children || []) walk(c);
  };
  walk(profile.head);
  return { total, byFn, byOwner };
}

async function measure(o, db, spec, group) {
  const workDir = lib.tmpWorkDir();
  const out = path.join(workDir, 'alloc.json');
  const allocEnv = { ALLOC_SKIP: String(o.skip), ALLOC_REQUESTS: String(o.requests), ALLOC_OUT: out, ALLOC_SURVIVORS: o.survivors ? '1' : '0' };
  const env = spec.kind === 'service' ? serviceEnv(o, db, workDir, { ...spec.env, ...allocEnv }) : { DATABASE_URL: db.url, DB_POOL_MAX: '20', ...allocEnv };
  const srv = await lib.startServer({
    kind: spec.kind,
    env,
    cpu: 0,
    workDir,
    label: `alloc-${spec.id}`,
    nodeArgs: ['--require', path.join(__dirname, 'alloc-probe.js'), ...(spec.nodeArgs ?? [])],
    script: lib.scriptOf(spec),
  });
  try {
    // Load until the probe has written its window (a few seconds at most).
    for (let i = 0; i < 40 && !fs.existsSync(out); i++) {
      await lib.autocannon({ url: srv.url + group.route, connections: 50, durationS: 2, cpu: 1, headers: PROXY_HEADERS });
    }
    for (let i = 0; i < 50 && !fs.existsSync(out); i++) await lib.sleep(100);
    await lib.sleep(200); // the file is written in one call; let it land
    const r = JSON.parse(fs.readFileSync(out, 'utf8'));
    if (r.error) throw new Error(`${spec.id}: ${r.error}`);
    return { id: spec.id, requests: r.requests, ...summarise(r.profile, spec.distDir ?? path.join(lib.ROOT, 'dist')) };
  } finally {
    await srv.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

const kb = (bytes, requests) => (bytes / requests / 1024).toFixed(2);

async function main() {
  const o = parseArgs(process.argv);
  const group = GROUPS[o.only];
  const specs = group.servers.filter((s) => o.servers.some((id) => s.id === id || (id === 'koa-bare' && s.kind === 'baseline')));
  const service = group.servers.find((s) => s.id === 'service');
  for (const c of o.compare) specs.push(lib.compareSpec(service, c));
  const db = await lib.createBenchDatabase();
  const results = [];
  try {
    for (const spec of specs) {
      const r = await measure(o, db, spec, group);
      results.push(r);
      console.log(`${r.id.padEnd(20)} ${kb(r.total, r.requests).padStart(7)} KB allocated per request (${r.requests} requests sampled)`);
    }
  } finally {
    await db.drop();
  }
  // Rows: the owners that allocate most in any of the servers, largest difference first.
  const spread = (owner) =>
    Math.max(...results.map((r) => (r.byOwner.get(owner) || 0) / r.requests)) - Math.min(...results.map((r) => (r.byOwner.get(owner) || 0) / r.requests));
  const owners = [...new Set(results.flatMap((r) => [...r.byOwner.keys()]))]
    .sort((a, b) => spread(b) - spread(a))
    .slice(0, o.top)
    .map((k) => [k]);
  console.log(`\n${group.route}: KB allocated per request by owner, the ${o.top} that differ most between the servers\n`);
  const last = results.find((r) => r.id === 'service') ?? results[results.length - 1];
  console.log(`| owner | ${results.map((r) => r.id).join(' | ')} |`);
  console.log(`|---|${results.map(() => '---:').join('|')}|`);
  for (const [owner] of owners) console.log(`| ${owner} | ${results.map((r) => kb(r.byOwner.get(owner) || 0, r.requests)).join(' | ')} |`);
  console.log(`| **total** | ${results.map((r) => `**${kb(r.total, r.requests)}**`).join(' | ')} |`);
  console.log(`\ntop ${o.top} functions of ${last.id} (self KB per request)\n`);
  for (const [fn, bytes] of [...last.byFn.entries()].sort((a, b) => b[1] - a[1]).slice(0, o.top)) {
    console.log(`${kb(bytes, last.requests).padStart(7)}  ${fn}`);
  }
}

main().catch((err) => {
  console.error(err.stack || String(err));
  process.exitCode = 1;
});
