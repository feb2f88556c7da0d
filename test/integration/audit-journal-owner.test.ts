import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { runServiceToExit, startService } from '../helpers/service';

describe('audit journal: one live writer per directory', function () {
  this.timeout(60_000);
  let tdb: TestDatabase;
  const dir = mkdtempSync(join(tmpdir(), 'caly-journal-owner-'));
  before(async () => {
    tdb = await createTestDatabase();
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await tdb?.drop();
  });

  it('a second replica pointed at the same journal directory refuses to start (it would replay and delete live segments)', async () => {
    const first = await startService({ DATABASE_URL: tdb.url, AUDIT_JOURNAL_DIR: dir });
    try {
      const second = await runServiceToExit({ DATABASE_URL: tdb.url, AUDIT_JOURNAL_DIR: dir, NODE_ENV: 'test', HOST: '127.0.0.1' });
      expect(second.code).to.equal(1);
      expect(second.stderr).to.match(/is in use by process \d+ \(caly-api audit journal.*Give each replica its own AUDIT_JOURNAL_DIR/);
      expect((await fetch(`${first.url}/health/ready`)).status).to.equal(200); // the first one is untouched
    } finally {
      expect(await first.stop()).to.equal(0);
    }
    // after a clean stop (or a crash) the directory is simply taken over
    const third = await startService({ DATABASE_URL: tdb.url, AUDIT_JOURNAL_DIR: dir });
    expect(await third.stop()).to.equal(0);
  });
});
