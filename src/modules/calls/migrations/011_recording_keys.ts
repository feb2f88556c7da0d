import type { Migration } from '../../../platform/db/migrations/migration';

/**
 * Uploaded recordings are stored encrypted (recordings/sealed.ts): each file's own key, sealed by
 * the keyring, lives beside the path. NULL for files stored before encryption, which are served
 * as they are until re-uploaded.
 */
export const m011: Migration = {
  version: 11,
  name: 'recording_keys',
  sql: `ALTER TABLE calls ADD COLUMN IF NOT EXISTS recording_key_enc text;`,
};
