import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * The one way a presented secret (admin and health bearer tokens, webhook credentials) is compared
 * with the expected one: both as SHA-256 digests, compared in constant time. Fixed-size digests
 * make timingSafeEqual usable whatever the lengths, and reveal nothing about the expected length.
 */
export const secretDigest = (secret: string): Buffer => createHash('sha256').update(secret, 'utf8').digest();

/** Constant-time equality of two digests; different lengths are simply unequal. */
export function digestsMatch(expected: Buffer, presented: Buffer): boolean {
  return expected.length === presented.length && timingSafeEqual(expected, presented);
}

/** A check of presented values against one configured secret; undefined when none is configured. */
export function secretMatcher(secret: string | undefined): ((presented: string) => boolean) | undefined {
  if (secret === undefined) return undefined;
  const expected = secretDigest(secret);
  return (presented) => digestsMatch(expected, secretDigest(presented));
}
