import { request } from 'node:http';

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
