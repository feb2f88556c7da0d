#!/usr/bin/env node
'use strict';
/**
 * Detection quality of the anomaly detector, on the built code (run `npm run build` first):
 * recall per kind and per source on the shared attack corpus, read at run time and never copied
 * into the repository, and the false-positive rate on the benign set (bench/detection/benign.js).
 *
 *   node bench/detection-eval.js [--corpus PATH] [--misses dev|held-out|all] [--fp]
 *
 * Placement follows how input arrives: each payload once as a query value (sent correctly encoded,
 * as a client library would), every third also as a JSON body value; a payload counts as caught
 * when every placement raised a finding of its kind. Benign values go in both places and count as
 * false positives when either raised any payload finding.
 *
 * Split: the detector was developed looking only at the sqlmap and commix rows and the even rows
 * of the XSS list ("dev"); payloadbox's SQL and command-injection lists and the odd XSS rows are
 * reported as "held-out". --misses prints misses of one split, for development on dev only.
 */
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const { inspectBody, inspectRequestLine, BODY_MAX_DEPTH } = require('../dist/security/anomaly/inspect');
const { benignSet } = require('./detection/benign');

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i === -1 ? undefined : (args[i + 1] ?? '');
};
const corpusPath = opt('--corpus') ?? join(__dirname, '..', '..', 'shared', 'corpora', 'attacks-dev.jsonl');
const showMisses = opt('--misses');
const showFp = args.includes('--fp');

const PAYLOAD_KINDS = new Set(['sql_injection', 'xss', 'command_injection', 'path_traversal']);
const HEADERS = { host: 'api.caly.test', 'user-agent': 'detection-eval/1.0' };
const lineOpts = { userAgentOptional: () => false };
const bodyOpts = { budget: 65536, maxDepth: BODY_MAX_DEPTH };

const asQuery = (v) => inspectRequestLine({ path: '/api/search', querystring: `page=2&q=${encodeURIComponent(v)}`, headers: HEADERS }, lineOpts);
const asBody = (v) => inspectBody({ note: v }, bodyOpts).findings;

/** Which rows the detector may be tuned on; the rest are reported as held-out. */
function split(row, index) {
  if (row.source === 'sqlmap' || row.source === 'commix') return 'dev';
  if (row.kind === 'xss') return index % 2 === 0 ? 'dev' : 'held-out';
  return 'held-out';
}

function loadCorpus() {
  if (!existsSync(corpusPath)) {
    console.log(`SKIP: attack corpus not found at ${corpusPath}; nothing to measure recall on.`);
    return undefined;
  }
  const lines = readFileSync(corpusPath, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const perKind = {};
  return lines.map((l) => {
    const row = JSON.parse(l);
    const i = (perKind[row.kind] = (perKind[row.kind] ?? -1) + 1);
    return { ...row, split: split(row, i), index: i };
  });
}

function evaluate(rows) {
  const tally = new Map(); // key -> { n, hit }
  const bump = (key, hit) => {
    const t = tally.get(key) ?? { n: 0, hit: 0 };
    t.n += 1;
    t.hit += hit ? 1 : 0;
    tally.set(key, t);
  };
  const misses = [];
  rows.forEach((row, i) => {
    const placements = [asQuery(row.payload)];
    if (i % 3 === 0) placements.push(asBody(row.payload));
    const hit = placements.every((findings) => findings.some((f) => f.kind === row.kind));
    for (const key of [`${row.split}|${row.kind}`, `source|${row.source}|${row.kind}`, `all|${row.kind}`]) bump(key, hit);
    if (!hit) misses.push(row);
  });
  return { tally, misses };
}

function falsePositives() {
  const set = benignSet();
  const flagged = [];
  const byGroup = new Map();
  for (const { group, value } of set) {
    const kinds = new Set([...asQuery(value), ...asBody(value)].filter((f) => PAYLOAD_KINDS.has(f.kind)).map((f) => `${f.kind}:${f.rule}`));
    const g = group.split(':')[0];
    const t = byGroup.get(g) ?? { n: 0, fp: 0 };
    t.n += 1;
    if (kinds.size) {
      t.fp += 1;
      flagged.push({ group, value, kinds: [...kinds] });
    }
    byGroup.set(g, t);
  }
  return { n: set.length, flagged, byGroup };
}

const pct = (hit, n) => (n === 0 ? '   -  ' : `${((100 * hit) / n).toFixed(1).padStart(5)}%`);
const rows = loadCorpus();
if (rows) {
  const { tally, misses } = evaluate(rows);
  console.log('recall (caught / payloads)');
  for (const kind of ['sql_injection', 'xss', 'command_injection']) {
    const cell = (key) => {
      const t = tally.get(key) ?? { n: 0, hit: 0 };
      return `${pct(t.hit, t.n)} (${t.hit}/${t.n})`.padEnd(20);
    };
    console.log(`  ${kind.padEnd(18)} dev ${cell(`dev|${kind}`)} held-out ${cell(`held-out|${kind}`)} all ${cell(`all|${kind}`)}`);
  }
  console.log('recall per source');
  for (const [key, t] of tally) if (key.startsWith('source|')) console.log(`  ${key.slice(7).padEnd(45)} ${pct(t.hit, t.n)} (${t.hit}/${t.n})`);
  if (showMisses) {
    for (const m of misses) if (showMisses === 'all' || m.split === showMisses) console.log(`MISS ${m.split} ${m.kind} ${m.source}: ${JSON.stringify(m.payload)}`);
  }
}
const fp = falsePositives();
console.log(`false positives on the benign set: ${pct(fp.flagged.length, fp.n)} (${fp.flagged.length}/${fp.n})`);
for (const [g, t] of fp.byGroup) console.log(`  ${g.padEnd(10)} ${pct(t.fp, t.n)} (${t.fp}/${t.n})`);
if (showFp) for (const f of fp.flagged) console.log(`FP ${f.group} ${f.kinds.join(',')}: ${JSON.stringify(f.value)}`);
