import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { startService } from './helpers/service';

describe('zero-setup default: embedded PostgreSQL (PGlite) under DATA_DIR', function () {
  this.timeout(120_000);
  const dataDir = mkdtempSync(join(tmpdir(), 'caly-embedded-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('starts with no DATABASE_URL, serves database routes, and keeps its data across restarts', async () => {
    const first = await startService({ DATA_DIR: dataDir, DATABASE_URL: undefined }, { timeoutMs: 60_000 });
    let installationId: string;
    try {
      expect(first.logs.some((l) => String(l.msg).includes('embedded PostgreSQL'))).to.equal(true);
      const ready = await fetch(`${first.url}/health/ready`);
      expect(ready.status).to.equal(200);
      const info = (await (await fetch(`${first.url}/api/info`)).json()) as { installationId: string };
      expect(info.installationId).to.match(/^[0-9a-f-]{36}$/);
      installationId = info.installationId;
    } finally {
      expect(await first.stop()).to.equal(0);
    }
    const second = await startService({ DATA_DIR: dataDir, DATABASE_URL: undefined }, { timeoutMs: 60_000 });
    try {
      const info = (await (await fetch(`${second.url}/api/info`)).json()) as { installationId: string };
      expect(info.installationId).to.equal(installationId);
    } finally {
      expect(await second.stop()).to.equal(0);
    }
  });
});
