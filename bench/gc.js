'use strict';
/**
 * What the garbage collector does under load, run by run: bytes promoted to old space and pause
 * per scavenge, mark-compacts, and GC pause per request, from V8's `--trace-gc-nvp` lines (the
 * server's stdout, next to its log). Same environment, headers and pinning as bench/run.js.
 *
 * Why runs and not a median: V8's allocation-site pretenuring sometimes starts allocating a
 * request-scoped object straight into old space, and from then on whatever it points to is
 * promoted too; a run is then in one of two modes (bench/README.md, "Fourth round"), and the
 * count of runs in each mode is the figure.
 *
 *   node bench/gc.js                                   # service, /api/info, 4 runs of 4 s
 *   node bench/gc.js --only ping --runs 6 --compare before=bench/results/builds/before
 *   node bench/gc.js --flags --no-allocation-site-pretenuring   # extra V8 flags for every build
 */
const fs = require('node:fs');
const lib = require('./lib');
const { GROUPS, serviceEnv, PROXY_HEADERS } = require('./run');

function parseArgs(argv) {
  const o = { only: 'info', runs: 4, durationS: 4, warmupS: 2, compare: [], flags: [], nodeEnv: 'production' };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i];
    if (a === '--only') o.only = next();
    else if (a === '--runs') o.runs = Number(next());
    else if (a === '--duration') o.durationS = Number(next());
    else if (a === '--compare') o.compare.push(lib.parseCompare(next()));
    else if (a === '--flags') o.flags.push(...next().split(','));
    else throw new Error(`unknown option ${a} (see the header of bench/gc.js)`);
  }
  if (!GROUPS[o.only]) throw new Error(`--only: one of ${Object.keys(GROUPS).join(', ')}`);
  return o;
}

/** The collections a --trace-gc-nvp log reports: process time (ms), pause, kind, bytes promoted. */
function gcEvents(text) {
  const events = [];
  for (const line of text.split('\n')) {
    const t = /\s(\d+) ms: pause=([\d.]+) .*gc=(\w+)/.exec(line);
    if (t) events.push({ ms: Number(t[1]), pause: Number(t[2]), kind: t[3], promoted: Number(/ promoted=(\d+)/.exec(line)?.[1] ?? 0) });
  }
  return events;
}

/** Scavenges and mark-compacts of `events`, summed. */
function gcFacts(events) {
  const s = { scavenges: 0, promoted: 0, scavengePause: 0, markCompacts: 0, pause: 0 };
  for (const e of events) {
    s.pause += e.pause;
    if (e.kind === 's') {
      s.scavenges++;
      s.scavengePause += e.pause;
      s.promoted += e.promoted;
    } else if (e.kind === 'mc' || e.kind === 'mmc') s.markCompacts++;
  }
  return s;
}

async function runOnce(o, db, group, spec) {
  const workDir = lib.tmpWorkDir();
  const srv = await lib.startServer({
    kind: 'service',
    env: serviceEnv(o, db, workDir, spec.env),
    cpu: 0,
    workDir,
    label: `gc-${spec.id}`,
    nodeArgs: ['--trace-gc-nvp', ...o.flags],
    script: lib.scriptOf(spec),
  });
  try {
    const url = srv.url + group.route;
    await lib.autocannon({ url, connections: 50, durationS: o.warmupS, cpu: 1, headers: PROXY_HEADERS });
    // The measured window starts after the last collection of the warm-up.
    const since = gcEvents(fs.readFileSync(srv.logFile, 'utf8')).at(-1)?.ms ?? 0;
    const res = await lib.autocannon({ url, connections: 50, durationS: o.durationS, cpu: 1, headers: PROXY_HEADERS });
    const gc = gcFacts(gcEvents(fs.readFileSync(srv.logFile, 'utf8')).filter((e) => e.ms > since));
    return { requests: res.requests.total, ...gc };
  } finally {
    await srv.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

async function main() {
  const o = parseArgs(process.argv);
  const group = GROUPS[o.only];
  const service = group.servers.find((s) => s.id === 'service');
  const specs = [service, ...o.compare.map((c) => lib.compareSpec(service, c))];
  const db = await lib.createBenchDatabase();
  console.log(`${group.route}: ${o.runs} runs of ${o.durationS} s per build, 50 connections${o.flags.length ? `, flags ${o.flags.join(' ')}` : ''}\n`);
  console.log('| build | run | promoted KB / scavenge | pause ms / scavenge | mark-compacts | GC pause µs / request |');
  console.log('|---|---:|---:|---:|---:|---:|');
  try {
    for (let r = 1; r <= o.runs; r++) {
      for (const spec of specs) {
        const g = await runOnce(o, db, group, spec);
        const per = (x) => (g.scavenges ? x / g.scavenges : 0);
        console.log(
          `| ${spec.id} | ${r} | ${(per(g.promoted) / 1024).toFixed(0)} | ${per(g.scavengePause).toFixed(2)} | ${g.markCompacts} | ${((g.pause * 1000) / g.requests).toFixed(1)} |`,
        );
      }
    }
  } finally {
    await db.drop();
  }
}

main().catch((err) => {
  console.error(err.stack || String(err));
  process.exitCode = 1;
});
