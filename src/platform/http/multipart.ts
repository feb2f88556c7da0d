import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { BadRequestError } from '../errors/app-error';

/** What a multipart reader's listeners use to end the read, once. */
export interface MultipartControl<T> {
  /** Stops reading (the rest of the body is discarded unread) and rejects with `err`. */
  fail(err: Error): void;
  finish(value: T): void;
  readonly settled: boolean;
}

/**
 * One bounded multipart/form-data read with busboy, for the routes that accept multipart (the app's
 * body parser handles JSON and urlencoded only). `listen` attaches the part handlers; a malformed
 * body or a bad Content-Type is a 400, and a failure stops piping and drains the socket so that
 * the answer can still be read. The first of fail/finish wins.
 */
export function readMultipart<T>(req: IncomingMessage, limits: busboy.Limits, listen: (bb: busboy.Busboy, control: MultipartControl<T>) => void): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, limits: { headerPairs: 20, ...limits } });
    } catch (err) {
      reject(new BadRequestError('Malformed multipart body', err));
      return;
    }
    let settled = false;
    const control: MultipartControl<T> = {
      get settled() {
        return settled;
      },
      fail(err) {
        if (settled) return;
        settled = true;
        req.unpipe(bb);
        req.resume(); // discard the rest so the answer can be read; the connection closes after it
        reject(err);
      },
      finish(value) {
        if (settled) return;
        settled = true;
        resolvePromise(value);
      },
    };
    listen(bb, control);
    bb.on('error', (err: Error) => control.fail(new BadRequestError('Malformed multipart body', err)));
    req.pipe(bb);
  });
}
