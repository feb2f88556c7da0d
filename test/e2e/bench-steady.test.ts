import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { ROOT } from '../helpers/service';

interface SteadyResult {
  requests: { total: number; sent: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  latencyUs: { count: number; p50: number; p99: number; max: number };
}

const steady = async (url: string, rate: number, duration: number, connections: number): Promise<SteadyResult> => {
  const { stdout } = await promisify(execFile)(process.execPath, ['bench/steady.js', JSON.stringify({ url, rate, duration, connections })], { cwd: ROOT });
  return JSON.parse(stdout) as SteadyResult;
};

/**
 * bench/steady.js, the load behind `bench/run.js --rate`: an open loop, one request due every
 * 1/rate s. What autocannon's own pacing gets wrong is what this pins: requests spread over each
 * second (autocannon spends each connection's per-second budget back to back at the start of the
 * second), and a stalled server charged for every request it kept waiting, not only those in flight.
 */
describe('steady open-loop load generator (bench/steady.js)', function () {
  this.timeout(60_000);
  let server: Server;
  let url: string;
  let arrivals: number[] = [];
  let stallAt = 0; // the request (1-based) that holds the whole process for STALL_MS, 0: none
  const STALL_MS = 200;

  before(async () => {
    server = createServer((_req, res) => {
      arrivals.push(performance.now());
      if (arrivals.length === stallAt) {
        const until = performance.now() + STALL_MS;
        while (performance.now() < until); // the event loop held, as a long GC or a sync call would
      }
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/ping`;
  });
  beforeEach(() => {
    arrivals = [];
    stallAt = 0;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('sends exactly rate × duration requests, spread over every second instead of in bursts', async () => {
    const res = await steady(url, 1000, 3, 20);
    expect(res.requests.total).to.equal(3000);
    expect(res.requests.sent).to.equal(3000);
    expect(res.errors + res.timeouts + res.non2xx).to.equal(0);
    expect(arrivals).to.have.length(3000);
    // 500 ms windows from the first arrival: 500 requests each at a steady 1,000 req/s (wide enough
    // that a host stall of 100 ms cannot push one out of bounds). Paced in per-second bursts, the
    // window after each burst would hold none.
    const counts = [0, 0, 0, 0, 0, 0];
    for (const t of arrivals) counts[Math.min(5, Math.floor((t - arrivals[0]!) / 500))]!++;
    for (const [i, c] of counts.entries()) expect(c, `window ${i}: ${counts.join(', ')}`).to.be.within(250, 750);
  });

  it('charges a stalled server for every request it kept waiting (no coordinated omission)', async () => {
    stallAt = 1000;
    const res = await steady(url, 1000, 2, 10);
    expect(res.requests.total, 'none lost to the stall').to.equal(2000);
    // ~200 requests fell due during the stall and waited up to 200 ms each; a generator that timed
    // requests from when it sent them would see only the 10 in flight wait.
    expect(res.latencyUs.max).to.be.at.least(0.9 * STALL_MS * 1000);
    expect(res.latencyUs.p99, 'p99 carries the stall').to.be.at.least(0.5 * STALL_MS * 1000);
    expect(res.latencyUs.p50, 'the rest were fast').to.be.below(0.25 * STALL_MS * 1000);
  });

  it('never sends a second request on a busy connection, when a server closes idle ones (keep-alive timeout)', async () => {
    // Two stalls make every connection busy at once; between them the server closes connections
    // left idle for 100 ms, and the generator reconnects them. A reconnected connection once stayed
    // in the free list twice, and got a request while its last one was still unanswered.
    let seen = 0;
    let overlapped = 0;
    const inFlight = new Map<object, number>();
    const keepAlive = createServer((req, res) => {
      seen++;
      const n = (inFlight.get(req.socket) ?? 0) + 1;
      inFlight.set(req.socket, n);
      if (n > 1) overlapped++;
      if (seen === 5 || seen === 300) {
        const until = performance.now() + 150;
        while (performance.now() < until);
      }
      res.end('{"ok":true}', () => inFlight.set(req.socket, inFlight.get(req.socket)! - 1));
    });
    keepAlive.keepAliveTimeout = 100;
    await new Promise<void>((r) => keepAlive.listen(0, '127.0.0.1', r));
    try {
      const res = await steady(`http://127.0.0.1:${(keepAlive.address() as AddressInfo).port}/`, 200, 2, 20);
      expect(overlapped, 'requests sent on a connection with one outstanding').to.equal(0);
      expect(res.requests.sent).to.equal(400);
      expect(res.requests.total + res.errors, 'every request answered or counted as an error').to.equal(res.requests.sent);
      expect(seen).to.be.at.least(res.requests.total);
    } finally {
      await new Promise<void>((r) => keepAlive.close(() => r()));
    }
  });
});
