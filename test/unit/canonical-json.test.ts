/**
 * Canonical JSON feeds every audit row hash and every webhook event key: its text must not depend
 * on key order, and must never change (stored chains are verified against it).
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { canonicalJson } from '../../src/platform/crypto/canonical-json';

function reversedKeys(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(reversedKeys);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).reverse())
    Object.defineProperty(out, k, { value: reversedKeys((v as Record<string, unknown>)[k]), enumerable: true, writable: true, configurable: true });
  return out;
}

describe('canonical JSON', () => {
  it('keeps the format stored chains were hashed with: sorted keys at every level, integer-like keys first', () => {
    const text = canonicalJson({ b: 1, a: { d: [{ y: 1, x: 2 }], c: null }, '10': 0, '9': 0 });
    expect(text).to.equal('{"9":0,"10":0,"a":{"c":null,"d":[{"x":2,"y":1}]},"b":1}');
  });

  it('does not depend on key order, and parses back to an equal value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(canonicalJson(reversedKeys(v))).to.equal(canonicalJson(v));
        expect(JSON.parse(canonicalJson(v))).to.deep.equal(JSON.parse(JSON.stringify(v)));
      }),
    );
  });

  it('keeps an own "__proto__" key as data', () => {
    const v: unknown = JSON.parse('{"__proto__":{"x":1},"a":2}');
    expect(canonicalJson(v)).to.equal('{"__proto__":{"x":1},"a":2}');
  });
});
