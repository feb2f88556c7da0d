'use strict';
/**
 * Does logging block the event loop? Runs GET /api/ping under load (access log on) with the log
 * destination (a) a file and (b) a FIFO drained by a reader far slower than the log rate
 * (bench/slow-reader.js), and reads the service's own event-loop delay (nodejs_eventloop_delay_*
 * from /metrics, reset by a scrape just before the load) and RSS. For contrast, the same two
 * destinations with bare Koa writing its line synchronously (fs.writeSync, as console.log and
 * winston's Console transport do on a pipe).
 *
 *   npm run build && node bench/log-blocking.js [--duration 10] [--connections 50]
 */
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const lib = require('./lib');

function args() {
  const o = { durationS: 10, warmupS: 2, connections: 50, serverCpu: 0, loadCpu: 1 };
  for (let i = 2; i < process.argv.length; i++) {
    const a = process.argv[i];
    if (a === '--duration') o.durationS = Number(process.argv[++i]);
    else if (a === '--warmup') o.warmupS = Number(process.argv[++i]);
    else if (a === '--connections') o.connections = Number(process.argv[++i]);
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

function rssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** A FIFO with a slow reader on the other end; returns the write fd for the server's stdout. */
function slowPipe(workDir, name) {
  const fifo = path.join(workDir, `${name}.fifo`);
  const file = path.join(workDir, `${name}.log`);
  spawnSync('mkfifo', [fifo]);
  const reader = spawn('sh', ['-c', `exec "${process.execPath}" "${path.join(__dirname, 'slow-reader.js')}" "${file}" < "${fifo}"`], { stdio: 'inherit' });
  const fd = fs.openSync(fifo, 'w'); // returns once the reader has opened its end
  return { fd, file, reader };
}

async function one(o, db, workDir, kind, dest) {
  const name = `${kind}-${dest}`;
  const pipe = dest === 'slow-pipe' ? slowPipe(workDir, name) : undefined;
  const env =
    kind === 'service'
      ? {
          NODE_ENV: 'test',
          DATABASE_URL: db.url,
          METRICS_PORT: '0',
          ACCESS_LOG: 'all',
          DATA_DIR: workDir,
          RATE_LIMIT_API_POINTS: '1000000000',
          SHUTDOWN_DRAIN_MS: '0',
        }
      : { SYNC_ACCESS_LOG: '1' };
  const srv = await lib.startServer({
    kind: kind === 'service' ? 'service' : 'baseline',
    env,
    cpu: o.serverCpu,
    workDir,
    label: name,
    stdout: pipe ? { fd: pipe.fd, file: pipe.file } : undefined,
  });
  if (pipe) fs.closeSync(pipe.fd); // the server holds its own copy
  const url = `${srv.url}/api/ping`;
  if (o.warmupS) await lib.autocannon({ url, connections: o.connections, durationS: o.warmupS, cpu: o.loadCpu });
  if (kind === 'service')
    await lib.scrape(srv.metricsUrl); // resets the delay histogram
  else srv.signal('SIGUSR2');
  const rss0 = rssMb(srv.pid);
  const res = await lib.autocannon({ url, connections: o.connections, durationS: o.durationS, cpu: o.loadCpu });
  const rss1 = rssMb(srv.pid);
  let delay;
  if (kind === 'service') {
    const s = await lib.scrape(srv.metricsUrl);
    const v = (n) => 1000 * (s.find((x) => x.name === n)?.value ?? NaN);
    delay = { p50: v('nodejs_eventloop_delay_p50_seconds'), p99: v('nodejs_eventloop_delay_p99_seconds'), max: v('nodejs_eventloop_delay_max_seconds') };
    await srv.stop('SIGKILL'); // a clean exit would flush what SonicBoom holds into the slow pipe for minutes
  } else {
    await srv.stop('SIGTERM');
    const m = /\{"eventLoopDelay".*\}/.exec(srv.stderr());
    delay = m ? JSON.parse(m[0]).eventLoopDelay : {};
  }
  if (pipe) await new Promise((r) => (pipe.reader.exitCode !== null ? r() : pipe.reader.once('exit', r)));
  return { kind, dest, reqPerSec: res.requests.total / res.duration, p99Ms: res.latencyUs.p99 / 1000, delay, rssStartMb: rss0, rssEndMb: rss1 };
}

async function main() {
  const o = args();
  const workDir = lib.tmpWorkDir();
  const db = await lib.createBenchDatabase();
  const rows = [];
  try {
    for (const kind of ['service', 'koa-bare+sync-log'])
      for (const dest of ['file', 'slow-pipe']) {
        const r = await one(o, db, workDir, kind, dest);
        rows.push(r);
        console.log(
          `${kind.padEnd(18)} → ${dest.padEnd(9)} ${r.reqPerSec.toFixed(0).padStart(6)} req/s  p99 ${r.p99Ms.toFixed(2)} ms  ` +
            `event-loop delay p50 ${r.delay.p50?.toFixed(1)} / p99 ${r.delay.p99?.toFixed(1)} / max ${r.delay.max?.toFixed(1)} ms  ` +
            `RSS ${r.rssStartMb.toFixed(0)} → ${r.rssEndMb.toFixed(0)} MB`,
        );
      }
  } finally {
    await db.drop();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
  const out = path.join(__dirname, 'results', `log-blocking-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify({ options: o, rows }, null, 2)}\n`);
  console.log(`results: ${path.relative(process.cwd(), out)}`);
}

main().catch((e) => {
  console.error(e.stack || e);
  process.exitCode = 1;
});
