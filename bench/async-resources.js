'use strict';
/**
 * Async resources (promises, ticks, timers …) a request creates, by type: on Node 20 each one runs
 * AsyncLocalStorage's init hook while the OpenTelemetry context is on, so their number per request
 * is part of its cost (bench/README.md, "Sixth round").
 *
 *   npm run build
 *   node bench/async-resources.js                                  # the service, ping and info
 *   node bench/async-resources.js --servers service,koa-bare --only info --compare before=bench/results/builds/before
 *
 * Each server is warmed up with --warmup requests (5,000), then the resources created while
 * --requests more (2,000) are served, 10 at a time, are counted by bench/async-resources-hook.js
 * and divided by the number of requests. Counting has a cost of its own, so this run says nothing
 * about time.
 */
const path = require('node:path');
const lib = require('./lib');
const { GROUPS } = require('./run');
const { drive, specsFor, envFor, parseWindowArgs } = require('./instructions');

function parseArgs(argv) {
  return parseWindowArgs(argv, { servers: ['service'], only: ['ping', 'info'], warmup: 5000, requests: 2000 }, 'bench/async-resources.js');
}

async function measure(spec, group, db, o) {
  const workDir = lib.tmpWorkDir();
  const srv = await lib.startServer({
    kind: spec.kind,
    env: envFor(spec, db, workDir),
    workDir,
    label: spec.id.replace(/[^\w@.-]/g, '_'),
    nodeArgs: ['--require', path.join(__dirname, 'async-resources-hook.js'), ...(spec.nodeArgs ?? [])],
    script: lib.scriptOf(spec),
  });
  try {
    const url = srv.url + GROUPS[group].route;
    await drive(url, o.warmup, 10);
    srv.signal('SIGUSR2');
    await lib.sleep(100);
    await drive(url, o.requests, 10);
    srv.signal('SIGUSR2');
    for (let i = 0; i < 50 && !srv.stderr().includes('asyncResources'); i++) await lib.sleep(100);
    const line = srv
      .stderr()
      .split('\n')
      .find((l) => l.includes('asyncResources'));
    if (!line) throw new Error(`${spec.id}: no count on stderr`);
    return JSON.parse(line).asyncResources;
  } finally {
    await srv.stop();
  }
}

async function main() {
  const o = parseArgs(process.argv);
  const db = await lib.createBenchDatabase();
  try {
    console.log(`async resources per request: ${o.warmup} warm-up + ${o.requests} counted requests, 10 at a time`);
    for (const group of o.only) {
      for (const spec of specsFor(group, o)) {
        const counts = await measure(spec, group, db, o);
        const per = Object.entries(counts)
          .sort((a, b) => b[1] - a[1])
          .map(([type, n]) => `${type} ${(n / o.requests).toFixed(2)}`)
          .join(', ');
        console.log(`  ${GROUPS[group].route.padEnd(10)} ${spec.id.padEnd(24)} ${per}`);
      }
    }
  } finally {
    await db.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
