import { OutgoingMessage, validateHeaderName, type ServerResponse } from 'node:http';

type StoreHeader = (this: OutgoingMessage, firstLine: string, headers: unknown) => void;

/**
 * Node builds the head of every HTTP/1 response in `OutgoingMessage.prototype._storeHeader(firstLine,
 * headers)`: the status line, then one line per entry of the response's header map. It has had that
 * shape since Node 0.x, but it is not public API, so lines are only added this way where it is there;
 * elsewhere (another Node, a response that is not Node's) every header goes through `setHeader`.
 */
const nodeStoreHeader = (OutgoingMessage.prototype as unknown as { _storeHeader?: StoreHeader })._storeHeader;
const CAN_EXTEND = typeof nodeStoreHeader === 'function' && nodeStoreHeader.length === 2;

/** Lines fixed at start-up (the security headers), rendered for one response. */
export interface FixedLines {
  /** The block's lines, less those whose names the response sets itself (namesSetByResponse). */
  linesFor(setByResponse: readonly string[]): string;
}

/** A header name checked once, at start-up, for lines a response adds as it goes. */
export interface HeadLine {
  readonly name: string;
}

export function headLine(name: string): HeadLine {
  validateHeaderName(name);
  return { name: name.toLowerCase() };
}

interface Head {
  fixed: FixedLines | undefined;
  names: string[];
  values: string[];
}
const HEAD = Symbol('caly.head');
type Extensible = OutgoingMessage & { [HEAD]?: Head; _storeHeader?: StoreHeader };

const NONE: readonly string[] = [];

/**
 * The names (lower case) of the headers the response sets itself. `headers` is what _storeHeader
 * receives: the response's header map (null prototype, lower-case keys) or, for writeHead(status,
 * headers) on a response with no header set before, that argument as given (an object, a flat
 * array, or an array of pairs). Read once per response, so that each added line costs a look at
 * these few names rather than a lookup in the header map.
 */
export function namesSetByResponse(headers: unknown): readonly string[] {
  if (headers === null || typeof headers !== 'object') return NONE;
  if (Array.isArray(headers)) {
    const names: string[] = [];
    for (let i = 0; i < headers.length; i++) {
      const entry: unknown = headers[i];
      const key = Array.isArray(entry) ? entry[0] : i % 2 === 0 ? entry : undefined;
      if (typeof key === 'string') names.push(key.toLowerCase());
    }
    return names;
  }
  const keys = Object.keys(headers);
  return Object.getPrototypeOf(headers) === null ? keys : keys.map((key) => key.toLowerCase());
}

function storeHeaderWithLines(this: Extensible, firstLine: string, headers: unknown): void {
  const head = this[HEAD]!;
  const own = namesSetByResponse(headers);
  let lines = head.fixed === undefined ? firstLine : firstLine + head.fixed.linesFor(own);
  for (let i = 0; i < head.names.length; i++) {
    const name = head.names[i]!;
    if (own.length === 0 || !own.includes(name)) lines += `${name}: ${head.values[i]!}\r\n`;
  }
  nodeStoreHeader!.call(this, lines, headers);
}

/** The response's added lines, set up on first use; undefined where its head cannot be extended. */
function headOf(res: ServerResponse): Head | undefined {
  const r = res as unknown as Extensible;
  const head = r[HEAD];
  if (head !== undefined) return head;
  if (!CAN_EXTEND || r._storeHeader !== nodeStoreHeader) return undefined;
  const made: Head = { fixed: undefined, names: [], values: [] };
  r[HEAD] = made;
  r._storeHeader = storeHeaderWithLines;
  return made;
}

/** Makes `res` carry `fixed`'s lines; false where it cannot (the caller sets them one by one). */
export function addFixedLines(res: ServerResponse, fixed: FixedLines): boolean {
  const head = headOf(res);
  if (head === undefined) return false;
  head.fixed = fixed;
  return true;
}

/**
 * An integer as the decimal string a header carries, like String(n), for values that change on
 * every response (X-RateLimit-Remaining). Why not String(n) or a template: V8 keeps the string of
 * every number converted that way in its number-string cache, which lives in old space, so a value
 * never seen before stays reachable from there until the cache slot is reused: through two
 * scavenges, and then into old space. One header made each GET /api/ping leave 30–50 bytes for the
 * mark-compact (test/integration/old-space-per-request.test.ts; bench/README.md, "Fifteenth round").
 * JSON.stringify writes a number without that cache: ~25 ns more per call than String, against the
 * scavenge copying and the old-space growth it saves. Anything but a safe integer (which JSON would
 * write differently: NaN as null) goes through String as before.
 */
export function decimal(n: number): string {
  return Number.isSafeInteger(n) ? JSON.stringify(n) : String(n);
}

/** Printable ASCII without spaces at all: what our own values (ids, numbers) look like. */
function plain(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

/**
 * Sends `line: value` in the response head, as `res.setHeader` would, for the headers the service
 * adds to most responses itself (the request id, the rate-limit headers).
 *
 * Why by hand: `setHeader` checks the name and the value with a regular expression each,
 * lower-cases the name and inserts it into the response's header map (a dictionary-mode object),
 * which `_storeHeader` then walks; for these four headers that was ~10 k of the ~250 k instructions of
 * a GET /api/ping (bench/README.md, "Seventh round"). Here the name was checked at start-up and the
 * value is checked by one pass over its characters.
 *
 * What differs from `setHeader`: the line is not in the header map, so `getHeader` does not see it
 * (`sentHeader` does), and Koa's last-resort error handler, which removes every header it can see,
 * leaves it, as it leaves the security headers. A header of the same name the response sets through
 * `setHeader` wins, as for the fixed lines. A value that is not plain ASCII goes through
 * `setHeader`, which validates it as before.
 */
export function sendHeader(res: ServerResponse, line: HeadLine, value: string): void {
  const head = plain(value) ? headOf(res) : undefined;
  if (head === undefined) {
    res.setHeader(line.name, value);
    return;
  }
  const at = head.names.indexOf(line.name);
  if (at < 0) {
    head.names.push(line.name);
    head.values.push(value);
  } else head.values[at] = value;
}

/** The value `sendHeader` (or `setHeader`) gave `name` on this response, as the head will carry it. */
export function sentHeader(res: ServerResponse, name: string): string | undefined {
  const key = name.toLowerCase();
  const own = res.getHeader(key);
  if (own !== undefined) return String(own);
  const head = (res as unknown as Extensible)[HEAD];
  const at = head === undefined ? -1 : head.names.indexOf(key);
  return at < 0 ? undefined : head!.values[at];
}
