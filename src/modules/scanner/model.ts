/**
 * The dependency report model, shared by the CLI, the in-service schedule and the admin route.
 * A report is either completed (the audit ran; status from the severities found) or UNKNOWN (the
 * audit could not run; it carries why). The two shapes are a union on `status`, so a report with
 * vulnerability counts but no audit, or a failure with a PASSED status, cannot be built.
 */

/** npm's severities, most severe first. */
export const SEVERITIES = ['critical', 'high', 'moderate', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Summary keys as the report shows them. */
export type SeverityLabel = Uppercase<Severity>;
export type SeveritySummary = Record<SeverityLabel, number>;

export const label = (s: Severity): SeverityLabel => s.toUpperCase() as SeverityLabel;
export const isSeverity = (s: unknown): s is Severity => typeof s === 'string' && (SEVERITIES as readonly string[]).includes(s);
/** 0 for critical … 4 for info: lower is more severe. */
export const rank = (s: Severity): number => SEVERITIES.indexOf(s);

export function emptySummary(): SeveritySummary {
  return { CRITICAL: 0, HIGH: 0, MODERATE: 0, LOW: 0, INFO: 0 };
}

/** Why a scan could not complete; bounded, used as the failure counter's `reason` label. */
export const FAILURE_REASONS = ['audit_unavailable', 'timeout', 'parse_error', 'spawn_error'] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/** How to fix one advisory, from npm's `fixAvailable`. */
export type Fix =
  | { kind: 'none' }
  /** `fixAvailable: true`: a semver-compatible update resolves it. */
  | { kind: 'audit-fix'; command: 'npm audit fix'; major: false }
  /** `fixAvailable: {name, version, isSemVerMajor}`: install that version of that package. */
  | { kind: 'upgrade'; package: string; version: string; major: boolean; command: string };

export interface AdvisoryRow {
  /** The package the advisory is about (the root of the `via` chain). */
  package: string;
  severity: Severity;
  title: string;
  url: string | null;
  /** The advisory's vulnerable version range, e.g. `<0.2.4`. */
  vulnerableRange: string;
  /** Chains from a direct dependency down to `package`, shortest first (at most a few). */
  paths: string[][];
  fix: Fix;
  /** npm's advisory id (`source`), when given. */
  id: number | string | null;
}

export type DependencyType = 'dependencies' | 'devDependencies' | 'optionalDependencies' | 'peerDependencies' | 'unknown';

export interface OutdatedRow {
  package: string;
  /** null when the package is not installed. */
  current: string | null;
  wanted: string;
  latest: string;
  type: DependencyType;
}

/** `npm outdated` is advisory: when it fails the scan still completes, with the error noted. */
export type OutdatedResult = { ok: true; rows: OutdatedRow[] } | { ok: false; error: string };

/** Distinct packages behind their latest release (a package installed twice is one row each). */
export const outdatedPackages = (rows: readonly OutdatedRow[]): number => new Set(rows.map((r) => r.package)).size;

export type Scope = 'all' | 'production';

interface ReportBase {
  generatedAt: string;
  scope: Scope;
  outdated: OutdatedResult;
  remediation: string[];
}

export interface CompletedReport extends ReportBase {
  status: 'FAILED' | 'WARNING' | 'PASSED';
  /** Vulnerable packages by severity (npm's `metadata.vulnerabilities`). */
  summary: SeveritySummary;
  advisories: AdvisoryRow[];
}

export interface UnknownReport extends ReportBase {
  status: 'UNKNOWN';
  failure: { reason: FailureReason; message: string };
}

export type Report = CompletedReport | UnknownReport;
export type Status = Report['status'];

export function statusOf(summary: SeveritySummary): CompletedReport['status'] {
  if (summary.CRITICAL > 0) return 'FAILED';
  if (summary.HIGH > 0) return 'WARNING';
  return 'PASSED';
}

/** `--fail-on` levels: a severity, or `none` to never fail on findings. */
export const FAIL_ON_LEVELS = [...SEVERITIES, 'none'] as const;
export type FailOn = (typeof FAIL_ON_LEVELS)[number];

/** True when the report has a finding at `failOn` or more severe. Never true for UNKNOWN. */
export function thresholdMet(report: Report, failOn: FailOn): boolean {
  if (report.status === 'UNKNOWN' || failOn === 'none') return false;
  return SEVERITIES.some((s) => rank(s) <= rank(failOn) && report.summary[label(s)] > 0);
}
