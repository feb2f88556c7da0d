import { expect } from 'chai';
import { isSpanContextValid, TraceFlags, type SpanContext } from '@opentelemetry/api';
import { isValidSpanContext } from '../../src/platform/context/span-context';

/**
 * The access line and the pg span check span contexts with a hand-written hex scan instead of the
 * API's regular expressions (span-context.ts says why): it must say what the API says, for every
 * id, or a log line could carry an id the API would refuse (or drop a valid one).
 */
describe('isValidSpanContext: the API’s isSpanContextValid without its regular expressions', () => {
  const sc = (traceId: unknown, spanId: unknown): SpanContext => ({ traceId, spanId, traceFlags: TraceFlags.SAMPLED }) as SpanContext;
  const agree = (traceId: unknown, spanId: unknown) => {
    const c = sc(traceId, spanId);
    expect(isValidSpanContext(c), `${String(traceId)} / ${String(spanId)}`).to.equal(isSpanContextValid(c));
  };
  const T = '5bf58d4beb45a952c97bf90dd2305d14';
  const S = 'e4e22ee0677575a8';

  it('agrees on valid ids, in either case', () => {
    for (const [t, s] of [
      [T, S],
      [T.toUpperCase(), S.toUpperCase()],
      ['0'.repeat(31) + '1', '0'.repeat(15) + 'f'],
      ['f'.repeat(32), 'F'.repeat(16)],
    ]) {
      agree(t, s);
      expect(isValidSpanContext(sc(t, s))).to.equal(true);
    }
  });

  it('agrees on all-zero ids, wrong lengths, non-hex characters and non-strings', () => {
    const traceIds: unknown[] = [
      '0'.repeat(32),
      T.slice(1),
      `${T}0`,
      `${T.slice(0, 31)}g`,
      `${T.slice(0, 31)}"`,
      `${T.slice(0, 31)}\u0660`,
      ` ${T.slice(1)}`,
      '',
      123,
      undefined,
      null,
      { length: 32 },
    ];
    const spanIds: unknown[] = ['0'.repeat(16), S.slice(1), `${S}0`, `${S.slice(0, 15)}G`, `${S.slice(0, 15)}\n`, '', 7, undefined];
    for (const t of traceIds) agree(t, S);
    for (const s of spanIds) agree(T, s);
  });

  it('agrees on every single-character change of a valid id', () => {
    // each position through every code unit 0-0x17f: the characters around 0-9, A-F and a-f, the
    // ones `| 0x20` folds onto a-f (A-F only), and some beyond ASCII
    for (let pos = 0; pos < 32; pos += 5) {
      for (let c = 0; c < 0x180; c++) {
        const t = T.slice(0, pos) + String.fromCharCode(c) + T.slice(pos + 1);
        agree(t, S);
        if (pos < 16) agree(T, S.slice(0, pos) + String.fromCharCode(c) + S.slice(pos + 1));
      }
    }
  });
});
