import { expect } from 'chai';
import { memoizeString } from '../../src/platform/memo';

describe('memoizeString (memo/index.ts)', () => {
  it('computes a repeated string once, a string past maxChars every time, and starts over when full', () => {
    const calls: string[] = [];
    const upper = memoizeString(
      (s) => {
        calls.push(s);
        return s.toUpperCase();
      },
      { entries: 2, maxChars: 4 },
    );
    expect([upper('ab'), upper('ab'), upper('ab')]).to.deep.equal(['AB', 'AB', 'AB']);
    expect(calls).to.deep.equal(['ab']);
    expect([upper('long!'), upper('long!')]).to.deep.equal(['LONG!', 'LONG!']);
    expect(calls).to.deep.equal(['ab', 'long!', 'long!']);
    upper('cd'); // the table holds ab, cd: full
    upper('ef'); // emptied, then holds ef
    expect(upper('ab')).to.equal('AB');
    expect(calls).to.deep.equal(['ab', 'long!', 'long!', 'cd', 'ef', 'ab']);
  });
});
