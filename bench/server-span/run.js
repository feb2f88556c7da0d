'use strict';
/**
 * Which server-span design costs less? Runs the three variants of server.js interleaved, pinned
 * like the main benchmark, and prints req/s, p99 and ratios to bare Koa (medians).
 *   node bench/server-span/run.js [--reps 3] [--duration 8] [--connections 50]
 */
const path = require('node:path');
const { autocannon, median, sleep, startServer, tmpWorkDir } = require('../lib');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
};
const REPS = arg('reps', 3);
const DURATION = arg('duration', 8);
const CONNECTIONS = arg('connections', 50);
const VARIANTS = ['bare', 'instrumented', 'middleware'];

async function main() {
  const workDir = tmpWorkDir();
  const results = Object.fromEntries(VARIANTS.map((v) => [v, { rps: [], p99: [] }]));
  for (let rep = 0; rep < REPS; rep++) {
    const order = rep % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
    for (const variant of order) {
      const srv = await startServer({
        kind: 'baseline',
        script: path.join(__dirname, 'server.js'),
        env: { VARIANT: variant },
        cpu: 0,
        workDir,
        label: variant,
      });
      try {
        await autocannon({ url: `${srv.url}/api/ping`, connections: CONNECTIONS, durationS: 2, cpu: 1 }); // warm-up
        const r = await autocannon({ url: `${srv.url}/api/ping`, connections: CONNECTIONS, durationS: DURATION, cpu: 1 });
        const stats = await (await fetch(`${srv.url}/__stats`)).json();
        if (variant !== 'bare') {
          // No variant may win by dropping telemetry: at least one span and one histogram count for
          // every request of the measured run (the warm-up adds more).
          const served = r.requests.total;
          if (stats.histogram < served) throw new Error(`${variant}: histogram ${stats.histogram} < requests ${served}`);
          if (stats.spans < served) throw new Error(`${variant}: spans ${stats.spans} < requests ${served}`);
        }
        results[variant].rps.push(r.requests.average);
        results[variant].p99.push(r.latency.p99);
        process.stderr.write(`rep ${rep + 1} ${variant}: ${Math.round(r.requests.average)} req/s p99 ${r.latency.p99} ms\n`);
      } finally {
        await srv.stop();
      }
      await sleep(300);
    }
  }
  const bare = median(results.bare.rps);
  console.log('| variant | req/s (median) | p99 ms | ratio to bare Koa |');
  console.log('|---|---:|---:|---:|');
  for (const v of VARIANTS) {
    const rps = median(results[v].rps);
    console.log(`| ${v} | ${Math.round(rps)} | ${median(results[v].p99)} | ${(rps / bare).toFixed(2)} |`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
