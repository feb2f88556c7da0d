import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * One HTTP request with node:http rather than fetch: fetch normalises paths (double slashes,
 * dot segments, case) and refuses many of the malformed requests an attacker sends, and joins
 * repeated headers. `headers` lists the response's header lines as sent, names in lower case.
 */
export function raw(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string | Buffer,
): Promise<{ status: number; body: string; headers: Array<[name: string, value: string]> }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path, headers }, (res) => {
      let b = '';
      res.setEncoding('utf8').on('data', (c: string) => (b += c));
      const lines: Array<[string, string]> = [];
      for (let i = 0; i < res.rawHeaders.length; i += 2) lines.push([res.rawHeaders[i]!.toLowerCase(), res.rawHeaders[i + 1]!]);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b, headers: lines }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The values of header `name` (lower case) among a response's header lines as `raw` returns them, in order. */
export function headerValues(headers: Array<[string, string]>, name: string): string[] {
  return headers.filter(([n]) => n === name).map(([, v]) => v);
}

/**
 * What Koa's last-resort error handler does to a response before it answers 500: every header it
 * can see is removed. Headers written into the head itself must survive it.
 */
export function endAsKoaOnUnhandledError(res: ServerResponse): void {
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  res.statusCode = 500;
  res.end();
}

export interface HandlerServer {
  readonly url: string;
  /** What the next requests meet; a handler that throws is answered 599 with the error's code. */
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  close(): Promise<void>;
}

/** A plain node:http server on a loopback port, for tests of what a response puts on the wire. */
export async function handlerServer(): Promise<HandlerServer> {
  const server = createServer((req, res) => {
    try {
      s.handler(req, res);
    } catch (err) {
      res.statusCode = 599;
      res.end((err as NodeJS.ErrnoException).code ?? String(err));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const s: HandlerServer = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    handler: (_req, res) => res.end(),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
  return s;
}
