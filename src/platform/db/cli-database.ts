import pg from 'pg';
import type { Config } from '../config';
import { runningEmbeddedDatabase, startEmbeddedDatabase, type EmbeddedDatabase } from './embedded';
import { claimDirectory, DirectoryInUseError, type DirectoryOwnership } from '../lifecycle/directory-owner';
import { migrate } from './migrate';
import type { Migration } from './migrations';
import { inTransaction, withClient, type Queryable } from './pool';
import { createLogger } from '../logging/logger';

export interface CliDatabase extends Queryable {
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * A small pool for one-shot commands (tenant CLI, secrets:reencrypt): the same migrations as the
 * service (so a CLI run against a fresh database works), without the service's telemetry. With
 * DATABASE_URL unset it uses the embedded server under DATA_DIR: the running service's, when one
 * owns DATA_DIR (a real server takes several clients, and the service sees the change at once),
 * else one it starts and stops itself.
 */
export async function openCliDatabase(config: Config, migrations: readonly Migration[]): Promise<CliDatabase> {
  const log = createLogger({ level: 'warn', service: 'caly-cli', environment: config.NODE_ENV });
  let embedded: EmbeddedDatabase | undefined;
  let ownership: DirectoryOwnership | undefined;
  let url = config.DATABASE_URL;
  if (!url) {
    try {
      ownership = await claimDirectory(config.DATA_DIR, 'caly-api CLI', 'Wait for the other command to finish.');
    } catch (err) {
      if (!(err instanceof DirectoryInUseError)) throw err;
      url = await runningEmbeddedDatabase(config.DATA_DIR);
      if (!url) throw new Error(`${err.message} Its embedded database does not answer, so this command cannot run beside it.`, { cause: err });
    }
    if (ownership) {
      try {
        embedded = await startEmbeddedDatabase(config.DATA_DIR, { maxConnections: 10, log: log.logger });
      } catch (err) {
        await ownership.release();
        throw err;
      }
      url = embedded.url;
    }
  }
  const stopEmbedded = async () => {
    await embedded?.stop();
    await ownership?.release();
  };
  const pool = new pg.Pool({ connectionString: url, max: 2, application_name: 'caly-cli' });
  try {
    await migrate(pool, log.logger, migrations);
  } catch (err) {
    await pool.end();
    await stopEmbedded();
    throw err;
  }
  return {
    query: (text, values) => pool.query(text, values as unknown[] | undefined) as never,
    transaction: (fn) =>
      withClient(pool, (client, discard) =>
        inTransaction(client, discard, () => fn({ query: (text, values) => client.query(text, values as unknown[] | undefined) as never })),
      ),
    async close() {
      await pool.end();
      await stopEmbedded();
      log.flush();
    },
  };
}
