import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { startService, type ServiceHandle } from '../helpers/service';

/** With no trace exporter configured, requests still get real, distinct trace and span ids. */
describe('request ids without a trace exporter', function () {
  this.timeout(60_000);
  let tdb: TestDatabase;
  let svc: ServiceHandle;
  before(async () => {
    tdb = await createTestDatabase();
    svc = await startService({ DATABASE_URL: tdb.url });
  });
  after(async () => {
    await svc?.stop();
    await tdb?.drop();
  });

  it('are distinct, non-zero, and in the log line with its trace id', async () => {
    const ids = await Promise.all(Array.from({ length: 10 }, async () => (await fetch(`${svc.url}/api/ping`)).headers.get('x-request-id')!));
    expect(new Set(ids).size).to.equal(10);
    for (const id of ids) expect(id).to.match(/^(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}$/);
    const line = await svc.waitForLog((l) => l.request_id === ids[0]);
    expect(line.trace_id).to.equal(ids[0]!.slice(0, 32));
  });
});
