import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The webhook credential: 32 random bytes, base64url (43 characters), placed in the webhook URL
 * path. Exotel documents no signature scheme for Passthru or StatusCallback (docs/domain.md), so an
 * unguessable URL is the authentication. Only its SHA-256 is stored; the plain value is shown once.
 */
export const WEBHOOK_CREDENTIAL_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export const newWebhookCredential = (): string => randomBytes(32).toString('base64url');
export const hashWebhookCredential = (credential: string): Buffer => createHash('sha256').update(credential, 'utf8').digest();

/** Fixed-length digests compared in constant time (the lookup itself is by digest, too). */
export function credentialMatches(stored: Buffer, presentedDigest: Buffer): boolean {
  return stored.length === presentedDigest.length && timingSafeEqual(stored, presentedDigest);
}
