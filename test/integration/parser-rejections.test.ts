import { connect } from 'node:net';
import { expect } from 'chai';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { scrape, startService, type ServiceHandle } from '../helpers/service';

/** Sends raw bytes and resolves with everything the server answered before closing. */
function raw(port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(payload));
    let answer = '';
    socket.setEncoding('utf8').on('data', (c: string) => (answer += c));
    socket.on('close', () => resolve(answer));
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' || err.code === 'EPIPE' ? resolve(answer) : reject(err)));
  });
}

/**
 * Requests Node's HTTP parser refuses never reach Koa: no middleware runs. They must still be
 * answered in the error envelope, counted on /metrics, logged and traced.
 */
describe('requests the HTTP parser rejects are answered, counted, logged and traced', function () {
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

  it('oversized headers: 431 in the envelope, a metric, a log line with the request id', async () => {
    const answer = await raw(svc.port, `GET /api/ping HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(answer).to.match(/^HTTP\/1\.1 431 /);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { error: { code: string; requestId: string } };
    expect(body.error.code).to.equal('BAD_REQUEST');
    expect(body.error.requestId).to.match(/^[0-9a-f]{32}-[0-9a-f]{16}$/);
    const line = await svc.waitForLog((l) => l.request_id === body.error.requestId);
    expect(line).to.include({ level: 'warn', status: 431, error_type: 'HPE_HEADER_OVERFLOW' });
    expect(JSON.stringify(line)).not.to.include('aaaaaaaa');
  });

  it('a malformed request: 400 in the envelope; both rejections on /metrics by error_type', async () => {
    const answer = await raw(svc.port, 'THIS IS NOT HTTP\r\n\r\n');
    expect(answer).to.match(/^HTTP\/1\.1 400 /);
    const samples = (await scrape(svc.metricsUrl)).filter((s) => s.name === 'caly_http_parser_rejections_total');
    const by = (t: string) => samples.filter((s) => s.labels.error_type === t).reduce((a, s) => a + s.value, 0);
    expect(by('HPE_HEADER_OVERFLOW')).to.equal(1);
    expect(samples.filter((s) => s.labels.http_response_status_code === '400').reduce((a, s) => a + s.value, 0)).to.equal(1);
    // the service is still answering
    expect((await fetch(`${svc.url}/api/ping`)).status).to.equal(200);
  });
});
