import { randomBytes } from 'node:crypto';
import { digestsMatch, secretDigest } from '../../platform/crypto/secret-digest';

/**
 * The webhook credential: 32 random bytes, base64url (43 characters), placed in the webhook URL
 * path. Exotel documents no signature scheme for Passthru or StatusCallback (docs/domain.md), so an
 * unguessable URL is the authentication. Only its SHA-256 is stored; the plain value is shown once.
 */
export const WEBHOOK_CREDENTIAL_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export const newWebhookCredential = (): string => randomBytes(32).toString('base64url');
export const hashWebhookCredential: (credential: string) => Buffer = secretDigest;

/** Fixed-length digests compared in constant time (the lookup itself is by digest, too). */
export const credentialMatches: (stored: Buffer, presentedDigest: Buffer) => boolean = digestsMatch;
