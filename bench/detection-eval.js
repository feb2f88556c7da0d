#!/usr/bin/env node
'use strict';
/**
 * Detection quality of the anomaly detector, on the built code (run `npm run build` first):
 * recall per kind and per source on the shared attack corpus, read at run time and never copied
 * into the repository, and the false-positive rate on the benign set (bench/detection/benign.js).
 *
 *   node bench/detection-eval.js [--corpus PATH] [--misses dev|held-out|all] [--fp]
 *
 * Placement, split and benign set: see bench/detection/evaluate.js.
 */
const detector = require('../dist/platform/security/anomaly/inspect');
const { DEFAULT_CORPUS, evaluate, falsePositives, loadCorpus } = require('./detection/evaluate');

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i === -1 ? undefined : (args[i + 1] ?? '');
};
const showMisses = opt('--misses');
const showFp = args.includes('--fp');

const pct = (hit, n) => (n === 0 ? '   -  ' : `${((100 * hit) / n).toFixed(1).padStart(5)}%`);
const { rows, reason } = loadCorpus(opt('--corpus') ?? DEFAULT_CORPUS);
if (!rows) console.log(`SKIP recall: ${reason}; nothing to measure recall on.`);
else {
  const { tally, misses } = evaluate(rows, detector);
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
    for (const m of misses)
      if (showMisses === 'all' || m.split === showMisses) console.log(`MISS ${m.split} ${m.kind} ${m.source}: ${JSON.stringify(m.payload)}`);
  }
}
const fp = falsePositives(detector);
console.log(`false positives on the benign set: ${pct(fp.flagged.length, fp.n)} (${fp.flagged.length}/${fp.n})`);
for (const [g, t] of fp.byGroup) console.log(`  ${g.padEnd(10)} ${pct(t.fp, t.n)} (${t.fp}/${t.n})`);
if (showFp) for (const f of fp.flagged) console.log(`FP ${f.group} ${f.kinds.join(',')}: ${JSON.stringify(f.value)}`);
