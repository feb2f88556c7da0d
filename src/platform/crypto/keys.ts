import { createHmac, hkdfSync } from 'node:crypto';
import type { Config } from '../config';
import { createKeyring, type Keyring } from './encryption';

/**
 * Every key the service derives from its configuration, in one place. The encryption keys are the
 * root secrets; purpose-specific keys come from them through HKDF-SHA256 with a distinct `info`,
 * so a leak of one derived key (a token signing key, a hash key) reveals nothing about the others
 * or about the encryption key itself.
 */
export interface ServiceKeys {
  keyring: Keyring;
  /** HS256 keys for access tokens: [0] signs, all verify (previous keys during a rotation). */
  accessTokenKeys: readonly Uint8Array[];
  phoneHash: PhoneHasher;
}

/** Keyed hashes of phone numbers, for exact search over encrypted columns. */
export interface PhoneHasher {
  /** The hash new rows store (current key). */
  hash(e164: string): Buffer;
  /** Hashes under every known key: a search matches rows hashed before a rotation too. */
  candidates(e164: string): Buffer[];
}

const hex = (s: string) => Buffer.from(s, 'hex');
const derive = (root: Buffer, info: string) => Buffer.from(hkdfSync('sha256', root, Buffer.from('caly-api'), Buffer.from(info), 32));

export function parsePreviousKeys(list: string | undefined): string[] {
  return (list ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Phone hashes and key rotation: with PHONE_HASH_KEY set, the hash key never changes with the
 * encryption key. Without it the hash key is derived from each encryption key; rows written before
 * a rotation keep the old hash until `secrets:reencrypt` recomputes it (it decrypts the number
 * anyway), and until then searches try the hash under every known key.
 */
export function createPhoneHasher(hashKeys: readonly Buffer[]): PhoneHasher {
  const mac = (key: Buffer, value: string) => createHmac('sha256', key).update(value, 'utf8').digest();
  return {
    hash: (v) => mac(hashKeys[0]!, v),
    candidates: (v) => hashKeys.map((k) => mac(k, v)),
  };
}

export function createServiceKeys(config: Pick<Config, 'ENCRYPTION_KEY' | 'ENCRYPTION_KEYS_PREVIOUS' | 'PHONE_HASH_KEY'>): ServiceKeys {
  const previous = parsePreviousKeys(config.ENCRYPTION_KEYS_PREVIOUS);
  const roots = [config.ENCRYPTION_KEY, ...previous].map(hex);
  const hashKeys = config.PHONE_HASH_KEY ? [hex(config.PHONE_HASH_KEY)] : roots.map((r) => derive(r, 'caly/phone-hash/v1'));
  return {
    keyring: createKeyring(config.ENCRYPTION_KEY, previous),
    accessTokenKeys: roots.map((r) => new Uint8Array(derive(r, 'caly/access-token/v1'))),
    phoneHash: createPhoneHasher(hashKeys),
  };
}

/** How a secret is shown when it must be shown at all: the last four characters only. */
export function mask(secret: string | null | undefined): string | null {
  if (!secret) return null;
  return secret.length <= 8 ? '••••' : `••••${secret.slice(-4)}`;
}
