#!/usr/bin/env node
/**
 * `npm run security:scan`: audits the project's dependencies and gates on the result.
 * Deliberately independent of the service's configuration loader: CI runs it with no service
 * environment at all. Exit codes are the EXIT table below (also in docs/dependency-scanner.md).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FAIL_ON_LEVELS, thresholdMet, type FailOn, type Report } from './model';
import { renderText } from './render';
import { replayFromEnv, runScan } from './scan';
import { writeReport } from './store';

export const EXIT = {
  /** Audit ran; nothing at or above the --fail-on level. */
  PASS: 0,
  /** Audit ran and found something at or above the --fail-on level. */
  THRESHOLD_MET: 1,
  /** Bad flags or values. */
  USAGE: 2,
  /** The audit could not run (registry refused or unreachable, no lock file, timeout, npm missing). */
  AUDIT_UNAVAILABLE: 3,
} as const;

const USAGE = `Usage: npm run security:scan -- [options]

Runs \`npm audit --json\` and \`npm outdated --json\` and reports vulnerabilities by severity.

Options:
  --json                  print the report as JSON instead of a table
  --fail-on <level>       critical | high | moderate | low | none (default: critical):
                          exit 1 when a vulnerability at this level or above is found
  --production            audit runtime dependencies only (npm --omit=dev)
  --out <dir>             directory for report files (default: $SECURITY_SCAN_DIR or ./.security-scan)
  --keep <n>              report files to keep in --out, 1-1000 (default: $SECURITY_SCAN_KEEP or 10)
  --cwd <dir>             project to audit (default: the current directory)
  --timeout <seconds>     per npm command, 1-3600 (default: 120)
  --audit-json <file>     read npm audit JSON from a file instead of running npm audit
  --outdated-json <file>  read npm outdated JSON from a file instead of running npm outdated
                          (also $CALY_SCAN_AUDIT_FILE / $CALY_SCAN_OUTDATED_FILE)
  -h, --help              show this help

Example:
  npm run security:scan -- --production --fail-on high

Exit codes: 0 passed, 1 threshold met, 2 usage error, 3 audit could not run.
`;

class UsageError extends Error {}

interface CliOptions {
  json: boolean;
  failOn: FailOn;
  production: boolean;
  out: string;
  keep: number;
  cwd: string;
  timeoutMs: number;
  auditFile?: string;
  outdatedFile?: string;
}

function intIn(name: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw)) throw new UsageError(`${name} must be a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new UsageError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function parse(argv: string[], env: NodeJS.ProcessEnv): CliOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        json: { type: 'boolean', default: false },
        'fail-on': { type: 'string', default: 'critical' },
        production: { type: 'boolean', default: false },
        out: { type: 'string' },
        keep: { type: 'string' },
        cwd: { type: 'string' },
        timeout: { type: 'string', default: '120' },
        'audit-json': { type: 'string' },
        'outdated-json': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help';
  const failOn = values['fail-on'];
  if (!(FAIL_ON_LEVELS as readonly string[]).includes(failOn)) {
    throw new UsageError(`--fail-on must be one of ${FAIL_ON_LEVELS.join(', ')}, got "${failOn}"`);
  }
  for (const flag of ['audit-json', 'outdated-json'] as const) {
    const file = values[flag];
    if (file !== undefined && !existsSync(file)) throw new UsageError(`--${flag}: no such file: ${file}`);
  }
  const keepRaw = values.keep ?? env.SECURITY_SCAN_KEEP ?? '10';
  const replay = replayFromEnv(env);
  const auditFile = values['audit-json'] ?? replay.auditFile;
  const outdatedFile = values['outdated-json'] ?? replay.outdatedFile;
  return {
    json: values.json,
    failOn: failOn as FailOn,
    production: values.production,
    out: resolve(values.out ?? env.SECURITY_SCAN_DIR ?? './.security-scan'),
    keep: intIn(values.keep !== undefined ? '--keep' : 'SECURITY_SCAN_KEEP', keepRaw, 1, 1000),
    cwd: resolve(values.cwd ?? '.'),
    timeoutMs: intIn('--timeout', values.timeout, 1, 3600) * 1000,
    ...(auditFile ? { auditFile } : {}),
    ...(outdatedFile ? { outdatedFile } : {}),
  };
}

export function exitCodeFor(report: Report, failOn: FailOn): number {
  if (report.status === 'UNKNOWN') return EXIT.AUDIT_UNAVAILABLE;
  return thresholdMet(report, failOn) ? EXIT.THRESHOLD_MET : EXIT.PASS;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let opts: CliOptions | 'help';
  try {
    opts = parse(argv, env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`security:scan: ${err.message}\n\n${USAGE}`);
    return EXIT.USAGE;
  }
  if (opts === 'help') {
    process.stdout.write(USAGE);
    return EXIT.PASS;
  }

  const report = await runScan({
    cwd: opts.cwd,
    scope: opts.production ? 'production' : 'all',
    timeoutMs: opts.timeoutMs,
    ...(opts.auditFile ? { auditFile: opts.auditFile } : {}),
    ...(opts.outdatedFile ? { outdatedFile: opts.outdatedFile } : {}),
  });

  try {
    const file = await writeReport(opts.out, report, opts.keep);
    process.stderr.write(`security:scan: report written to ${file}\n`);
  } catch (err) {
    // The verdict below still stands; losing the file must not turn a failing scan into a pass.
    process.stderr.write(`security:scan: warning: could not write the report to ${opts.out}: ${(err as Error).message}\n`);
  }

  const color = !opts.json && process.stdout.isTTY === true && !env.NO_COLOR;
  process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : renderText(report, { color }));

  const code = exitCodeFor(report, opts.failOn);
  if (code === EXIT.AUDIT_UNAVAILABLE && report.status === 'UNKNOWN') {
    process.stderr.write(`security:scan: the audit could not run (${report.failure.reason}): ${report.failure.message}\n`);
  } else if (code === EXIT.THRESHOLD_MET) {
    process.stderr.write(`security:scan: vulnerabilities at or above "${opts.failOn}" found (status ${report.status})\n`);
  }
  return code;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: Error) => {
      process.stderr.write(`security:scan: unexpected error: ${err.stack ?? err.message}\n`);
      process.exitCode = EXIT.AUDIT_UNAVAILABLE;
    },
  );
}
