/**
 * Canonical JSON: the same value always serialises to the same text, whatever its key order, so
 * that it can be hashed (the audit chain, webhook event keys). jsonb reorders keys on storage, so
 * nothing hashed may depend on key order. Objects are copied with their keys inserted in sorted
 * order at every level; JSON.stringify then emits them in ECMAScript property order (integer-like
 * keys ascending numerically, then the rest in that sorted order), a deterministic function of the
 * key set. Hand-written (a dozen lines) because the text must never change under a dependency
 * upgrade: every stored audit chain depends on it.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(withSortedKeys(value)) ?? 'null';
}

/** A copy with object keys inserted in sorted order at every level (see canonicalJson). */
export function withSortedKeys<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(withSortedKeys) as T;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) {
    const x = withSortedKeys((value as Record<string, unknown>)[k]);
    // An own "__proto__" key (JSON.parse makes those) must stay data, not become the prototype.
    if (k === '__proto__') Object.defineProperty(out, k, { value: x, enumerable: true, writable: true, configurable: true });
    else out[k] = x;
  }
  return out as T;
}
