import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { BODY_MAX_DEPTH, inspectBody, inspectRequestLine } from '../../src/platform/security/anomaly/inspect';
import type { AnomalyKind, Finding, PayloadKind } from '../../src/platform/security/anomaly/kinds';

/**
 * The detector against the project's own corpus (test/fixtures/anomaly-corpus/): attack strings
 * per kind and benign strings chosen to fool naive detectors. Each sample is placed where real
 * input arrives: as a JSON body string value, and as a query parameter value sent correctly
 * encoded (so its own %xx sequences arrive one level deeper, as a client library would send them).
 */
const DIR = join(__dirname, '..', 'fixtures', 'anomaly-corpus');
const load = (file: string): string[] =>
  readFileSync(join(DIR, file), 'utf8')
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.length > 0);

const ATTACK_KINDS: readonly PayloadKind[] = ['sql_injection', 'xss', 'command_injection', 'path_traversal'];
const MIN_RECALL = 0.95;
const MAX_FALSE_POSITIVE_RATE = 0.01;

type Placement = 'body' | 'query';
const HEADERS = { host: 'api.caly.test', 'user-agent': 'corpus-test/1.0' };

function findingsFor(sample: string, placement: Placement): Finding[] {
  if (placement === 'body') return inspectBody({ note: sample }, { budget: 65536, maxDepth: BODY_MAX_DEPTH }).findings;
  return inspectRequestLine(
    { path: '/api/search', querystring: `page=2&q=${encodeURIComponent(sample)}&lang=en`, headers: HEADERS },
    { userAgentOptional: () => false },
  );
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

describe('anomaly corpus: recall per kind and false positives', function () {
  for (const kind of ATTACK_KINDS) {
    const samples = load(`${kind}.txt`);

    it(`${kind}: at least 40 samples, recall >= ${MIN_RECALL * 100}% as body value and as query value`, function () {
      expect(samples.length).to.be.at.least(40);
      for (const placement of ['body', 'query'] as const) {
        const missed = samples.filter((s) => !findingsFor(s, placement).some((f) => f.kind === kind));
        const recall = (samples.length - missed.length) / samples.length;
        console.log(
          `      recall ${kind} (${placement}): ${pct(recall)} of ${samples.length}${missed.length ? `; missed: ${missed.map((m) => JSON.stringify(m)).join(', ')}` : ''}`,
        );
        expect(recall, `${kind} recall as ${placement} value`).to.be.at.least(MIN_RECALL);
      }
    });
  }

  it(`benign: at least 300 samples, false positives <= ${MAX_FALSE_POSITIVE_RATE * 100}%`, function () {
    const samples = load('benign.txt');
    expect(samples.length).to.be.at.least(300);
    const flagged: Array<{ sample: string; kinds: AnomalyKind[] }> = [];
    for (const s of samples) {
      const kinds = [...new Set([...findingsFor(s, 'body'), ...findingsFor(s, 'query')].map((f) => f.kind))];
      if (kinds.length) flagged.push({ sample: s, kinds });
    }
    const rate = flagged.length / samples.length;
    console.log(
      `      false positives: ${pct(rate)} (${flagged.length} of ${samples.length})${flagged.length ? `: ${flagged.map((f) => `${JSON.stringify(f.sample)} → ${f.kinds.join('+')}`).join('; ')}` : ''}`,
    );
    expect(rate).to.be.at.most(MAX_FALSE_POSITIVE_RATE);
  });
});
