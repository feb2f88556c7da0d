'use strict';
/**
 * CPU cost of one query's telemetry (CLIENT span + db.client.operation.duration), without I/O:
 * each query is answered by hand from pg's own queue, so what is left is pg's Query bookkeeping,
 * the promise and whatever wraps the query. Three variants, each in its own process (the
 * instrumentation patches pg globally), interleaved:
 *
 *   plain   pg.Client, the SDK started as the service starts it (the floor)
 *   wrapper the pool's TracedClient (src/platform/db/traced-client.ts), this build
 *   instr   pg.Client under @opentelemetry/instrumentation-pg, from an older build that still
 *           enables it (`--before <tsc outDir>`, e.g. bench/results/builds/before)
 *
 *   npm run build && node bench/pg-span.js --before bench/results/builds/before [--rounds 3]
 *
 * All run inside one sampled parent span, as a request's queries do. Prints CPU µs per query,
 * median of 7 measured batches of 100,000 after a warm-up.
 */
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const N = 100_000;

function child(variant, distDir) {
  const { loadConfig } = require(`${distDir}/platform/config`);
  const { startTelemetry } = require(`${distDir}/platform/telemetry/sdk`);
  const env = { NODE_ENV: 'production', DATABASE_URL: 'postgres://bench@127.0.0.1/bench', ENCRYPTION_KEY: '0e'.repeat(32) };
  env.HEALTH_TOKEN = 'h'.repeat(32);
  env.PUBLIC_BASE_URL = 'https://api.example.com';
  const telemetry = startTelemetry(loadConfig(env).config);
  const pg = require('pg');
  const api = require('@opentelemetry/api');
  const Client =
    variant === 'wrapper'
      ? require(`${distDir}/platform/db/traced-client`).tracedClientClass({ duration: telemetry.instruments.dbOperationDuration })
      : pg.Client;
  const client = new Client({ host: '127.0.0.1', port: 5432, database: 'bench', user: 'bench' }); // never connected
  const answer = { command: 'SELECT', rowCount: 1, rows: [{ value: 'x' }] };
  const batch = async (n) => {
    for (let i = 0; i < n; i++) {
      const p = client.query('SELECT value FROM app_meta WHERE key = $1', ['installation_id']);
      client._queryQueue.shift().callback(null, answer);
      await p;
    }
  };
  api.trace.getTracer('bench').startActiveSpan('GET /api/info', async (span) => {
    await batch(20_000);
    const us = [];
    for (let r = 0; r < 7; r++) {
      const t0 = process.cpuUsage();
      await batch(N);
      const t = process.cpuUsage(t0);
      us.push((t.user + t.system) / N);
    }
    span.end();
    us.sort((a, b) => a - b);
    process.stdout.write(`${us[3]}\n`);
    process.exit(0);
  });
}

function main() {
  const args = process.argv.slice(2);
  const at = (flag) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  if (args[0] === '--child') return child(args[1], args[2]);
  const before = at('--before');
  const rounds = Number(at('--rounds') ?? 3);
  const dist = path.join(__dirname, '..', 'dist');
  const variants = [['plain', dist], ['wrapper', dist], ...(before ? [['instr', path.resolve(before)]] : [])];
  const results = new Map(variants.map(([v]) => [v, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [v, dir] of variants) {
      const out = execFileSync(process.execPath, [__filename, '--child', v, dir], { encoding: 'utf8' });
      results.get(v).push(Number(out.trim()));
    }
  }
  for (const [v, xs] of results) {
    const sorted = [...xs].sort((a, b) => a - b);
    console.log(`${v.padEnd(8)} CPU µs/query: median ${sorted[Math.floor(sorted.length / 2)].toFixed(2)}  (rounds: ${xs.map((x) => x.toFixed(2)).join(', ')})`);
  }
  if (!before) console.log('(pass --before <outDir of a build with instrumentation-pg> to compare with it)');
}

main();
