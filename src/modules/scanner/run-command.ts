import { spawn } from 'node:child_process';

/**
 * Runs one command as a child process and collects its output, never blocking the event loop
 * (execSync here would freeze every request for the length of an audit).
 * The exit code is returned, not judged: `npm audit` exits 1 whenever it finds vulnerabilities
 * and `npm outdated` whenever anything is outdated, so callers read the output instead.
 * Bounded in time (the whole process group is killed: npm may start children of its own) and in
 * output size.
 */

export type CommandResult =
  | { kind: 'exited'; code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }
  | { kind: 'timeout'; stdout: string; stderr: string }
  | { kind: 'aborted' }
  | { kind: 'spawn_error'; message: string }
  | { kind: 'too_large'; limitBytes: number };

export interface CommandOptions {
  cwd: string;
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** stdout beyond this is an error, not a truncated report. */
  maxOutputBytes?: number;
  /** Between SIGTERM and SIGKILL. */
  killGraceMs?: number;
}

const STDERR_KEEP = 8192;

export function runCommand(command: string, args: readonly string[], opts: CommandOptions): Promise<CommandResult> {
  const maxOutput = opts.maxOutputBytes ?? 64 * 1024 * 1024;
  return new Promise((resolve) => {
    if (opts.signal?.aborted) return resolve({ kind: 'aborted' });
    let settled = false;
    const finish = (r: CommandResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(r);
    };

    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so a kill reaches npm's children too.
      detached: process.platform !== 'win32',
    });

    const out: Buffer[] = [];
    let outBytes = 0;
    let err = '';
    let ending: 'timeout' | 'aborted' | 'too_large' | undefined;
    let killTimer: NodeJS.Timeout | undefined;

    const kill = (why: NonNullable<typeof ending>) => {
      if (ending) return;
      ending = why;
      signalGroup('SIGTERM');
      killTimer = setTimeout(() => signalGroup('SIGKILL'), opts.killGraceMs ?? 2000);
      killTimer.unref();
    };
    const signalGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(process.platform === 'win32' ? child.pid : -child.pid, sig);
      } catch {
        child.kill(sig);
      }
    };
    const onAbort = () => kill('aborted');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => kill('timeout'), opts.timeoutMs);
    timer.unref();

    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > maxOutput) return kill('too_large');
      out.push(chunk);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      err = (err + chunk).slice(-STDERR_KEEP);
    });
    child.once('error', (e) => finish({ kind: 'spawn_error', message: `could not run ${command}: ${e.message}` }));
    child.once('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString('utf8');
      if (ending === 'timeout') return finish({ kind: 'timeout', stdout, stderr: err });
      if (ending === 'aborted') return finish({ kind: 'aborted' });
      if (ending === 'too_large') return finish({ kind: 'too_large', limitBytes: maxOutput });
      finish({ kind: 'exited', code, signal, stdout, stderr: err });
    });
  });
}
