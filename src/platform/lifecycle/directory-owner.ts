import { createHash } from 'node:crypto';
import { mkdirSync, realpathSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';

/** Who holds a directory, as its owner describes itself to a process that asks. */
export interface OwnerInfo {
  pid: number;
  role: string;
  since: string;
  argv: string;
}

export interface DirectoryOwnership {
  readonly dir: string;
  release(): Promise<void>;
}

export class DirectoryInUseError extends Error {
  override name = 'DirectoryInUseError';
  constructor(
    readonly dir: string,
    readonly owner: OwnerInfo | undefined,
    advice: string,
  ) {
    const who = owner ? `process ${owner.pid} (${owner.role}, running since ${owner.since}: ${owner.argv})` : 'another live process';
    super(`${dir} is in use by ${who}. ${advice}`);
  }
}

/*
 * One owner per directory, with a lock the kernel releases: the owner listens on a Unix socket
 * named after the directory. A socket is closed by the kernel when its process dies, however it
 * dies (kill -9 included), so a dead owner never blocks a restart and no pid-alive guess is made;
 * a pid file, by contrast, outlives its process and a reused pid looks alive. Node has no flock(),
 * and the lock-file packages on npm decide staleness by age or pid, which is the guess we avoid.
 *
 * On Linux the socket lives in the abstract namespace (no file, bind is atomic). Elsewhere it is a
 * file in the directory: a bind that finds the file is resolved by connecting to it, and only a
 * refused connection (no listener: the kernel's word that the owner is gone) lets us replace it.
 * Whoever connects is told who the owner is, so a refusal can name the other process.
 */
function socketPath(dir: string): string {
  if (process.platform === 'linux') {
    const digest = createHash('sha256').update(realpathSync(dir)).digest('hex').slice(0, 40);
    return `\0caly-owner-${digest}`;
  }
  return join(dir, '.owner.sock');
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ path, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Asks the owner of `path` who it is; undefined when nobody listens there. */
export function askOwner(dir: string, timeoutMs = 1000): Promise<OwnerInfo | 'unknown' | undefined> {
  const path = socketPath(dir);
  return new Promise((resolve) => {
    let text = '';
    const sock = createConnection({ path });
    const done = (v: OwnerInfo | 'unknown' | undefined) => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(timeoutMs, () => done('unknown'));
    sock.setEncoding('utf8');
    sock.on('data', (c: string) => (text += c));
    sock.on('end', () => {
      try {
        done(JSON.parse(text) as OwnerInfo);
      } catch {
        done('unknown');
      }
    });
    sock.on('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? undefined : 'unknown'));
  });
}

/**
 * Claims `dir` for this process until release() or death. Throws DirectoryInUseError (with the
 * owner's pid and command line, and `advice`) when another live process holds it.
 */
export async function claimDirectory(dir: string, role: string, advice: string): Promise<DirectoryOwnership> {
  mkdirSync(dir, { recursive: true });
  const path = socketPath(dir);
  const me: OwnerInfo = { pid: process.pid, role, since: new Date().toISOString(), argv: process.argv.slice(1).join(' ') };
  const answer = JSON.stringify(me);
  for (let attempt = 0; ; attempt++) {
    const server = createServer((sock) => sock.end(answer));
    try {
      await listen(server, path);
      server.unref(); // the lock never keeps the process alive on its own
      return {
        dir,
        release: () => new Promise<void>((r) => server.close(() => r())),
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      const owner = await askOwner(dir);
      if (owner === undefined && attempt === 0) {
        // Nobody listens: the owner died (just now, for an abstract name; a socket file stays
        // behind on other systems and is ours to replace).
        if (!path.startsWith('\0')) unlinkSync(path);
        continue;
      }
      throw new DirectoryInUseError(dir, owner === 'unknown' ? undefined : owner, advice);
    }
  }
}
