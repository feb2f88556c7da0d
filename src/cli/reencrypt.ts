import { scrubText } from '../platform/logging/redact';
/**
 * `npm run secrets:reencrypt`: after rotating ENCRYPTION_KEY (new key current, old one in
 * ENCRYPTION_KEYS_PREVIOUS), rewrites every encrypted value under the current key. When it reports
 * nothing unreadable, the previous keys can be removed from the configuration (docs/domain.md).
 * Exit 1 when any value could not be decrypted.
 */
import { ConfigError, loadConfig } from '../platform/config';
import { openCliDatabase } from '../platform/db/cli-database';
import { advanceEncryptionKeyCheck } from '../platform/crypto/key-check';
import { createServiceKeys } from '../platform/crypto/keys';

import { ENCRYPTED_TABLES, MIGRATIONS } from '../modules';
import { reencryptAll } from '../platform/crypto/reencrypt';

const USAGE = `Usage: npm run secrets:reencrypt

Rewrites every encrypted value under the current ENCRYPTION_KEY. It takes no flags: the keys come
from the environment (ENCRYPTION_KEY, ENCRYPTION_KEYS_PREVIOUS) and the database from DATABASE_URL
or DATA_DIR, as for the service. Prints one JSON report.

Example (after making a new key current):
  ENCRYPTION_KEY=<new> ENCRYPTION_KEYS_PREVIOUS=<old> npm run secrets:reencrypt

Exit codes: 0 done, 1 some values could not be decrypted (keep the old key), 2 usage error.
`;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return;
  }
  if (args.length > 0) {
    process.stderr.write(`secrets:reencrypt: unknown argument "${args[0]}"\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const { config } = loadConfig(process.env);
  const db = await openCliDatabase(config, MIGRATIONS);
  try {
    const keys = createServiceKeys(config);
    const report = await reencryptAll(db, keys, ENCRYPTED_TABLES);
    const total = Object.values(report.rewritten).reduce((a, b) => a + b, 0);
    const unreadable = Object.values(report.unreadable).reduce((a, b) => a + b, 0);
    process.stdout.write(`${JSON.stringify({ ...report, total, unreadableTotal: unreadable })}\n`);
    if (unreadable > 0) {
      process.stderr.write(
        `secrets:reencrypt: ${unreadable} values could not be decrypted with the configured keys; keep the old key in ENCRYPTION_KEYS_PREVIOUS\n`,
      );
      process.exitCode = 1;
    } else {
      await advanceEncryptionKeyCheck(db, keys.keyring);
    }
  } finally {
    await db.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`secrets:reencrypt: ${scrubText(err instanceof ConfigError ? err.message : `failed: ${(err as Error).message}`)}\n`);
  process.exitCode = 1;
});
