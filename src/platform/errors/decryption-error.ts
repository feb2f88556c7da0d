/**
 * A stored value no configured key opens. Thrown by crypto/encryption.ts; defined here, below the
 * crypto folder, so that mapping it to ENCRYPTION_KEY_UNAVAILABLE needs no upward import.
 */
export class DecryptionError extends Error {
  override name = 'DecryptionError';
}
