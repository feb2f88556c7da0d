import { createServer, type AddressInfo } from 'node:net';

/**
 * A free TCP port on loopback (bound then released; the OS hands out high ephemeral ports, never
 * one of the shared services' ports).
 */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolvePort(port));
    });
  });
}
