/** The keyset cursor codec shared by every paginated list (calls, audit logs). */
import { expect } from 'chai';
import { decodeCursor, encodeCursor } from '../../src/platform/api/cursor';

describe('keyset cursor', () => {
  it('round-trips a page position and hands only pairs to the list check', () => {
    const accept = (at: unknown, n: unknown) => (typeof at === 'string' && typeof n === 'number' ? { at, n } : undefined);
    expect(decodeCursor(encodeCursor(['2026-01-01T00:00:00.000Z', 7]), accept)).to.deep.equal({ at: '2026-01-01T00:00:00.000Z', n: 7 });
    expect(decodeCursor(Buffer.from('[1,2,3]').toString('base64url'), () => 'seen')).to.equal(undefined);
    expect(decodeCursor('not json at all', () => 'seen')).to.equal(undefined);
  });
});
