import { setFlagsFromString } from 'node:v8';

/*
 * V8 settings for a request/response server, applied before anything else loads (main.ts imports
 * this module first).
 *
 * --no-allocation-site-pretenuring. V8 may decide that the objects of an allocation site live long
 * and allocate them straight into old space. Under load, some request-scoped site here sometimes
 * gets that verdict, and from then on whatever those objects point to is promoted at every
 * scavenge: on GET /api/info 1.6–2.2 MB promoted and 5–8 ms of pause per scavenge, 20–32 µs of GC
 * pause per request, against 0.1 MB, ~1 ms and 4–5 µs otherwise. Whether a run falls into it
 * changes with unrelated code (one build: 3 runs in 3; the next: none in 4; this one: 1 in 4);
 * with pretenuring off, no run did (bench/gc.js; bench/README.md, "Fourth round"). Objects that
 * really live long are still promoted, by copying, once.
 *
 * Set here rather than on the command line so that every way of starting the service (npm start,
 * the container, the tests, the benchmark) runs with it. V8 consults the flag when it processes
 * pretenuring feedback during a garbage collection, so setting it before any request has run is
 * as good as passing it to node.
 */
const PRETENURING = 'allocation-site-pretenuring';

// A flag given to node explicitly wins (bench/gc.js --flags --allocation-site-pretenuring shows the two modes).
if (!process.execArgv.some((arg) => arg.replace(/_/g, '-').includes(PRETENURING))) setFlagsFromString(`--no-${PRETENURING}`);
