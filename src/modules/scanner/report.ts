import { outdatedPackages, statusOf, type AdvisoryRow, type FailureReason, type OutdatedResult, type Report, type Scope, type SeveritySummary } from './model';

/** What the audit step produced: a parsed report, or why there is none. */
export type AuditOutcome = { ok: true; summary: SeveritySummary; advisories: AdvisoryRow[] } | { ok: false; reason: FailureReason; message: string };

export function buildReport(input: { generatedAt: Date; scope: Scope; audit: AuditOutcome; outdated: OutdatedResult }): Report {
  const { audit, outdated, scope } = input;
  const generatedAt = input.generatedAt.toISOString();
  if (!audit.ok) {
    const failure = { reason: audit.reason, message: audit.message };
    return { status: 'UNKNOWN', generatedAt, scope, failure, outdated, remediation: [...failureAdvice(failure), ...outdatedAdvice(outdated)] };
  }
  const base = { generatedAt, scope, summary: audit.summary, advisories: audit.advisories, outdated };
  return { status: statusOf(audit.summary), ...base, remediation: [...vulnerabilityAdvice(audit.advisories, audit.summary), ...outdatedAdvice(outdated)] };
}

function failureAdvice(failure: { reason: FailureReason; message: string }): string[] {
  const advice = ['The vulnerability status is UNKNOWN, not PASSED: nothing was audited. Fix the cause and scan again.'];
  if (/ENOLOCK|lock file/i.test(failure.message))
    advice.push('Commit a lock file (npm i --package-lock-only) so that npm audit can resolve the dependency tree.');
  else if (failure.reason === 'audit_unavailable')
    advice.push('Check that the registry answers POST /-/npm/v1/security/advisories/bulk (npm config get registry); a read-only mirror cannot audit.');
  else if (failure.reason === 'timeout') advice.push('npm audit did not answer in time: check registry latency, or raise --timeout.');
  else if (failure.reason === 'spawn_error') advice.push('Check that npm is installed and on PATH for the process running the scan.');
  return advice;
}

function vulnerabilityAdvice(rows: AdvisoryRow[], summary: SeveritySummary): string[] {
  const total = Object.values(summary).reduce((a, b) => a + b, 0);
  if (total === 0) return ['No known vulnerabilities in the audited dependencies.'];
  const advice: string[] = [];
  const compatible = rows.filter((r) => r.fix.kind === 'audit-fix' || (r.fix.kind === 'upgrade' && !r.fix.major));
  if (compatible.length > 0) {
    advice.push(`Run \`npm audit fix\`: it resolves ${compatible.length} advisor${compatible.length === 1 ? 'y' : 'ies'} within the declared version ranges.`);
  }
  const majors = new Map<string, string>();
  for (const r of rows) if (r.fix.kind === 'upgrade' && r.fix.major) majors.set(`${r.fix.package}@${r.fix.version}`, r.fix.command);
  for (const [target, command] of majors) {
    advice.push(`${target} is a major upgrade (breaking changes likely): review its changelog, then \`${command}\` and run the tests.`);
  }
  for (const r of rows.filter((x) => x.fix.kind === 'none')) {
    advice.push(
      `No fix is available for ${r.package} (${r.title}): check whether the vulnerable code is reachable, replace or override the package, and follow ${r.url ?? 'the advisory'}.`,
    );
  }
  if (summary.CRITICAL > 0 || summary.HIGH > 0) advice.push('Critical and high findings first: they fail (critical) or warn (high) the scan.');
  return advice;
}

function outdatedAdvice(outdated: OutdatedResult): string[] {
  if (!outdated.ok) return [`Outdated packages unknown: ${outdated.error}`];
  if (outdated.rows.length === 0) return [];
  const n = outdatedPackages(outdated.rows);
  const inRange = new Set(outdated.rows.filter((r) => r.current !== null && r.current !== r.wanted).map((r) => r.package)).size;
  const missing = new Set(outdated.rows.filter((r) => r.current === null).map((r) => r.package)).size;
  const advice = [`${n} package${n === 1 ? ' is' : 's are'} behind the latest release.`];
  if (inRange > 0) advice.push(`${inRange} can move within their declared ranges: \`npm update\`.`);
  if (missing > 0) advice.push(`${missing} declared but not installed: \`npm install\` (or \`npm ci\`).`);
  return advice;
}
