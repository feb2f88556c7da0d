import { request } from 'node:http';

/**
 * One HTTP request with node:http rather than fetch: fetch normalises paths (double slashes,
 * dot segments, case) and refuses many of the malformed requests an attacker sends.
 */
export function raw(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string | Buffer,
): Promise<{ status: number; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path, headers }, (res) => {
      let b = '';
      res.setEncoding('utf8').on('data', (c: string) => (b += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
