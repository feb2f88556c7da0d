import { validateHeaderName, validateHeaderValue, type ServerResponse } from 'node:http';
import { addFixedLines, type FixedLines } from '../response-head/lines';

/** A header to send on every response (value) or to keep off every response (undefined). */
export type HeaderOp = readonly [name: string, value: string | undefined];

export interface HeaderBlock {
  /** Makes this response carry the block's headers (call before anything is written). */
  apply(res: ServerResponse): void;
}

/**
 * A fixed set of response headers, written into every response head as one pre-validated block of
 * lines instead of one `setHeader` per header.
 *
 * Why by hand: each `setHeader` validates its name and value with two regular expressions,
 * lower-cases the name and inserts it into the response's header map, a null-prototype object V8
 * keeps as a dictionary, which `_storeHeader` then walks key by key. For the 13 security headers
 * this block saved 32 k of the 390 k instructions a GET /api/ping took (8 %, bench/instructions.js;
 * bench/README.md, "Fifth round"); no header library writes a constant block.
 *
 * The values are validated once, here. A header the response sets itself (a route's own CSP, say)
 * still wins: that name is left out of the block for that response, as when it overwrote the value
 * set earlier. Names whose op is `undefined` are removed when the block is applied, as before.
 * Where the head cannot take added lines (response-head/lines.ts), the headers are set one by one.
 */
export function headerBlock(ops: readonly HeaderOp[]): HeaderBlock {
  const sent = ops.filter((op): op is readonly [string, string] => op[1] !== undefined).map(([name, value]) => [name.toLowerCase(), value] as const);
  const removed = ops.filter(([, value]) => value === undefined).map(([name]) => name);
  for (const [name, value] of sent) {
    validateHeaderName(name);
    validateHeaderValue(name, value);
  }
  const lines = (skip?: ReadonlySet<string>): string =>
    sent
      .filter(([name]) => !skip?.has(name))
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
  const whole = lines();
  const names = new Set(sent.map(([name]) => name));
  const fixed: FixedLines = {
    linesFor(setByResponse) {
      let skip: Set<string> | undefined;
      for (const name of setByResponse) if (names.has(name)) (skip ??= new Set()).add(name);
      return skip === undefined ? whole : lines(skip);
    },
  };

  return {
    apply(res) {
      for (const name of removed) res.removeHeader(name);
      if (addFixedLines(res, fixed)) return;
      for (const [name, value] of sent) res.setHeader(name, value);
    },
  };
}
