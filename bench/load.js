'use strict';
/**
 * One autocannon run, as bench/lib.js's `autocannon()` starts it (its own process, pinned to a CPU),
 * printing autocannon's JSON result with one field added: `latencyUs`, the 2xx latencies in
 * microseconds.
 *
 * Why not autocannon's own `latency`: it records each latency into an integer histogram of
 * milliseconds, so every figure is cut down to a whole millisecond. Bare Koa's p99 of "2 ms" is any
 * value from 2.0 to 2.99, and target 3's p99 ratio (issue 14) then read 2.0× or 2.5× for runs
 * whose true latencies barely differed. The latencies autocannon measures are exact (hrtime); this
 * keeps them to the microsecond.
 *
 *   node bench/load.js '{"url":"http://127.0.0.1:3000/api/ping","connections":50,"duration":6}'
 */
const autocannon = require('autocannon');
const latency = require('./latency-us');

// excludeErrorStats: autocannon 9 puts every answer's latency into its own histogram unless told
// otherwise, so a 503 answered at once pulled its p50 down; both histograms now hold 2xx only. (A
// benchmark run with any non-2xx is invalid anyway, bench/run.js.)
const opts = { ...JSON.parse(process.argv[2]), excludeErrorStats: true };
const us = latency.histogram();
// A paced load is bench/steady.js's: autocannon paces in per-second bursts (see there).
if (opts.overallRate !== undefined || opts.connectionRate !== undefined) throw new Error('bench/load.js runs unpaced; a steady rate is bench/steady.js');

const instance = autocannon(opts, (err, result) => {
  if (err) {
    process.stderr.write(`${err.stack ?? err}\n`);
    process.exit(1);
  }
  result.latencyUs = latency.summary(us);
  process.stdout.write(JSON.stringify(result));
});
instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
  if (statusCode < 200 || statusCode > 299) return; // as autocannon's own with excludeErrorStats: 2xx only
  latency.recordMs(us, responseTimeMs);
});
