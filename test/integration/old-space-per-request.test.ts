import { expect } from 'chai';
import { Agent } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { signalForJson, statusGetter } from '../helpers/preload-probe';
import { ROOT, startService, type ServiceHandle } from '../helpers/service';

/**
 * What a request leaves in old space. A request's objects should die young, in the scavenge after
 * it; whatever a scavenge moves into old space instead is kept until a mark-compact, which stops
 * every request for milliseconds. V8 keeps the decimal string of every number a script converts
 * with String() or a template in its number-string cache, which lives in old space: a header value
 * that differs on every request (X-RateLimit-Remaining) was promoted with each request, three
 * times what the rest of GET /api/ping leaves (bench/README.md, "Fifteenth round").
 */
const REQUESTS = 6_000;
// Measured: 7–8 bytes a request; 31 with the rate-limit header's String() (three runs each). The
// budget is between the two, with room for the scavenges' timing.
const BUDGET_BYTES = 20;

describe('old space per request (what requests leave to the mark-compact)', function () {
  this.timeout(90_000);
  let tdb: TestDatabase;
  let svc: ServiceHandle;
  let dir: string;
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });

  const get = statusGetter(() => svc.url, agent);
  /** REQUESTS requests, four at a time. */
  async function load(path: string): Promise<void> {
    let left = REQUESTS;
    const worker = async () => {
      while (left-- > 0) expect(await get(path)).to.equal(200);
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  }

  before(async () => {
    tdb = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'caly-promotion-'));
    svc = await startService({
      DATABASE_URL: tdb.url,
      NODE_OPTIONS: `--require ${resolve(ROOT, 'test/fixtures/gc-promotion.cjs')}`,
      GC_PROMOTION: join(dir, 'promotion.json'),
      ACCESS_LOG: 'all',
      RATE_LIMIT_API_POINTS: '100000000', // the API budget is on the path measured, never the answer
    });
  });
  after(async () => {
    agent.destroy();
    await svc?.stop();
    await tdb?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`GET /api/ping leaves at most ${BUDGET_BYTES} bytes a request in old space`, async () => {
    await load('/api/ping'); // warm: the JIT, the pools, the caches' own growth
    svc.child.kill('SIGUSR2');
    await load('/api/ping');
    const r = await signalForJson<{ scavenges: number; promotedBytes: number; collections: number }>(svc.child, join(dir, 'promotion.json'));
    const perRequest = r.promotedBytes / REQUESTS;
    console.log(`      ${perRequest.toFixed(1)} bytes a request promoted by ${r.scavenges} scavenges (${r.collections} collections)`);
    expect(r.scavenges, 'the window must hold scavenges to say anything').to.be.at.least(5);
    expect(perRequest).to.be.at.most(BUDGET_BYTES);
  });
});
