import { expect } from 'chai';
import { migrate, MigrationError, pendingMigrations } from '../../src/platform/db/migrate';
import type { Migration } from '../../src/platform/db/migrations';
import { MIGRATIONS } from '../../src/modules';
import { createDatabase, operationOf, type Database } from '../../src/platform/db/pool';
import { createLogger } from '../../src/platform/logging/logger';
import { toAppError } from '../../src/platform/errors/to-app-error';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { startTcpProxy } from '../helpers/tcp-proxy';
import { metricTotal } from '../helpers/metrics';
import { telemetry } from '../setup/telemetry';
import { Writable } from 'node:stream';

const quietLogger = () => createLogger({ level: 'error', service: 't', environment: 'test', stream: new Writable({ write: (_c, _e, cb) => cb() }) }).logger;

function makeDb(url: string, extra: Partial<Parameters<typeof createDatabase>[0]> = {}): Database {
  return createDatabase(
    {
      connectionString: url,
      max: 5,
      min: 0,
      idleTimeoutMillis: 1000,
      connectionTimeoutMillis: 2000,
      statementTimeoutMillis: 30000,
      applicationName: 'caly-db-test',
      slowQueryMs: 500,
      preparedStatements: 500,
      ...extra,
    },
    quietLogger(),
    telemetry.instruments,
  );
}

/**
 * Holds `db`'s client (a pool of one) in an open transaction until `release` is called; resolves
 * once the transaction is inside, so the next query has to wait. `held` settles when it ends.
 */
async function holdOnlyClient(db: Database): Promise<{ held: Promise<void>; release: () => void }> {
  let release!: () => void;
  let entered!: () => void;
  const inside = new Promise<void>((r) => (entered = r));
  const held = db.transaction(() => new Promise<void>((r) => ((release = r), entered())));
  await inside;
  return { held, release };
}

describe('database layer (real PostgreSQL)', function () {
  this.timeout(60_000);
  let tdb: TestDatabase;
  let db: Database;
  before(async () => {
    tdb = await createTestDatabase();
    db = makeDb(tdb.url);
  });
  after(async () => {
    await db?.close();
    await tdb?.drop();
  });

  it('migrations apply once even when several replicas start together (advisory lock)', async () => {
    const replicas = Array.from({ length: 4 }, () => makeDb(tdb.url));
    try {
      const applied = await Promise.all(replicas.map((r) => migrate(r.pool, quietLogger(), MIGRATIONS)));
      const total = applied.flat();
      expect(total.sort()).to.deep.equal(MIGRATIONS.map((m) => m.version).sort());
      const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM schema_migrations');
      expect(Number(rows[0]!.n)).to.equal(MIGRATIONS.length);
      expect(await pendingMigrations(db, MIGRATIONS)).to.deep.equal([]);
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
    }
  });

  it('a migration edited after it was applied stops startup; a failing one leaves nothing behind', async () => {
    const edited: Migration[] = MIGRATIONS.map((m, i) => (i === 0 ? { ...m, sql: `${m.sql}\n-- edited` } : m));
    let err: unknown;
    try {
      await migrate(db.pool, quietLogger(), edited);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(MigrationError);
    expect((err as Error).message).to.match(/was changed after it was applied/);

    const broken: Migration[] = [...MIGRATIONS, { version: 9999, name: 'broken', sql: 'CREATE TABLE half_done (id int); SELECT no_such_function();' }];
    try {
      await migrate(db.pool, quietLogger(), broken);
      expect.fail('should throw');
    } catch (e) {
      expect((e as Error).message).to.match(/migration 9999 \(broken\) failed/);
    }
    const { rows } = await db.query("SELECT to_regclass('half_done') AS t");
    expect(rows[0]!.t).to.equal(null);
    expect(await pendingMigrations(db, broken)).to.deep.equal([9999]);
  });

  it('transactions are all or nothing', async () => {
    await db.query('CREATE TABLE tx_test (id int PRIMARY KEY)');
    await db.transaction(async (tx) => {
      await tx.query('INSERT INTO tx_test VALUES (1), (2)');
    });
    try {
      await db.transaction(async (tx) => {
        await tx.query('INSERT INTO tx_test VALUES (3)');
        await tx.query('INSERT INTO tx_test VALUES (1)'); // duplicate: the whole batch must vanish
      });
      expect.fail('should throw');
    } catch (e) {
      expect((e as { code?: string }).code).to.equal('23505');
    }
    const { rows } = await db.query<{ id: number }>('SELECT id FROM tx_test ORDER BY id');
    expect(rows.map((r) => r.id)).to.deep.equal([1, 2]);
    expect(db.stats().used).to.equal(0); // the client went back to the pool
  });

  it('connections carry application_name and statement_timeout', async () => {
    const short = makeDb(tdb.url, { statementTimeoutMillis: 100 });
    try {
      const { rows } = await short.query<{ a: string; t: string }>(
        "SELECT current_setting('application_name') AS a, current_setting('statement_timeout') AS t",
      );
      expect(rows[0]).to.deep.equal({ a: 'caly-db-test', t: '100ms' });
      try {
        await short.query('SELECT pg_sleep(1)');
        expect.fail('should time out');
      } catch (e) {
        expect((e as { code?: string }).code).to.equal('57014');
      }
    } finally {
      await short.close();
    }
  });

  it('pool stats are real pg-pool numbers', async () => {
    const client = await db.pool.connect();
    try {
      const s = db.stats();
      expect(s.used).to.be.at.least(1);
      expect(s.max).to.equal(5);
      expect(s.total).to.equal(s.idle + s.used);
    } finally {
      client.release();
    }
  });

  it("db.client.connection.count and .pending_requests are the pool's own numbers when scraped", async () => {
    const one = makeDb(tdb.url, { max: 1 });
    const ofThisDb = (a: Record<string, unknown>) => String(a['db.client.connection.pool.name']).endsWith(`/${tdb.name}`);
    const used = () => metricTotal('db.client.connection.count', (a) => ofThisDb(a) && a['db.client.connection.state'] === 'used');
    const pending = () => metricTotal('db.client.connection.pending_requests', ofThisDb);
    let release: () => void = () => undefined;
    try {
      const usedBefore = await used();
      const hold = await holdOnlyClient(one);
      release = hold.release;
      const waiting = one.query('SELECT 1');
      const until = Date.now() + 5000;
      while ((await pending()) < 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      expect(await used(), 'the held client').to.equal(usedBefore + 1);
      expect(await pending(), 'the waiting query').to.equal(1);
      release();
      await Promise.all([hold.held, waiting]);
      expect(await pending()).to.equal(0);
      expect(await used()).to.equal(usedBefore);
    } finally {
      release();
      await one.close();
    }
  });

  it('a query waiting on a pool whose every client is busy gives up after the connection timeout (mapped to 503), and leaves the queue', async () => {
    const one = makeDb(tdb.url, { max: 1, connectionTimeoutMillis: 300 });
    let release: () => void = () => undefined;
    try {
      await one.query('SELECT 1');
      const hold = await holdOnlyClient(one);
      release = hold.release;
      const started = Date.now();
      const err = (await one.query('SELECT $1::int AS v', [1]).then(
        () => undefined,
        (e: unknown) => e,
      )) as Error | undefined;
      expect(err?.message).to.match(/timeout exceeded when trying to connect/);
      expect(toAppError(err).status, 'the envelope answers 503, not 500').to.equal(503);
      expect(Date.now() - started).to.be.within(250, 3000);
      expect(one.stats().waiting, 'the timed-out caller left the queue').to.equal(0);
      release();
      await hold.held;
      expect((await one.query<{ v: number }>('SELECT $1::int AS v', [2])).rows[0]!.v).to.equal(2);
    } finally {
      release();
      await one.close();
    }
  });

  it('db.client.connection.max is the size limit of each open pool, gone when the pool closes', async () => {
    const max = () => metricTotal('db.client.connection.max', (a) => String(a['db.client.connection.pool.name']) === `127.0.0.1:5432/${tdb.name}`);
    const before = await max();
    const seven = makeDb(tdb.url, { max: 7 });
    try {
      expect(await max()).to.equal(before + 7);
    } finally {
      await seven.close();
    }
    expect(await max()).to.equal(before);
  });

  it('a connection lost while a transaction holds it fails that transaction, not the process', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
    const flaky = makeDb(proxy.url(tdb.name));
    try {
      let err: unknown;
      try {
        await flaky.transaction(async (tx) => {
          await tx.query('SELECT 1');
          proxy.cut(); // the client is checked out and idle between statements: pg emits 'error'
          await new Promise((r) => setTimeout(r, 100));
          await tx.query('SELECT 2');
        });
      } catch (e) {
        err = e;
      }
      expect(err, 'the transaction must fail').to.be.instanceOf(Error);
      proxy.restore();
      const { rows } = await flaky.query<{ v: number }>('SELECT 3 AS v'); // the broken client was discarded
      expect(rows[0]!.v).to.equal(3);
    } finally {
      await flaky.close();
      await proxy.close();
    }
  });

  it('a connection lost during a single query fails that query, not the process, and the client is not reused', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
    const flaky = makeDb(proxy.url(tdb.name), { max: 1 });
    try {
      await flaky.query('SELECT 1'); // the pool's one client, idle again
      const pending = flaky.query('SELECT pg_sleep(2)');
      await new Promise((r) => setTimeout(r, 200));
      proxy.cut();
      let err: unknown;
      try {
        await pending;
      } catch (e) {
        err = e;
      }
      expect(err, 'the query must fail').to.be.instanceOf(Error);
      expect(flaky.stats().total, 'the broken client left the pool').to.equal(0);
      proxy.restore();
      const { rows } = await flaky.query<{ v: number }>('SELECT 3 AS v');
      expect(rows[0]!.v).to.equal(3);
    } finally {
      await flaky.close();
      await proxy.close();
    }
  });

  it("a failed query's stack leads back to the code that awaited it, not to pg's socket parser", async () => {
    async function callerWithAName(): Promise<unknown> {
      try {
        await db.query('SELECT 1 / $1::int AS v', [0]);
      } catch (e) {
        return e;
      }
      return undefined;
    }
    const err = (await callerWithAName()) as Error & { code?: string };
    expect(err).to.be.instanceOf(Error);
    expect(err.code).to.equal('22012'); // division_by_zero, PostgreSQL's own error passed on
    expect(err.stack).to.contain('callerWithAName');
  });

  describe('parameterised statements are prepared once per connection', () => {
    /** The statements this session has prepared, read on the pool's only client. */
    const prepared = async (one: Database) =>
      (await one.query<{ name: string; statement: string }>('SELECT name, statement FROM pg_prepared_statements ORDER BY prepare_time')).rows;

    /** `fn` on a pool of one connection, so that every statement runs in the same session. */
    async function onOneConnection(fn: (one: Database) => Promise<void>, extra: Partial<Parameters<typeof createDatabase>[0]> = {}): Promise<void> {
      const one = makeDb(tdb.url, { max: 1, ...extra });
      try {
        await fn(one);
      } finally {
        await one.close();
      }
    }

    /** `fn` with a table `name` (k, a) holding the row (1, 'x'), dropped afterwards. */
    async function withRow(name: string, fn: () => Promise<void>): Promise<void> {
      await db.query(`CREATE TABLE ${name} (k int PRIMARY KEY, a text)`);
      try {
        await db.query(`INSERT INTO ${name} VALUES (1, 'x')`);
        await fn();
      } finally {
        await db.query(`DROP TABLE ${name}`);
      }
    }
    /** What another replica's migration would do to that table under a prepared `SELECT *`. */
    const addColumn = (name: string) => db.query(`ALTER TABLE ${name} ADD COLUMN b text NOT NULL DEFAULT 'y'`);

    it('the same text runs from one prepared statement; a text without values is not prepared', () =>
      onOneConnection(async (one) => {
        for (let i = 0; i < 3; i++) expect((await one.query<{ v: number }>('SELECT $1::int + 1 AS v', [i])).rows[0]!.v).to.equal(i + 1);
        await one.query('SELECT 2');
        expect((await prepared(one)).map((r) => r.statement)).to.deep.equal(['SELECT $1::int + 1 AS v']);
      }));

    it('a prepared statement reuses the row parsers pg built from its first description, and its rows are what pg parses unprepared', async () => {
      const text = 'SELECT $1::int AS i, $2::bigint AS big, $3::boolean AS b, $4::timestamptz AS at, $5::jsonb AS j, $6::text AS t, NULL::int AS n';
      const values = (k: number) => [k, `${k}000000000000`, k % 2 === 0, new Date(Date.UTC(2026, 0, k)), { k, list: [k] }, `row ${k}`];
      /** pg's own Result fields: the parsers it built from the row description, and the row it copies from. */
      type Built = { _parsers: unknown; _prebuiltEmptyResultObject: unknown };
      const runs = async (one: Database) => {
        const results = [];
        for (let k = 1; k <= 3; k++) results.push(await one.query(text, values(k)));
        return results;
      };
      let prepared: Awaited<ReturnType<typeof runs>> = [];
      let unprepared: Awaited<ReturnType<typeof runs>> = [];
      await onOneConnection(async (one) => void (prepared = await runs(one)));
      await onOneConnection(async (one) => void (unprepared = await runs(one)), { preparedStatements: 0 });
      for (let k = 0; k < 3; k++) {
        expect(prepared[k]!.rows).to.deep.equal(unprepared[k]!.rows);
        expect(prepared[k]!.fields.map((f) => f.name)).to.deep.equal(['i', 'big', 'b', 'at', 'j', 't', 'n']);
      }
      expect(prepared[2]!.rows).to.deep.equal([
        { i: 3, big: '3000000000000', b: false, at: new Date(Date.UTC(2026, 0, 3)), j: { k: 3, list: [3] }, t: 'row 3', n: null },
      ]);
      const built = (r: unknown) => r as Built;
      // the second and third executions took what the first built; unprepared, pg builds it each time
      expect(built(prepared[1])._parsers).to.equal(built(prepared[0])._parsers);
      expect(built(prepared[2])._prebuiltEmptyResultObject).to.equal(built(prepared[0])._prebuiltEmptyResultObject);
      expect(built(unprepared[1])._parsers).to.not.equal(built(unprepared[0])._parsers);
      // each row is its own object all the same
      expect(prepared[1]!.rows[0]).to.not.equal(prepared[0]!.rows[0]);
    });

    it('past the limit of distinct texts, statements still run, unprepared', () =>
      onOneConnection(
        async (one) => {
          for (let k = 1; k <= 4; k++) expect((await one.query<{ v: number }>(`SELECT $1::int * ${k} AS v`, [3])).rows[0]!.v).to.equal(3 * k);
          expect((await prepared(one)).map((r) => r.statement)).to.deep.equal(['SELECT $1::int * 1 AS v', 'SELECT $1::int * 2 AS v']);
        },
        { preparedStatements: 2 },
      ));

    it('0 prepares nothing (for a pooler in transaction mode)', () =>
      onOneConnection(
        async (one) => {
          await one.query('SELECT $1::int AS v', [1]);
          expect(await prepared(one)).to.deep.equal([]);
        },
        { preparedStatements: 0 },
      ));

    it('a statement whose table changed columns since it was prepared runs again on a fresh connection', () =>
      onOneConnection((one) =>
        withRow('prep_shape', async () => {
          const read = () => one.query('SELECT * FROM prep_shape WHERE k = $1', [1]);
          expect((await read()).rows).to.deep.equal([{ k: 1, a: 'x' }]);
          await addColumn('prep_shape');
          expect((await read()).rows, 'not 0A000 "cached plan must not change result type"').to.deep.equal([{ k: 1, a: 'x', b: 'y' }]);
          expect((await read()).rows).to.deep.equal([{ k: 1, a: 'x', b: 'y' }]);
        }),
      ));

    it('with every pooled connection holding the stale statement, no query or transaction fails, one at a time or under load', async () => {
      // more connections than a transaction's attempts: dropping stale connections alone would not get through
      const pool = makeDb(tdb.url, { max: 6 });
      try {
        await withRow('prep_load', async () => {
          const want = { k: 1, a: 'x', b: 'y', slept: false };
          const read = async (ms: number) => (await pool.query('SELECT *, pg_sleep($2) IS NULL AS slept FROM prep_load WHERE k = $1', [1, ms / 1000])).rows[0];
          const readInTx = (ms: number) =>
            pool.transaction(async (tx) => (await tx.query('SELECT *, pg_sleep($2) IS NULL AS slept FROM prep_load WHERE $1 = k', [1, ms / 1000])).rows[0]);
          // every connection prepares both statements (each is held 50 ms, so the pool opens six)
          await Promise.all(Array.from({ length: 6 }, () => read(50)));
          await Promise.all(Array.from({ length: 6 }, () => readInTx(50)));
          expect(pool.stats().total).to.equal(6);
          await addColumn('prep_load');
          // one at a time: a retry then finds the other stale connections idle in the pool
          for (let i = 0; i < 3; i++) expect(await read(0)).to.deep.equal(want);
          for (let i = 0; i < 3; i++) expect(await readInTx(0)).to.deep.equal(want);
          const rows = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? read(0) : readInTx(0))));
          for (const row of rows) expect(row).to.deep.equal(want);
        });
      } finally {
        await pool.close();
      }
    });

    it('a statement deallocated under the connection (DISCARD ALL) runs again on a fresh connection', () =>
      onOneConnection(async (one) => {
        const backend = async () => (await one.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
        expect((await one.query<{ v: number }>('SELECT $1::int AS v', [1])).rows[0]!.v).to.equal(1);
        const before = await backend();
        await one.query('DISCARD ALL');
        expect((await one.query<{ v: number }>('SELECT $1::int AS v', [2])).rows[0]!.v, 'not 26000 "prepared statement does not exist"').to.equal(2);
        // the connection that reported it is replaced: every other statement prepared on it is gone too
        expect(await backend()).not.to.equal(before);
      }));

    it("a transaction's statements are prepared too, and one that went stale reruns the transaction on a fresh connection", () =>
      onOneConnection((one) =>
        withRow('prep_tx', async () => {
          let runs = 0;
          const read = () =>
            one.transaction(async (tx) => {
              runs++;
              return (await tx.query('SELECT * FROM prep_tx WHERE k = $1', [1])).rows;
            });
          expect(await read()).to.deep.equal([{ k: 1, a: 'x' }]);
          expect((await prepared(one)).map((r) => r.statement)).to.deep.equal(['SELECT * FROM prep_tx WHERE k = $1']);
          await addColumn('prep_tx');
          runs = 0;
          expect(await read(), 'not 0A000 "cached plan must not change result type"').to.deep.equal([{ k: 1, a: 'x', b: 'y' }]);
          expect(runs, 'the transaction ran again').to.equal(2);
        }),
      ));

    it('a statement PostgreSQL refuses with 0A000 for what it is still fails, after one more attempt', () =>
      onOneConnection(async (one) => {
        let err: (Error & { code?: string }) | undefined;
        try {
          await one.query('SELECT count(*) FROM pg_class WHERE relname = $1 FOR UPDATE', ['x']);
        } catch (e) {
          err = e as Error & { code?: string };
        }
        expect(err?.code).to.equal('0A000'); // FOR UPDATE is not allowed with aggregate functions
        expect((await one.query<{ v: number }>('SELECT $1::int AS v', [5])).rows[0]!.v, 'the pool still answers').to.equal(5);
      }));
  });

  it('operation names are bounded', () => {
    expect(operationOf('  select 1')).to.equal('SELECT');
    expect(operationOf('/* c */ -- x\n INSERT INTO t VALUES (1)')).to.equal('INSERT');
    expect(operationOf("robert'); DROP TABLE students;--")).to.equal('OTHER');
  });

  it('operation names kept per text give the same answers, asked again and past the number kept', () => {
    const texts = Array.from({ length: 1200 }, (_, i) => (i % 3 === 0 ? `select ${i}` : i % 3 === 1 ? `/* ${i} */ delete from t` : `vacuum t${i}`));
    const first = texts.map(operationOf);
    expect(texts.map(operationOf)).to.deep.equal(first);
    expect(first.slice(0, 3)).to.deep.equal(['SELECT', 'DELETE', 'OTHER']);
    expect(first.slice(-3)).to.deep.equal(['SELECT', 'DELETE', 'OTHER']);
  });
});
