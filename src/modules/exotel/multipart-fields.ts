import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { BadRequestError, PayloadTooLargeError } from '../../platform/errors/app-error';

/**
 * The text fields of a multipart/form-data body (a StatusCallback sent as a form), bounded: at
 * most `maxBytes` read from the socket, 100 fields of 16 KiB, files refused (drained unread).
 * The app's body parser handles JSON and urlencoded; multipart is parsed only where accepted.
 */
export function readMultipartFields(req: IncomingMessage, maxBytes: number): Promise<Record<string, string>> {
  return new Promise((resolvePromise, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, limits: { fields: 100, fieldSize: 16 * 1024, files: 0, parts: 100, headerPairs: 20 } });
    } catch (err) {
      reject(new BadRequestError('Malformed multipart body', err));
      return;
    }
    const fields: Record<string, string> = Object.create(null) as Record<string, string>;
    let read = 0;
    let done = false;
    const fail = (err: Error) => {
      if (done) return;
      done = true;
      req.unpipe(bb);
      req.resume();
      reject(err);
    };
    req.on('data', (chunk: Buffer) => {
      read += chunk.length;
      if (read > maxBytes) fail(new PayloadTooLargeError(maxBytes));
    });
    bb.on('field', (name, value, info) => {
      if (info.valueTruncated) return fail(new PayloadTooLargeError(16 * 1024));
      if (name === '__proto__' || name === 'constructor' || name === 'prototype') return fail(new BadRequestError('Forbidden field name'));
      fields[name] = value;
    });
    bb.on('file', (_name, stream) => stream.resume());
    bb.on('error', (err: Error) => fail(new BadRequestError('Malformed multipart body', err)));
    bb.on('close', () => {
      if (done) return;
      done = true;
      resolvePromise({ ...fields });
    });
    req.pipe(bb);
  });
}
