import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

/**
 * The zero-setup default: PGlite (PostgreSQL compiled to WASM) persisted under DATA_DIR, served on
 * a loopback port through pglite-socket so that the one `pg` code path, pool, instrumentation and
 * migrations serve both this and a real server. PGlite runs one session; the socket server
 * multiplexes the pool's connections onto it. For development only: production requires
 * DATABASE_URL.
 */
export async function startEmbeddedDatabase(dataDir: string, maxConnections: number): Promise<EmbeddedDatabase> {
  // Loaded lazily: the WASM build is large and unused when DATABASE_URL is set.
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const dir = resolve(dataDir, 'pglite');
  mkdirSync(dir, { recursive: true });
  const db = await PGlite.create(dir);
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections });
  await server.start();
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
