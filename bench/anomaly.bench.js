#!/usr/bin/env node
'use strict';
/**
 * Micro-benchmark: the anomaly scan of one typical request (path + 3 query parameters + the
 * scanned headers + a small JSON body), on the built code (run `npm run build` first).
 *
 *   node bench/anomaly.bench.js [iterations]
 *
 * Prints CPU µs/request for the request-line scan, the body scan and both together: the median of
 * ROUNDS timed rounds after a warm-up, so JIT tiering and GC spikes do not decide the figure.
 * Targets: at most 20 µs per typical request (issue 3); at most 100 µs for a 4 KB JSON body (issue 12).
 */
const { inspectRequestLine, inspectBody, BODY_MAX_DEPTH } = require('../dist/platform/security/anomaly/inspect');

const ITERATIONS = Number(process.argv[2] ?? 50_000);
const ROUNDS = 9;
const TARGET_US = 20;

const typical = {
  line: {
    path: '/api/calls/4f6c2a/notes',
    querystring: 'page=2&limit=20&q=refund+status+for+O%27Brien',
    headers: {
      host: 'api.caly.ai',
      'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
      referer: 'https://app.caly.ai/calls?tab=open&page=2',
      'x-forwarded-for': '203.0.113.42, 10.0.0.7',
      accept: 'application/json',
      'content-type': 'application/json',
    },
  },
  body: {
    name: "Priya D'Souza",
    phone: '+91 98765 43210',
    note: 'Customer asked for a callback tomorrow (urgent) - refund of ₹1,499 pending; order #4521.',
    tags: ['vip', 'refund'],
    email: 'priya.dsouza@example.com',
  },
};
// An attack request of the same shape, to show the cost when rules do fire.
const attack = {
  line: { ...typical.line, querystring: 'page=2&limit=20&q=%27%20UNION%20SELECT%20password%20FROM%20users--' },
  body: { ...typical.body, note: '<img src=x onerror=alert(document.cookie)>' },
};

// The same request with a User-Agent and Referer never seen before (4096 distinct values, more than
// the header memo holds): the cost before the memo (inspect.ts) has learnt a client's headers.
const fresh = Array.from({ length: 4096 }, (_, i) => ({
  line: {
    ...typical.line,
    headers: {
      ...typical.line.headers,
      'user-agent': `${typical.line.headers['user-agent']} build/${i}`,
      referer: `https://app.caly.ai/calls?tab=open&page=${i}`,
    },
  },
  body: typical.body,
}));

// A 4 KB JSON body of the kind a CRM sync posts: notes in prose with apostrophes, quotes,
// parentheses and `&`, names, phone numbers, tags. Target: at most 100 µs for its scan.
const bigBody = {
  contacts: Array.from({ length: 19 }, (_, i) => ({
    name: i % 2 ? `Priya D'Souza ${i}` : `Tom O'Brien & Sons (${i})`,
    phone: `+91 98765 4${String(i).padStart(4, '0')}`,
    note: `Called about order #45${i} — "refund or replace?" (she'd like the union plan); will select a slot by Friday & confirm.`,
    tags: ['vip', 'refund', `batch-${i}`],
  })),
};
const BODY_TARGET_US = 100;

const lineOpts = { userAgentOptional: () => false };
const bodyOpts = { budget: 65536, maxDepth: BODY_MAX_DEPTH };

/**
 * CPU time of this thread per call (process.cpuUsage), not wall time: on the shared 2-core machines
 * other engineers' processes preempt this one, and wall time would charge their work to the scan.
 */
function time(fn, n) {
  const c0 = process.cpuUsage();
  let sink = 0;
  for (let i = 0; i < n; i++) sink += fn();
  const c = process.cpuUsage(c0);
  if (sink < 0) console.log(sink); // keeps the work observable to the optimiser
  return (c.user + c.system) / n;
}

/** A fixed integer loop, ~15 ms on an idle core of the CI machine: read the figures relative to it. */
function calibrationMs() {
  const c0 = process.cpuUsage();
  let x = 0;
  for (let i = 0; i < 2e7; i++) x = (x * 31 + i) | 0;
  const c = process.cpuUsage(c0);
  return { ms: (c.user + c.system) / 1000, x };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function measure(reqs) {
  let i = 0;
  const next = () => reqs[(i = (i + 1) % reqs.length)];
  const cases = {
    'request line (path, query, headers)': () => inspectRequestLine(next().line, lineOpts).length,
    'JSON body (5 fields)': () => inspectBody(next().body, bodyOpts).findings.length,
    'whole request': () => {
      const req = next();
      return inspectRequestLine(req.line, lineOpts).length + inspectBody(req.body, bodyOpts).findings.length;
    },
  };
  const out = {};
  for (const [name, fn] of Object.entries(cases)) {
    time(fn, Math.min(ITERATIONS, 20_000)); // warm-up
    const rounds = [];
    for (let r = 0; r < ROUNDS; r++) rounds.push(time(fn, ITERATIONS));
    out[name] = { median: median(rounds), min: Math.min(...rounds), max: Math.max(...rounds) };
  }
  return out;
}

const fmt = (x) => x.toFixed(2).padStart(6);
// A same-run yardstick independent of this code: parsing the typical body's JSON once.
const bodyJson = JSON.stringify(typical.body);
time(() => JSON.parse(bodyJson).tags.length, 20_000);
const parseUs = median(Array.from({ length: ROUNDS }, () => time(() => JSON.parse(bodyJson).tags.length, ITERATIONS)));
const calib = calibrationMs();
console.log(`anomaly scan cost, node ${process.version}, ${ITERATIONS} iterations × ${ROUNDS} rounds, CPU µs/request: median [min–max]`);
console.log(
  `load average ${require('node:os')
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}; calibration loop ${calib.ms.toFixed(1)} ms CPU`,
);
let worst = 0;
for (const [label, reqs] of [
  ['typical', [typical]],
  ['typical, unseen UA + Referer', fresh],
  ['attack', [attack]],
]) {
  for (const [name, r] of Object.entries(measure(reqs))) {
    console.log(`  ${label.padEnd(29)} ${name.padEnd(38)} ${fmt(r.median)} [${fmt(r.min)} – ${fmt(r.max)}]`);
    if (label.startsWith('typical') && name === 'whole request') worst = Math.max(worst, r.median);
  }
}
const f = () => inspectBody(bigBody, bodyOpts).findings.length;
time(f, 5_000);
const bigRounds = Array.from({ length: ROUNDS }, () => time(f, Math.max(1, Math.floor(ITERATIONS / 10))));
const bigUs = median(bigRounds);
console.log(
  `  ${'4 KB JSON body'.padEnd(29)} ${`(${JSON.stringify(bigBody).length} bytes)`.padEnd(38)} ${fmt(bigUs)} [${fmt(Math.min(...bigRounds))} – ${fmt(Math.max(...bigRounds))}]`,
);
console.log(`reference: JSON.parse of the typical body ${parseUs.toFixed(2)} µs CPU`);
console.log(
  `typical request (worse of seen / unseen headers): ${worst.toFixed(2)} µs CPU (target ≤ ${TARGET_US} µs) ${worst <= TARGET_US ? 'OK' : 'OVER TARGET'}; calibration loop ${calibrationMs().ms.toFixed(1)} ms`,
);
console.log(`4 KB JSON body: ${bigUs.toFixed(2)} µs CPU (target ≤ ${BODY_TARGET_US} µs) ${bigUs <= BODY_TARGET_US ? 'OK' : 'OVER TARGET'}`);
process.exitCode = worst <= TARGET_US && bigUs <= BODY_TARGET_US ? 0 : 1;
