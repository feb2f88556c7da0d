import { readFile } from 'node:fs/promises';
import type { OutdatedResult, Report, Scope } from './model';
import { parseAudit } from './npm-audit';
import { parseOutdated } from './npm-outdated';
import { buildReport, type AuditOutcome } from './report';
import { runCommand, type CommandResult } from './run-command';

/**
 * One scan: `npm audit --json` then `npm outdated --json --long`, one after the other (two npm
 * processes at once would compete for the same few cores as the service), each bounded in time.
 *
 * Either output can instead be replayed from a file holding npm's own JSON (`auditFile`,
 * `outdatedFile`): how tests and CI fixtures drive the scanner while the registry's audit
 * endpoint is unreachable, and how a report produced elsewhere can be re-evaluated.
 */
export interface ScanOptions {
  /** The project to audit (its package.json and lock file). */
  cwd: string;
  scope: Scope;
  /** Per npm command. */
  timeoutMs: number;
  signal?: AbortSignal;
  auditFile?: string;
  outdatedFile?: string;
  /** Defaults to `npm` on PATH. */
  npmCommand?: string;
  now?: () => Date;
}

export class ScanAbortedError extends Error {
  override name = 'ScanAbortedError';
}

/** Environment variables that make any scan (CLI or in-service) replay npm output from files. */
export const REPLAY_ENV = { audit: 'CALY_SCAN_AUDIT_FILE', outdated: 'CALY_SCAN_OUTDATED_FILE' } as const;

export function replayFromEnv(env: NodeJS.ProcessEnv): Pick<ScanOptions, 'auditFile' | 'outdatedFile'> {
  const audit = env[REPLAY_ENV.audit];
  const outdated = env[REPLAY_ENV.outdated];
  return { ...(audit ? { auditFile: audit } : {}), ...(outdated ? { outdatedFile: outdated } : {}) };
}

export async function runScan(opts: ScanOptions): Promise<Report> {
  const generatedAt = (opts.now ?? (() => new Date()))();
  const omitDev = opts.scope === 'production' ? ['--omit=dev'] : [];
  const audit = await auditStep(opts, omitDev);
  const outdated = await outdatedStep(opts, omitDev);
  return buildReport({ generatedAt, scope: opts.scope, audit, outdated });
}

async function auditStep(opts: ScanOptions, omitDev: string[]): Promise<AuditOutcome> {
  if (opts.auditFile) {
    const text = await readReplay(opts.auditFile);
    return text.ok ? parseAudit(text.text) : { ok: false, reason: 'spawn_error', message: text.error };
  }
  const r = await npm(opts, ['audit', '--json', ...omitDev]);
  switch (r.kind) {
    case 'aborted':
      throw new ScanAbortedError('scan stopped');
    case 'spawn_error':
      return { ok: false, reason: 'spawn_error', message: r.message };
    case 'timeout':
      return { ok: false, reason: 'timeout', message: `npm audit did not finish within ${Math.round(opts.timeoutMs / 1000)} s and was stopped` };
    case 'too_large':
      return { ok: false, reason: 'parse_error', message: `npm audit printed more than ${r.limitBytes} bytes` };
    case 'exited': {
      const parsed = parseAudit(r.stdout);
      // With nothing on stdout, npm's own stderr line is the only useful explanation.
      if (!parsed.ok && r.stdout.trim() === '') return { ...parsed, message: `${parsed.message} (exit ${r.code ?? r.signal}): ${lastLine(r.stderr)}` };
      return parsed;
    }
  }
}

async function outdatedStep(opts: ScanOptions, omitDev: string[]): Promise<OutdatedResult> {
  if (opts.outdatedFile) {
    const text = await readReplay(opts.outdatedFile);
    return text.ok ? parseOutdated(text.text) : { ok: false, error: text.error };
  }
  const r = await npm(opts, ['outdated', '--json', '--long', ...omitDev]);
  switch (r.kind) {
    case 'aborted':
      throw new ScanAbortedError('scan stopped');
    case 'spawn_error':
      return { ok: false, error: r.message };
    case 'timeout':
      return { ok: false, error: `npm outdated did not finish within ${Math.round(opts.timeoutMs / 1000)} s and was stopped` };
    case 'too_large':
      return { ok: false, error: `npm outdated printed more than ${r.limitBytes} bytes` };
    case 'exited':
      return parseOutdated(r.stdout);
  }
}

function npm(opts: ScanOptions, args: string[]): Promise<CommandResult> {
  return runCommand(opts.npmCommand ?? 'npm', args, {
    cwd: opts.cwd,
    timeoutMs: opts.timeoutMs,
    ...(opts.signal ? { signal: opts.signal } : {}),
    // No funding or update banners in the output we parse; colour codes never belong in JSON.
    env: { ...process.env, npm_config_fund: 'false', npm_config_update_notifier: 'false', npm_config_color: 'false' },
  });
}

async function readReplay(file: string): Promise<{ ok: true; text: string } | { ok: false; error: string }> {
  try {
    return { ok: true, text: await readFile(file, 'utf8') };
  } catch (err) {
    return { ok: false, error: `could not read the replay file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
}

const lastLine = (s: string) =>
  s
    .trim()
    .split('\n')
    .filter((l) => l.trim() !== '')
    .pop() ?? 'no output on stderr';
