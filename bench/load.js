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
 * `settleMs` (optional, default 0): requests sent in the run's first `settleMs` are left out of
 * `latencyUs`, as wrk2 leaves out its calibration period; `latencyUsWhole` still holds every 2xx.
 * Why: each run opens its connections at once, from a load generator whose own code is not yet
 * compiled, just after the warm-up's connections closed (which deoptimises Node's socket code in
 * the server). Every server is slow at first: bare Koa's p99 in the first 100 ms is 10–13 ms against
 * 2 ms after. A server with more code to run meanwhile stays slow longer (the service ~250 ms), and
 * once that holds over 1 % of its answers it is its p99: the p99 ratio then measured the start of
 * the run (bench/README.md, "Fifteenth round"). req/s and CPU still count it all.
 *
 *   node bench/load.js '{"url":"http://127.0.0.1:3000/api/ping","connections":50,"duration":6}'
 *   node bench/load.js '{"url":"http://127.0.0.1:3000/api/ping","connections":50,"duration":6,"settleMs":500}'
 */
const autocannon = require('autocannon');
const latency = require('./latency-us');

// excludeErrorStats: autocannon 9 puts every answer's latency into its own histogram unless told
// otherwise, so a 503 answered at once pulled its p50 down; both histograms now hold 2xx only. (A
// benchmark run with any non-2xx is invalid anyway, bench/run.js.)
const { settleMs = 0, ...given } = JSON.parse(process.argv[2]);
const opts = { ...given, excludeErrorStats: true };
const us = latency.histogram();
const whole = settleMs > 0 ? latency.histogram() : us;
// A paced load is bench/steady.js's: autocannon paces in per-second bursts (see there).
if (opts.overallRate !== undefined || opts.connectionRate !== undefined) throw new Error('bench/load.js runs unpaced; a steady rate is bench/steady.js');

const startedAt = performance.now();
const instance = autocannon(opts, (err, result) => {
  if (err) {
    process.stderr.write(`${err.stack ?? err}\n`);
    process.exit(1);
  }
  result.latencyUs = latency.summary(us);
  result.latencyUsWhole = latency.summary(whole);
  result.settleMs = settleMs;
  process.stdout.write(JSON.stringify(result));
});
instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
  if (statusCode < 200 || statusCode > 299) return; // as autocannon's own with excludeErrorStats: 2xx only
  if (whole !== us) latency.recordMs(whole, responseTimeMs);
  // when the request was sent: the answer's arrival (now) less its latency
  if (performance.now() - responseTimeMs - startedAt >= settleMs) latency.recordMs(us, responseTimeMs);
});
