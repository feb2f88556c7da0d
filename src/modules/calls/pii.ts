import type { Keyring } from '../../platform/crypto/encryption';
import type { PhoneHasher } from '../../platform/crypto/keys';

/**
 * Caller numbers are personal data: stored AES-256-GCM encrypted, plus an HMAC-SHA256 so exact
 * search works without decrypting. The AAD binds each ciphertext to its tenant and column, so a
 * ciphertext copied into another tenant's row (or the other column) does not decrypt.
 */
export type PhoneColumn = 'from' | 'to';

export const phoneAad = (tenantId: string, column: PhoneColumn) => `calls.${column}:${tenantId}`;
export const recordingUrlAad = (tenantId: string) => `calls.recording_url:${tenantId}`;
export const streamUrlsAad = (tenantId: string) => `calls.stream_urls:${tenantId}`;
/** The verbatim payload of an Exotel event (webhook_events, webhook_dead_letters). */
export const webhookRawAad = (tenantId: string) => `webhook.raw_payload:${tenantId}`;

export interface SealedPhone {
  enc: string;
  hash: Buffer;
}

export function sealPhone(keyring: Keyring, hasher: PhoneHasher, tenantId: string, column: PhoneColumn, number: string): SealedPhone {
  return { enc: keyring.encrypt(number, phoneAad(tenantId, column)), hash: hasher.hash(number) };
}

/**
 * null when absent. An unreadable value throws DecryptionError (an ENCRYPTION_KEY_UNAVAILABLE
 * answer): a silent null would pass a lost key off as a call without a number.
 */
export function openOptional(keyring: Keyring, enc: string | null, aad: string): string | null {
  return enc ? keyring.decrypt(enc, aad) : null;
}
