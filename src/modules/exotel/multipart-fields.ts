import type { IncomingMessage } from 'node:http';
import { readMultipart } from '../../platform/http/multipart';
import { BadRequestError, PayloadTooLargeError } from '../../platform/errors/app-error';

/**
 * The text fields of a multipart/form-data body (a StatusCallback sent as a form), bounded: at
 * most `maxBytes` read from the socket, 100 fields of 16 KiB, files refused (drained unread).
 * The app's body parser handles JSON and urlencoded; multipart is parsed only where accepted.
 */
export function readMultipartFields(req: IncomingMessage, maxBytes: number): Promise<Record<string, string>> {
  return readMultipart(req, { fields: 100, fieldSize: 16 * 1024, files: 0, parts: 100 }, (bb, control) => {
    const fields: Record<string, string> = Object.create(null) as Record<string, string>;
    let read = 0;
    req.on('data', (chunk: Buffer) => {
      read += chunk.length;
      if (read > maxBytes) control.fail(new PayloadTooLargeError(maxBytes));
    });
    bb.on('field', (name, value, info) => {
      if (info.valueTruncated) return control.fail(new PayloadTooLargeError(16 * 1024));
      if (name === '__proto__' || name === 'constructor' || name === 'prototype') return control.fail(new BadRequestError('Forbidden field name'));
      fields[name] = value;
    });
    bb.on('file', (_name, stream) => stream.resume());
    bb.on('close', () => control.finish({ ...fields }));
  });
}
