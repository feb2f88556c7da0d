import net from 'node:net';

/**
 * A TCP proxy the test controls, placed between the service and PostgreSQL, to make the real
 * database slow (latency) or unreachable (cut) without touching the shared server.
 */
export interface TcpProxy {
  port: number;
  url(database: string): string;
  /** Extra delay added to every chunk in both directions. */
  setLatency(ms: number): void;
  /** Drops every open connection and refuses new ones until restore(). */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let latency = 0;
  let down = false;
  const sockets = new Set<net.Socket>();
  const delay = (fn: () => void) => (latency > 0 ? setTimeout(fn, latency) : fn());

  const server = net.createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('data', (d) => delay(() => upstream.write(d)));
    upstream.on('data', (d) => delay(() => client.write(d)));
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    setLatency: (ms) => {
      latency = ms;
    },
    cut() {
      down = true;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    restore() {
      down = false;
    },
    close: () =>
      new Promise<void>((r) => {
        down = true;
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
