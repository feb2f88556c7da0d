import pg from 'pg';
import type { Config } from '../config';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../db/embedded';
import { migrate } from '../db/migrate';
import type { Queryable } from '../db/pool';
import { createLogger } from '../logging/logger';

export interface CliDatabase extends Queryable {
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * A small pool for one-shot commands (tenant CLI, secrets:reencrypt): the same migrations as the
 * service (so a CLI run against a fresh database works), without the service's telemetry. Uses the
 * embedded database under DATA_DIR when DATABASE_URL is unset (stop the service first: PGlite
 * serves one process).
 */
export async function openCliDatabase(config: Config): Promise<CliDatabase> {
  let embedded: EmbeddedDatabase | undefined;
  let url = config.DATABASE_URL;
  if (!url) {
    embedded = await startEmbeddedDatabase(config.DATA_DIR, 3);
    url = embedded.url;
  }
  const pool = new pg.Pool({ connectionString: url, max: 2, application_name: 'caly-cli' });
  const log = createLogger({ level: 'warn', service: 'caly-cli', environment: config.NODE_ENV });
  try {
    await migrate(pool, log.logger);
  } catch (err) {
    await pool.end();
    await embedded?.stop();
    throw err;
  }
  return {
    query: (text, values) => pool.query(text, values as unknown[] | undefined) as never,
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const out = await fn({ query: (text, values) => client.query(text, values as unknown[] | undefined) as never });
        await client.query('COMMIT');
        return out;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    async close() {
      await pool.end();
      await embedded?.stop();
      log.flush();
    },
  };
}
