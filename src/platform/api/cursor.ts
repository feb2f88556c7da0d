/**
 * The keyset cursor of every paginated list: the sort key of a page's last row (its position and
 * a unique tie-breaker), as base64url JSON of a pair. Opaque to clients; `decodeCursor` hands the
 * pair to the list's own check and answers undefined for anything that is not a cursor it issued.
 */
export type CursorKey = readonly [position: string, tieBreaker: string | number];

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor<T>(s: string, accept: (position: unknown, tieBreaker: unknown) => T | undefined): T | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    if (!Array.isArray(v) || v.length !== 2) return undefined;
    return accept(v[0], v[1]);
  } catch {
    return undefined;
  }
}
