import { OutgoingMessage, validateHeaderName, validateHeaderValue, type ServerResponse } from 'node:http';

/** A header to send on every response (value) or to keep off every response (undefined). */
export type HeaderOp = readonly [name: string, value: string | undefined];

type StoreHeader = (this: OutgoingMessage, firstLine: string, headers: unknown) => void;

/**
 * Node builds the head of every HTTP/1 response in `OutgoingMessage.prototype._storeHeader(firstLine,
 * headers)`: the status line, then one line per entry of the response's header map. It has had that
 * shape since Node 0.x, but it is not public API, so the block is only used where it is there.
 */
const nodeStoreHeader = (OutgoingMessage.prototype as unknown as { _storeHeader?: StoreHeader })._storeHeader;
const CAN_PREPEND = typeof nodeStoreHeader === 'function' && nodeStoreHeader.length === 2;

/**
 * Whether the response sets `name` itself. `headers` is what _storeHeader receives: the response's
 * header map (null prototype, lower-case keys) or, for writeHead(status, headers) on a response
 * with no header set before, that argument as given (an object, a flat array, or an array of pairs).
 */
function setByResponse(headers: unknown, name: string): boolean {
  if (headers === null || typeof headers !== 'object') return false;
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i++) {
      const entry: unknown = headers[i];
      const key = Array.isArray(entry) ? entry[0] : i % 2 === 0 ? entry : undefined;
      if (typeof key === 'string' && key.toLowerCase() === name) return true;
    }
    return false;
  }
  if ((headers as Record<string, unknown>)[name] !== undefined) return true;
  return Object.getPrototypeOf(headers) !== null && Object.keys(headers).some((key) => key.toLowerCase() === name);
}

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
 * Where Node has no `_storeHeader` of the known shape (or the response is not Node's), the headers
 * are set one by one as before.
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

  function storeHeaderWithBlock(this: OutgoingMessage, firstLine: string, headers: unknown): void {
    let skip: Set<string> | undefined;
    for (const [name] of sent) if (setByResponse(headers, name)) (skip ??= new Set()).add(name);
    nodeStoreHeader!.call(this, firstLine + (skip === undefined ? whole : lines(skip)), headers);
  }

  return {
    apply(res) {
      for (const name of removed) res.removeHeader(name);
      const target = res as unknown as { _storeHeader?: StoreHeader };
      if (CAN_PREPEND && target._storeHeader === nodeStoreHeader) {
        target._storeHeader = storeHeaderWithBlock;
        return;
      }
      for (const [name, value] of sent) res.setHeader(name, value);
    },
  };
}
