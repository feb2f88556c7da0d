import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { startService } from '../helpers/service';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';

describe('graceful shutdown', function () {
  this.timeout(90_000);
  let tdb: TestDatabase;
  let proxy: TcpProxy;
  before(async () => {
    tdb = await createTestDatabase();
    proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
  });
  after(async () => {
    await proxy?.close();
    await tdb?.drop();
  });

  it('SIGTERM under load: readiness 503 at once, every in-flight request answered, exit 0', async () => {
    const svc = await startService({ DATABASE_URL: proxy.url(tdb.name), SHUTDOWN_DRAIN_MS: '1500', SHUTDOWN_TIMEOUT_MS: '10000', DB_POOL_MIN: '0' });
    proxy.setLatency(150); // keep requests in flight when the signal lands
    let draining = false;
    const results: Array<{ ok: boolean; status?: number; error?: string; startedBeforeSignal: boolean }> = [];
    let signalled = false;

    // 30 clients behave like a load balancer's upstream traffic: they stop sending new requests
    // once they learn the instance is draining (readiness 503), but requests already sent must finish.
    const client = async () => {
      while (!draining) {
        const startedBeforeSignal = !signalled;
        try {
          const res = await fetch(`${svc.url}/api/info`);
          await res.arrayBuffer();
          results.push({ ok: res.status === 200, status: res.status, startedBeforeSignal });
        } catch (err) {
          results.push({ ok: false, error: (err as Error).cause ? String((err as Error).cause) : (err as Error).message, startedBeforeSignal });
        }
      }
    };
    const clients = Array.from({ length: 30 }, client);
    await new Promise((r) => setTimeout(r, 800));
    const inflightAtSignal = results.length;

    signalled = true;
    svc.child.kill('SIGTERM');
    // the signal is asynchronous: poll readiness as a load balancer would, well within the drain delay
    let readyStatus = 200;
    const pollEnd = Date.now() + 1000;
    while (readyStatus === 200 && Date.now() < pollEnd) readyStatus = await fetch(`${svc.url}/health/ready`).then((r) => r.status);
    draining = true;
    await Promise.all(clients);
    const code = await svc.exited;

    expect(readyStatus).to.equal(503);
    expect(code).to.equal(0);
    expect(results.length).to.be.greaterThan(inflightAtSignal);
    const failed = results.filter((r) => !r.ok);
    expect(failed, JSON.stringify(failed.slice(0, 5))).to.have.length(0);
    const done = svc.logs.find((l) => l.msg === 'shutdown complete');
    expect(done?.clean).to.equal(true);
    proxy.setLatency(0);
  });

  it('a request longer than SHUTDOWN_TIMEOUT_MS does not hold the process hostage', async () => {
    const svc = await startService({ DATABASE_URL: proxy.url(tdb.name), SHUTDOWN_DRAIN_MS: '0', SHUTDOWN_TIMEOUT_MS: '300', DB_POOL_MIN: '0' });
    proxy.setLatency(3000);
    const pending = fetch(`${svc.url}/api/info`).then(
      (r) => r.status,
      () => 'closed',
    );
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    svc.child.kill('SIGTERM');
    const code = await svc.exited;
    expect(Date.now() - t0).to.be.lessThan(8000);
    expect(code).to.equal(0);
    await pending;
    expect(svc.logs.some((l) => l.msg === 'shutdown timeout: closing connections with requests still in flight')).to.equal(true);
    proxy.setLatency(0);
  });
});
