import { expect } from 'chai';
import * as detector from '../../src/platform/security/anomaly/inspect';

/**
 * The detector against the shared third-party attack corpus, read at run time (its payloads are
 * never copied into this repository), and against the generated benign set: the same measurement
 * as bench/detection-eval.js, with floors that fail the build when detection regresses. The floors
 * are below the figures in bench/README.md by a margin, not equal to them.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const evaluation = require('../../bench/detection/evaluate') as {
  loadCorpus(): { rows?: Array<{ kind: string; split: string; source: string }>; reason?: string };
  evaluate(rows: unknown[], d: unknown): { tally: Map<string, { n: number; hit: number }> };
  falsePositives(d: unknown): { n: number; flagged: Array<{ value: string; kinds: string[] }> };
};

/** Recall over all rows of each kind, and over the held-out rows the detector was not developed on. */
const FLOORS: Record<string, { all: number; heldOut: number }> = {
  sql_injection: { all: 0.93, heldOut: 0.88 },
  xss: { all: 0.95, heldOut: 0.95 },
  command_injection: { all: 0.9, heldOut: 0.8 },
};
const MAX_FALSE_POSITIVE_RATE = 0.005;

describe('anomaly detection on the shared attack corpus and the benign set', function () {
  this.timeout(120_000);

  it('recall per kind stays above its floor, over all rows and over held-out rows', function () {
    const { rows, reason } = evaluation.loadCorpus();
    if (!rows) {
      console.log(`      SKIP: ${reason} (the shared corpora are laid out beside the repository on developer machines and in CI)`);
      this.skip();
    }
    const { tally } = evaluation.evaluate(rows!, detector);
    for (const [kind, floor] of Object.entries(FLOORS)) {
      const all = tally.get(`all|${kind}`)!;
      const held = tally.get(`held-out|${kind}`)!;
      console.log(`      ${kind}: all ${all.hit}/${all.n}, held-out ${held.hit}/${held.n}`);
      expect(all.hit / all.n, `${kind} recall over all rows`).to.be.at.least(floor.all);
      expect(held.hit / held.n, `${kind} recall over held-out rows`).to.be.at.least(floor.heldOut);
    }
  });

  it(`false positives on the benign set stay at or below ${MAX_FALSE_POSITIVE_RATE * 100}%`, function () {
    const { n, flagged } = evaluation.falsePositives(detector);
    console.log(
      `      benign: ${flagged.length} of ${n} flagged${flagged.length ? `: ${flagged.map((f) => `${JSON.stringify(f.value)} → ${f.kinds.join('+')}`).join('; ')}` : ''}`,
    );
    expect(n).to.be.at.least(5000);
    expect(flagged.length / n).to.be.at.most(MAX_FALSE_POSITIVE_RATE);
  });
});
