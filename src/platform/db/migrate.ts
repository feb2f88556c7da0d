import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from '../logging/logger';
import type { Migration } from './migrations';
import { inTransaction, withClient } from './pool';

/** Arbitrary but fixed: every replica takes the same advisory lock before migrating. */
const MIGRATION_LOCK_KEY = 727_001;

const checksum = (m: Migration) => createHash('sha256').update(m.sql).digest('hex');

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/**
 * Applies pending migrations, each in its own transaction, under a session advisory lock so that
 * replicas starting together migrate once: the first takes the lock and migrates, the others wait
 * on it and then find nothing left to do.
 */
export async function migrate(pool: pg.Pool, logger: Logger, migrations: readonly Migration[]): Promise<number[]> {
  return withClient(pool, async (client, discard) => {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      return await applyPending(client, discard, logger, migrations);
    } finally {
      // If this fails the connection is gone, and the session lock went with it.
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    }
  });
}

async function applyPending(client: pg.PoolClient, discard: (reason: Error) => void, logger: Logger, migrations: readonly Migration[]): Promise<number[]> {
  await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`);
  const { rows } = await client.query<{ version: number; checksum: string }>('SELECT version, checksum FROM schema_migrations');
  const done = new Map(rows.map((r) => [r.version, r.checksum]));
  const applied: number[] = [];
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    const sum = checksum(m);
    const existing = done.get(m.version);
    if (existing !== undefined) {
      if (existing !== sum) throw new MigrationError(`migration ${m.version} (${m.name}) was changed after it was applied`);
      continue;
    }
    try {
      await inTransaction(client, discard, async () => {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, sum]);
      });
    } catch (err) {
      throw new MigrationError(`migration ${m.version} (${m.name}) failed: ${(err as Error).message}`);
    }
    applied.push(m.version);
    logger.info('migration applied', { version: m.version, name: m.name });
  }
  return applied;
}

/** Versions known to this build that the database has not recorded (readiness reports them). */
export async function pendingMigrations(
  db: { query: pg.Pool['query'] } | { query: (t: string) => Promise<pg.QueryResult> },
  migrations: readonly Migration[],
): Promise<number[]> {
  const { rows } = await (db.query as (t: string) => Promise<pg.QueryResult<{ version: number }>>)('SELECT version FROM schema_migrations');
  const have = new Set(rows.map((r) => r.version));
  return migrations.map((m) => m.version).filter((v) => !have.has(v));
}
