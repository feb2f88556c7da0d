import { createCipheriv, createDecipheriv, randomBytes, type CipherGCM, type DecipherGCM } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Keyring } from '../../../platform/crypto/encryption';

/**
 * Recordings at rest: envelope encryption. Each file gets its own random AES-256-GCM key, written
 * as `iv (12) | ciphertext | tag (16)` while the upload streams in (no plaintext ever touches the
 * disk); the file key itself is sealed by the keyring into calls.recording_key_enc, so key
 * rotation (secrets:reencrypt) rewraps 32 bytes instead of rewriting every file.
 */
export const IV_BYTES = 12;
export const TAG_BYTES = 16;

export const recordingKeyAad = (tenantId: string) => `calls.recording_key:${tenantId}`;

export interface Sealer {
  iv: Buffer;
  cipher: CipherGCM;
  /** The file key, sealed by the keyring for calls.recording_key_enc. */
  sealedKey: string;
}

export function newSealer(keyring: Keyring, tenantId: string): Sealer {
  const key = randomBytes(32);
  const iv = randomBytes(IV_BYTES);
  return { iv, cipher: createCipheriv('aes-256-gcm', key, iv), sealedKey: keyring.encrypt(key.toString('base64'), recordingKeyAad(tenantId)) };
}

/**
 * The plaintext of a sealed recording as a stream, and its length. The tag is set before any
 * byte is read, so a tampered file fails at the end of the stream (the response is cut off).
 */
export async function openSealed(path: string, sealedKey: string, keyring: Keyring, tenantId: string): Promise<{ stream: Readable; bytes: number }> {
  const size = (await stat(path)).size;
  if (size < IV_BYTES + TAG_BYTES) throw new Error('sealed recording is truncated');
  const key = Buffer.from(keyring.decrypt(sealedKey, recordingKeyAad(tenantId)), 'base64');
  const edges = await readEdges(path, size);
  const decipher: DecipherGCM = createDecipheriv('aes-256-gcm', key, edges.iv);
  decipher.setAuthTag(edges.tag);
  const body = createReadStream(path, { start: IV_BYTES, end: size - TAG_BYTES - 1 });
  body.on('error', (err) => decipher.destroy(err));
  return { stream: body.pipe(decipher), bytes: size - IV_BYTES - TAG_BYTES };
}

async function readEdges(path: string, size: number): Promise<{ iv: Buffer; tag: Buffer }> {
  const fh = await open(path, 'r');
  try {
    const iv = Buffer.alloc(IV_BYTES);
    const tag = Buffer.alloc(TAG_BYTES);
    await fh.read(iv, 0, IV_BYTES, 0);
    await fh.read(tag, 0, TAG_BYTES, size - TAG_BYTES);
    return { iv, tag };
  } finally {
    await fh.close();
  }
}
