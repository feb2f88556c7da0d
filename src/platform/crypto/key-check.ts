import type { Queryable } from '../db/pool';
import type { Keyring } from './encryption';

const KEY = 'encryption_key_check';
const AAD = 'app_meta.encryption_key_check';
const PLAINTEXT = 'caly-encryption-key-check';

export class KeyMismatchError extends Error {
  override name = 'KeyMismatchError';
}

/**
 * A canary sealed under the key that encrypted this database. A service started with a key that
 * cannot read it refuses to start, instead of answering every encrypted field with an error (or,
 * worse, with nothing) for the rest of its life. The canary moves to the current key only when
 * `secrets:reencrypt` has rewritten everything, so dropping a previous key too early is caught too.
 */
export async function verifyEncryptionKey(db: Queryable, keyring: Keyring): Promise<void> {
  await db.query(`INSERT INTO app_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, [KEY, keyring.encrypt(PLAINTEXT, AAD)]);
  const { rows } = await db.query<{ value: string }>(`SELECT value FROM app_meta WHERE key = $1`, [KEY]);
  const sealed = rows[0]!.value;
  try {
    if (keyring.decrypt(sealed, AAD) === PLAINTEXT) return;
  } catch {
    // reported below
  }
  const keyId = sealed.split('.')[1] ?? 'unknown';
  throw new KeyMismatchError(
    `ENCRYPTION_KEY cannot read this database: its data was encrypted under key id ${keyId}, and the configured keys are ` +
      `${keyring.knownKeyIds.join(', ')}. Set ENCRYPTION_KEY (or ENCRYPTION_KEYS_PREVIOUS during a rotation) to that key. ` +
      'Without it the encrypted fields (phone numbers, recording URLs, Exotel credentials) cannot be recovered.',
  );
}

/** After a complete re-encryption: the canary follows the data to the current key. */
export async function advanceEncryptionKeyCheck(db: Queryable, keyring: Keyring): Promise<void> {
  await db.query(`INSERT INTO app_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`, [
    KEY,
    keyring.encrypt(PLAINTEXT, AAD),
  ]);
}
