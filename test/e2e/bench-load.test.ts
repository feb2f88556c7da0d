import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { ROOT } from '../helpers/service';

interface Latencies {
  count: number;
  p50: number;
  p99: number;
  max: number;
}
interface LoadResult {
  latency: { p50: number; p99: number; totalCount: number };
  latencyUs: Latencies;
  latencyUsWhole: Latencies;
  non2xx: number;
}

/** Spins the CPU for `us` microseconds: a timer could not be that exact. */
function work(us: number): void {
  const until = process.hrtime.bigint() + BigInt(us) * 1000n;
  while (process.hrtime.bigint() < until);
}

/**
 * bench/load.js, the load generator every benchmark runs: its `latencyUs` must keep what
 * autocannon's whole-millisecond histogram cuts off, and count only 2xx answers as autocannon's
 * own figures do. The server answers every request after the same 1.5 ms of work (one connection,
 * so no request waits behind another), and every fifth at once with a 503.
 */
describe('benchmark load generator (bench/load.js)', function () {
  this.timeout(60_000);
  let server: Server;
  let url: string;
  let ok = 0;

  before(async () => {
    let n = 0;
    server = createServer((_req, res) => {
      if (++n % 5 === 0) {
        res.statusCode = 503;
        return res.end();
      }
      work(1_500);
      ok++;
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('reports 2xx latencies to the microsecond, consistent with autocannon’s whole milliseconds', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['bench/load.js', JSON.stringify({ url, connections: 1, amount: 200 })], { cwd: ROOT });
    const res = JSON.parse(stdout) as LoadResult;
    expect(res.non2xx).to.equal(40);
    expect(res.latencyUs.count, 'only the 2xx answers').to.equal(ok).and.to.equal(160);
    expect(res.latency.totalCount, 'autocannon’s own histogram holds the same answers').to.equal(160);
    // every 2xx took at least the 1.5 ms of work; a whole-millisecond figure would say 1000
    expect(res.latencyUs.p50).to.be.at.least(1500);
    // the same sample autocannon truncated to whole ms (load.js rounds to the µs, so 1999.6 µs reads 2000)
    expect(res.latencyUs.p50, 'the same latency autocannon truncated').to.be.within(1000 * res.latency.p50, 1000 * (res.latency.p50 + 1));
    expect(res.latencyUs.p99).to.be.at.least(res.latencyUs.p50).and.at.most(res.latencyUs.max);
  });

  it('leaves the requests sent in the first settleMs out of latencyUs, never out of latencyUsWhole', async () => {
    // The first 40 answers take 20 ms each (800 ms in all, one connection), every later one 0.2 ms.
    let n = 0;
    const slowStart = createServer((_req, res) => {
      work(++n <= 40 ? 20_000 : 200);
      res.end('ok');
    });
    await new Promise<void>((r) => slowStart.listen(0, '127.0.0.1', r));
    try {
      const target = `http://127.0.0.1:${(slowStart.address() as AddressInfo).port}/`;
      const opts = { url: target, connections: 1, duration: 2, settleMs: 1_000 };
      const { stdout } = await promisify(execFile)(process.execPath, ['bench/load.js', JSON.stringify(opts)], { cwd: ROOT });
      const res = JSON.parse(stdout) as LoadResult;
      expect(res.latencyUsWhole.max, 'the slow start is in the whole run').to.be.at.least(20_000);
      expect(res.latencyUs.max, 'and not after the settling time').to.be.below(20_000);
      expect(res.latencyUs.count).to.be.above(100);
      expect(res.latencyUsWhole.count - res.latencyUs.count, 'every slow answer, and only the first second').to.be.at.least(40);
      expect(res.latencyUsWhole.count).to.be.above(res.latencyUs.count);
    } finally {
      await new Promise<void>((r) => slowStart.close(() => r()));
    }
  });
});
