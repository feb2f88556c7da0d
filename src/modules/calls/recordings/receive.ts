import { createWriteStream, type WriteStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PayloadTooLargeError } from '../../../platform/errors/app-error';
import { readMultipart } from '../../../platform/http/multipart';
import { HEAD_BYTES } from './container';
import type { Sealer } from './sealed';

export interface ReceivedFile {
  /** The first HEAD_BYTES of the plaintext, for the container parser. */
  head: Buffer;
  bytes: number;
}

/**
 * Streams the multipart field `file` through `seal`'s cipher to `target` (created exclusively,
 * mode 0600: iv, ciphertext, tag) and stops at `maxBytes` while streaming: nothing larger is ever
 * held in memory or kept on disk, and no plaintext is ever written. Other parts are discarded.
 * Resolves null when the body has no `file` part. The caller deletes `target` on any failure.
 */
export function receiveFile(req: IncomingMessage, target: string, maxBytes: number, seal: Sealer): Promise<ReceivedFile | null> {
  let out: WriteStream | undefined;
  return readMultipart<ReceivedFile | null>(req, { files: 1, fileSize: maxBytes, fields: 8, fieldSize: 1024, parts: 10 }, (bb, control) => {
    let written: Promise<ReceivedFile> | undefined;
    bb.on('file', (field, stream) => {
      if (field !== 'file' || written) {
        stream.resume();
        return;
      }
      let head = Buffer.alloc(0);
      let bytes = 0;
      const count = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          if (head.length < HEAD_BYTES) head = Buffer.concat([head, chunk.subarray(0, HEAD_BYTES - head.length)]);
          bytes += chunk.length;
          cb(null, chunk);
        },
      });
      stream.on('limit', () => control.fail(new PayloadTooLargeError(maxBytes)));
      out = createWriteStream(target, { flags: 'wx', mode: 0o600 });
      out.write(seal.iv);
      // The tag goes through the same stream (never a reopen by name: the caller may already have
      // deleted a refused upload, and a reopen would bring it back).
      const tag = new Transform({
        transform: (chunk: Buffer, _enc, cb) => cb(null, chunk),
        flush: (cb) => cb(null, seal.cipher.getAuthTag()),
      });
      written = pipeline(stream, count, seal.cipher, tag, out).then(() => ({ head, bytes }));
      written.catch(() => undefined);
    });
    bb.on('close', () => {
      if (control.settled) return;
      if (!written) return control.finish(null);
      written.then(
        (file) => control.finish(file),
        (err: Error) => control.fail(err),
      );
    });
  }).catch(async (err: unknown) => {
    // A refusal (the size limit, a malformed body) can come while the file's open is still queued
    // on libuv's thread pool: answered at once, the caller's unlink could run first and the open
    // would then create the file after it. So the file is closed before the failure is passed on.
    if (out !== undefined && !out.closed) {
      const closed = new Promise<void>((resolve) => out!.once('close', () => resolve()));
      out.destroy();
      await closed;
    }
    throw err;
  });
}
