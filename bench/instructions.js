'use strict';
/**
 * Instructions per request, counted by valgrind's callgrind: a figure that, unlike CPU time, comes
 * out the same on a busy or a quiet host, so that a change of 2–3 % can be seen in one run where
 * bench/run.js's CPU µs/request move by ±10 % from run to run on a contended machine.
 *
 *   npm run build
 *   node bench/instructions.js                                  # service and koa-bare, ping and info
 *   node bench/instructions.js --compare before=bench/results/builds/before --only ping
 *   node bench/instructions.js --servers service,fastify-full --requests 3000
 *   node bench/instructions.js --servers service,fastify-full --only ping --cache-sim   # also cache misses
 *   node bench/instructions.js --servers service --only ping --keep   # keep the counts, by function:
 *   node bench/instructions-by-function.js <kept callgrind.out.1-01> <kept /tmp/perf-PID.map> 3000
 *
 * Each server runs under `valgrind --tool=callgrind --instr-atstart=no` (about 50× slower), is
 * warmed up with --warmup requests (15,000: with 3,000 the optimising compiler still ran in the
 * counted window and added ~20 % that varied from build to build), then counts
 * instructions only while --requests more requests are served, 10 at a time on keep-alive
 * connections, and reports instructions (Ir) per request: on the main thread, the figure to compare
 * builds by, and in all threads (V8 compiles on background threads whatever the counted window
 * happens to make hot, which moves from run to run). What it does not see: time in the kernel
 * (system calls, the loopback TCP stack), cache misses, and other processes. So it complements the
 * CPU figures of bench/run.js, never replaces them; it is for telling whether a change to our own
 * code made the request path cheaper.
 */
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const lib = require('./lib');
const { GROUPS, envFor: runEnvFor, PROXY_HEADERS } = require('./run');

/**
 * The options the counting tools share (--servers, --only, --warmup, --requests, --compare), on top of
 * `defaults`; `extra` maps a tool's own flags to what they set. `script` names the tool in errors.
 */
function parseWindowArgs(argv, defaults, script, extra = {}) {
  const o = { ...defaults, compare: [] };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i];
    if (a === '--servers') o.servers = next().split(',');
    else if (a === '--only') o.only = next().split(',');
    else if (a === '--warmup') o.warmup = Number(next());
    else if (a === '--requests') o.requests = Number(next());
    else if (a === '--compare') o.compare.push(lib.parseCompare(next()));
    else if (Object.hasOwn(extra, a)) extra[a](o, next);
    else throw new Error(`unknown option ${a} (see the header of ${script})`);
  }
  return o;
}

function parseArgs(argv) {
  return parseWindowArgs(
    argv,
    { servers: ['koa-bare', 'service'], only: ['ping', 'info'], warmup: 15000, requests: 3000, concurrency: 10, keep: false },
    'bench/instructions.js',
    {
      '--concurrency': (o, next) => (o.concurrency = Number(next())),
      '--keep': (o) => (o.keep = true),
      '--cache-sim': (o) => (o.cacheSim = true),
    },
  );
}

/** `n` GETs of `url`, `concurrency` at a time on keep-alive connections; throws unless every one got a 2xx. */
async function drive(url, n, concurrency) {
  const res = await lib.autocannon({ url, connections: concurrency, amount: n, headers: PROXY_HEADERS });
  const answered = res['2xx'];
  if (answered !== n || res.errors > 0 || res.non2xx > 0)
    throw new Error(`${url}: ${answered} of ${n} requests got a 2xx (${res.non2xx} other, ${res.errors} errors)`);
}

/** The servers of `group` named by --servers, then a copy of the service per --compare build. */
function specsFor(group, o) {
  const listed = GROUPS[group].servers;
  const specs = listed.filter((s) => o.servers.some((want) => s.id === want || s.id.startsWith(`${want}+`)));
  const service = listed.find((s) => s.id === 'service');
  for (const c of o.compare) specs.push(lib.compareSpec(service, c));
  return specs;
}

/** A server's environment: bench/run.js's for it (the service's production settings, or a peer's database). */
function envFor(spec, db, workDir) {
  return runEnvFor({ nodeEnv: 'production' }, db, workDir, spec, spec.id);
}

// valgrind names its control pipes after the USER and HOST variables of the process it runs;
// startServer gives the server only PATH and HOST=127.0.0.1, so the controller must see the same.
const callgrind = (pid, ...args) =>
  execFileSync('callgrind_control', [...args, String(pid)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { PATH: process.env.PATH, HOST: '127.0.0.1' },
  });

/**
 * Event totals (Ir, and the cache simulation's misses with --cache-sim) of the dumps under
 * `outPrefix`: of every thread, and of the main (JavaScript) thread alone, whose dump ends in -01.
 */
function eventsOf(outPrefix) {
  const dir = path.dirname(outPrefix);
  const totals = {};
  for (const f of fs.readdirSync(dir)) {
    if (!f.startsWith(path.basename(outPrefix))) continue;
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    const names = /^events: (.+)$/m.exec(text)?.[1].trim().split(/\s+/) ?? [];
    const values = /^totals: (.+)$/m.exec(text)?.[1].trim().split(/\s+/).map(Number) ?? [];
    const main = f.endsWith('-01');
    names.forEach((name, i) => {
      totals[name] = (totals[name] ?? 0) + (values[i] ?? 0);
      if (main) totals[`main ${name}`] = (totals[`main ${name}`] ?? 0) + (values[i] ?? 0);
    });
  }
  return totals;
}

async function measure(spec, group, db, o) {
  const workDir = lib.tmpWorkDir();
  const outPrefix = path.join(workDir, 'callgrind.out');
  const srv = await lib.startServer({
    kind: spec.kind,
    env: envFor(spec, db, workDir),
    workDir,
    label: spec.id.replace(/[^\w@.-]/g, '_'),
    node: 'valgrind',
    nodeArgs: [
      '--tool=callgrind',
      '--instr-atstart=no',
      '--smc-check=all-non-file',
      `--callgrind-out-file=${outPrefix}`,
      // One dump per thread: V8 optimises on background threads, and a compile that the counted
      // window happens to catch (new connections make new code hot) is reported apart, not as
      // request cost. The main thread's figure is the one to compare builds by.
      '--separate-threads=yes',
      ...(o.cacheSim ? ['--cache-sim=yes'] : []),
      process.execPath,
      ...(o.keep ? ['--perf-basic-prof'] : []),
      ...(spec.nodeArgs ?? []),
    ],
    script: lib.scriptOf(spec),
    readyTimeoutMs: 300_000, // start-up under callgrind takes a minute or more
  });
  try {
    const url = srv.url + GROUPS[group].route;
    await drive(url, o.warmup, o.concurrency);
    callgrind(srv.pid, '--instr=on');
    callgrind(srv.pid, '--zero');
    await drive(url, o.requests, o.concurrency);
    callgrind(srv.pid, '--instr=off');
    callgrind(srv.pid, '--dump');
  } finally {
    srv.signal('SIGKILL');
  }
  await lib.sleep(500);
  const events = eventsOf(outPrefix);
  const perRequest = Object.fromEntries(Object.entries(events).map(([k, v]) => [k, v / o.requests]));
  if (o.keep)
    console.log(`    kept: ${outPrefix}.1-01 (main thread) and /tmp/perf-${srv.pid}.map (node bench/instructions-by-function.js <both> ${o.requests})`);
  else fs.rmSync(workDir, { recursive: true, force: true });
  return perRequest;
}

async function main() {
  const o = parseArgs(process.argv);
  const db = await lib.createBenchDatabase();
  try {
    console.log(`instructions: ${o.warmup} warm-up + ${o.requests} counted requests, ${o.concurrency} at a time, under callgrind`);
    for (const group of o.only) {
      for (const spec of specsFor(group, o)) {
        const e = await measure(spec, group, db, o);
        const misses = o.cacheSim
          ? `; main thread's L1 misses: instruction ${e['main I1mr'].toFixed(0)}, data ${(e['main D1mr'] + e['main D1mw']).toFixed(0)}; last-level data misses ${(e['main DLmr'] + e['main DLmw']).toFixed(0)}`
          : '';
        const k = (v) => (v / 1000).toFixed(1).padStart(8);
        console.log(
          `  ${GROUPS[group].route.padEnd(10)} ${spec.id.padEnd(24)} ${k(e['main Ir'])} k instructions/request on the main thread, ${k(e.Ir)} k in all threads${misses}`,
        );
      }
    }
  } finally {
    await db.drop();
  }
}

module.exports = { drive, specsFor, envFor, parseWindowArgs };

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
