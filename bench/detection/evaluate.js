'use strict';
/**
 * Detection quality of an anomaly detector: recall per kind, split and source on the shared attack
 * corpus (read at run time, never copied into the repository) and false positives on the benign
 * set. Used by bench/detection-eval.js (on the built code) and by test/anomaly-shared-corpus.test.ts
 * (on the sources), so both measure the same way.
 *
 * Placement follows how input arrives: each payload once as a query value (sent correctly encoded,
 * as a client library would), every third also as a JSON body value; a payload counts as caught
 * when every placement raised a finding of its kind. Benign values go in both places and count as
 * false positives when either raised any payload finding.
 *
 * Split: the detector was developed looking only at the sqlmap and commix rows and the even rows
 * of the XSS list ("dev"); payloadbox's SQL and command-injection lists and the odd XSS rows are
 * reported as "held-out".
 */
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const { benignSet } = require('./benign');

/** Where the shared corpora sit beside the repository (CI lays out the same). */
const DEFAULT_CORPUS = join(__dirname, '..', '..', '..', 'shared', 'corpora', 'attacks-dev.jsonl');
const PAYLOAD_KINDS = new Set(['sql_injection', 'xss', 'command_injection', 'path_traversal']);
const HEADERS = { host: 'api.caly.test', 'user-agent': 'detection-eval/1.0' };

function split(row, index) {
  if (row.source === 'sqlmap' || row.source === 'commix') return 'dev';
  if (row.kind === 'xss') return index % 2 === 0 ? 'dev' : 'held-out';
  return 'held-out';
}

/** The corpus rows with their split, or undefined (and why) when the file is not there. */
function loadCorpus(path = DEFAULT_CORPUS) {
  if (!existsSync(path)) return { rows: undefined, reason: `attack corpus not found at ${path}` };
  const perKind = {};
  const rows = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const row = JSON.parse(l);
      const i = (perKind[row.kind] = (perKind[row.kind] ?? -1) + 1);
      return { ...row, split: split(row, i), index: i };
    });
  return { rows, reason: undefined };
}

function placements(detector) {
  const lineOpts = { userAgentOptional: () => false };
  const bodyOpts = { budget: 65536, maxDepth: detector.BODY_MAX_DEPTH };
  return {
    asQuery: (v) => detector.inspectRequestLine({ path: '/api/search', querystring: `page=2&q=${encodeURIComponent(v)}`, headers: HEADERS }, lineOpts),
    asBody: (v) => detector.inspectBody({ note: v }, bodyOpts).findings,
  };
}

/** Tallies keyed `split|kind`, `source|<source>|kind` and `all|kind`, each { n, hit }; and the missed rows. */
function evaluate(rows, detector) {
  const { asQuery, asBody } = placements(detector);
  const tally = new Map();
  const bump = (key, hit) => {
    const t = tally.get(key) ?? { n: 0, hit: 0 };
    t.n += 1;
    t.hit += hit ? 1 : 0;
    tally.set(key, t);
  };
  const misses = [];
  rows.forEach((row, i) => {
    const found = [asQuery(row.payload)];
    if (i % 3 === 0) found.push(asBody(row.payload));
    const hit = found.every((findings) => findings.some((f) => f.kind === row.kind));
    for (const key of [`${row.split}|${row.kind}`, `source|${row.source}|${row.kind}`, `all|${row.kind}`]) bump(key, hit);
    if (!hit) misses.push(row);
  });
  return { tally, misses };
}

function falsePositives(detector) {
  const { asQuery, asBody } = placements(detector);
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

module.exports = { DEFAULT_CORPUS, loadCorpus, evaluate, falsePositives };
