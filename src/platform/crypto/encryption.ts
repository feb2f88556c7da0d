import { DecryptionError } from '../errors/decryption-error';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM for secrets at rest. Every ciphertext names the key that made it, so keys can
 * rotate: the current key encrypts, any known key decrypts.
 * Format: `v1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url parts; keyId = 8 hex of sha256(key)).
 */
export interface Keyring {
  encrypt(plaintext: string, aad?: string): string;
  decrypt(token: string, aad?: string): string;
  /** Id of the key that encrypts now. */
  readonly currentKeyId: string;
  /** Ids of every key that decrypts (current first): safe to show, they are 32-bit digests. */
  readonly knownKeyIds: readonly string[];
  /** Whether `token` was made with an older key and should be re-encrypted. */
  needsRotation(token: string): boolean;
}

export { DecryptionError };

const keyIdOf = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 8);

export function createKeyring(currentHex: string, previousHex: readonly string[] = []): Keyring {
  const parse = (hex: string) => {
    if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new Error('encryption keys must be 64 hexadecimal characters');
    return Buffer.from(hex, 'hex');
  };
  const current = parse(currentHex);
  const currentKeyId = keyIdOf(current);
  const keys = new Map<string, Buffer>([[currentKeyId, current]]);
  for (const hex of previousHex) {
    const k = parse(hex);
    keys.set(keyIdOf(k), k);
  }

  return {
    currentKeyId,
    knownKeyIds: [...keys.keys()],
    encrypt(plaintext, aad) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current, iv);
      if (aad) cipher.setAAD(Buffer.from(aad));
      const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v1', currentKeyId, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
    },
    decrypt(token, aad) {
      const parts = token.split('.');
      if (parts.length !== 5 || parts[0] !== 'v1') throw new DecryptionError('not a v1 ciphertext');
      const [, keyId, iv, tag, ct] = parts as [string, string, string, string, string];
      const key = keys.get(keyId);
      if (!key) throw new DecryptionError(`unknown key id ${keyId}`);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        if (aad) decipher.setAAD(Buffer.from(aad));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw new DecryptionError('ciphertext failed authentication');
      }
    },
    needsRotation(token) {
      return token.split('.')[1] !== currentKeyId;
    },
  };
}
