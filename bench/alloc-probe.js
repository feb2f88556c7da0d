'use strict';
/**
 * Preloaded (`node -r bench/alloc-probe.js …`) by bench/alloc.js: samples every allocation of a
 * window of requests with V8's sampling heap profiler, including objects that died young (the
 * `--heap-prof` flag keeps only the survivors, which hides exactly the per-request garbage we want
 * to see). Requests are counted through the `http.server.request.start` diagnostics channel, so
 * nothing in the server is patched.
 *
 * Env: ALLOC_SKIP (requests before the window), ALLOC_REQUESTS (requests in it), ALLOC_OUT (file
 * written at the end: { requests, profile }), ALLOC_INTERVAL (mean bytes between samples),
 * ALLOC_SURVIVORS (see below).
 */
const dc = require('node:diagnostics_channel');
const fs = require('node:fs');
const inspector = require('node:inspector');

const skip = Number(process.env.ALLOC_SKIP || 20000);
const window = Number(process.env.ALLOC_REQUESTS || 20000);
const out = process.env.ALLOC_OUT;
const interval = Number(process.env.ALLOC_INTERVAL || 1024);
// ALLOC_SURVIVORS=1: only what is still in the heap when the window ends (what a request leaves
// behind: promoted garbage awaiting a mark-compact, or a leak), not every allocation.
const survivorsOnly = process.env.ALLOC_SURVIVORS === '1';
if (!out) throw new Error('alloc-probe: ALLOC_OUT is required');

const session = new inspector.Session();
session.connect();
let seen = 0;
let state = 'waiting';
let startedAt = 0;

dc.subscribe('http.server.request.start', () => {
  seen++;
  if (state === 'waiting' && seen >= skip) {
    state = 'sampling';
    startedAt = seen;
    session.post('HeapProfiler.enable', () =>
      session.post('HeapProfiler.startSampling', {
        samplingInterval: interval,
        includeObjectsCollectedByMajorGC: !survivorsOnly,
        includeObjectsCollectedByMinorGC: !survivorsOnly,
      }),
    );
  } else if (state === 'sampling' && seen - startedAt >= window) {
    state = 'done';
    const requests = seen - startedAt;
    session.post('HeapProfiler.stopSampling', (err, r) => {
      fs.writeFileSync(out, JSON.stringify(err ? { error: String(err.message || err) } : { requests, profile: r.profile }));
    });
  }
});
