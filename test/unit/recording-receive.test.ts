import { expect } from 'chai';
import { createCipheriv, pbkdf2, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { receiveFile } from '../../src/modules/calls/recordings/receive';
import { PayloadTooLargeError } from '../../src/platform/errors/app-error';

const BOUNDARY = 'caly-test-boundary';

/** A request whose whole multipart body (one part named "file" of `size` bytes) arrives in one chunk. */
function requestWithFile(size: number): IncomingMessage {
  const req = new PassThrough() as unknown as IncomingMessage & PassThrough;
  req.headers = { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` };
  const head = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\n`;
  req.end(Buffer.concat([Buffer.from(head), Buffer.alloc(size, 1), Buffer.from(`\r\n--${BOUNDARY}--\r\n`)]));
  return req;
}

function sealer() {
  const iv = randomBytes(12);
  return { iv, cipher: createCipheriv('aes-256-gcm', randomBytes(32), iv), sealedKey: 'unused' };
}

describe('recording upload: receiveFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'caly-receive-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('an oversize file refused while its temporary file is still being opened leaves nothing once the caller deletes it', async () => {
    // The open of the temporary file runs on libuv's thread pool. When the pool is busy (as in a full
    // test run) the limit can trip first; a rejection at that point let the caller's unlink run
    // before the open, which then created the file after it (a `.upload-*` left behind, seen in CI).
    // The pool is kept busy here so that the open is still pending when the limit trips.
    const busy: Promise<unknown>[] = [];
    for (let i = 0; i < Number(process.env.UV_THREADPOOL_SIZE ?? 4); i++) busy.push(promisify(pbkdf2)('x', 'y', 200_000, 32, 'sha256'));
    const target = join(dir, '.upload-oversize');
    let err: unknown;
    try {
      await receiveFile(requestWithFile(64 * 1024), target, 1024, sealer());
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(PayloadTooLargeError);
    try {
      unlinkSync(target); // what the route does on any failure
    } catch {
      /* not there */
    }
    await Promise.all(busy);
    await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(target), 'the temporary file').to.equal(false);
  });

  it('a file within the limit is written whole: iv, ciphertext, tag', async () => {
    const target = join(dir, '.upload-ok');
    const file = await receiveFile(requestWithFile(4000), target, 8000, sealer());
    expect(file?.bytes).to.equal(4000);
    expect(existsSync(target)).to.equal(true);
  });
});
