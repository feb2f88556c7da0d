import { Writable } from 'node:stream';
import { expect } from 'chai';
import { createDatabase, type Database } from '../../src/platform/db/pool';
import { migrate } from '../../src/platform/db/migrate';
import { toAppError } from '../../src/platform/errors/to-app-error';
import { createLogger } from '../../src/platform/logging/logger';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { telemetry } from '../setup/telemetry';
import { MIGRATIONS } from '../../src/modules';

/**
 * Database errors raised by real PostgreSQL against the domain schema map to client errors
 * without driver text, and db.transaction retries serialization failures, boundedly.
 */
describe('domain: database error mapping and transaction retry (real PostgreSQL)', function () {
  this.timeout(30_000);
  let tdb: TestDatabase;
  let db: Database;
  const caught = async (p: Promise<unknown>) =>
    p.then(
      () => expect.fail('expected a database error'),
      (e: unknown) => e,
    );

  before(async () => {
    tdb = await createTestDatabase('caly_dom_dberr');
    const logger = createLogger({ level: 'error', service: 't', environment: 'test', stream: new Writable({ write: (_c, _e, cb) => cb() }) }).logger;
    db = createDatabase(
      {
        connectionString: tdb.url,
        max: 3,
        min: 0,
        idleTimeoutMillis: 1000,
        connectionTimeoutMillis: 2000,
        statementTimeoutMillis: 10000,
        applicationName: 't',
        slowQueryMs: 5000,
        preparedStatements: 500,
      },
      logger,
      telemetry.instruments,
    );
    await migrate(db.pool, logger, MIGRATIONS);
    await db.query(
      `INSERT INTO tenants (id, name, webhook_credential_hash) VALUES ('6f1c1e7e-3b0c-4c39-9d4b-2f1b2a9b7c11', 'Acme', decode(repeat('ab', 32), 'hex'))`,
    );
    await db.query(`INSERT INTO tenant_exophones (number, tenant_id) VALUES ('+918047112345', '6f1c1e7e-3b0c-4c39-9d4b-2f1b2a9b7c11')`);
  });
  after(async () => {
    await db?.close();
    await tdb?.drop();
  });

  it('unique violation (an ExoPhone of two tenants) → 409 CONFLICT, no driver text', async () => {
    await db.query(
      `INSERT INTO tenants (id, name, webhook_credential_hash) VALUES ('7f1c1e7e-3b0c-4c39-9d4b-2f1b2a9b7c11', 'Globex', decode(repeat('cd', 32), 'hex'))`,
    );
    const err = toAppError(
      await caught(db.query(`INSERT INTO tenant_exophones (number, tenant_id) VALUES ('+918047112345', '7f1c1e7e-3b0c-4c39-9d4b-2f1b2a9b7c11')`)),
    );
    expect([err.status, err.code, err.message]).to.deep.equal([409, 'CONFLICT', 'Resource already exists']);
    expect(err.message).not.to.match(/tenant_exophones|pkey|duplicate/);
  });

  it('foreign key (a user of a missing tenant) → 400; invalid text representation (bad uuid) → 400', async () => {
    const fk = toAppError(
      await caught(
        db.query(
          `INSERT INTO users (tenant_id, email, password_hash, role) VALUES ('00000000-0000-4000-8000-000000000000', 'a@b.test', '$argon2id$x', 'owner')`,
        ),
      ),
    );
    expect([fk.status, fk.code]).to.deep.equal([400, 'BAD_REQUEST']);
    expect(fk.message).not.to.match(/users|tenant_id|foreign/);
    const bad = toAppError(await caught(db.query(`SELECT 1 FROM calls WHERE id = $1`, ['not-a-uuid'])));
    expect([bad.status, bad.code, bad.message]).to.deep.equal([400, 'BAD_REQUEST', 'Invalid value in request']);
    const check = toAppError(
      await caught(
        db.query(
          `INSERT INTO users (tenant_id, email, password_hash, role) VALUES ('6f1c1e7e-3b0c-4c39-9d4b-2f1b2a9b7c11', 'B@B.test', '$argon2id$x', 'owner')`,
        ),
      ),
    );
    expect(check.status).to.equal(400); // the email CHECK (lower-cased, trimmed)
  });

  it('a serialization failure is retried and the transaction then commits once', async () => {
    let attempts = 0;
    const result = await db.transaction(async (tx) => {
      attempts++;
      await tx.query(`INSERT INTO webhook_events (tenant_id, call_sid, event_key) VALUES ('6f1c1e7e-3b0c-4c39-9d4b-2f1b2a9b7c11', 'retry', 'k')`);
      // PostgreSQL itself raises SQLSTATE 40001 on the first two attempts
      if (attempts < 3) await tx.query(`DO $$ BEGIN RAISE EXCEPTION 'could not serialize access' USING ERRCODE = '40001'; END $$`);
      return 'done';
    });
    expect(result).to.equal('done');
    expect(attempts).to.equal(3);
    expect((await db.query(`SELECT 1 FROM webhook_events WHERE call_sid = 'retry'`)).rowCount).to.equal(1);
  });

  it('retries are bounded: a failure that persists surfaces as 503 with Retry-After', async () => {
    let attempts = 0;
    const err = await caught(
      db.transaction(async (tx) => {
        attempts++;
        await tx.query(`DO $$ BEGIN RAISE EXCEPTION 'deadlock detected' USING ERRCODE = '40P01'; END $$`);
      }),
    );
    expect(attempts).to.equal(4);
    const mapped = toAppError(err);
    expect([mapped.status, mapped.code, mapped.headers?.['Retry-After']]).to.deep.equal([503, 'SERVICE_UNAVAILABLE', '1']);
  });

  it('other errors are not retried', async () => {
    let attempts = 0;
    await caught(
      db.transaction(async (tx) => {
        attempts++;
        await tx.query('SELECT 1/0');
      }),
    );
    expect(attempts).to.equal(1);
  });
});
