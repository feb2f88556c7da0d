import { SEVERITIES, label, type AdvisoryRow, type Fix, type Report } from './model';

/**
 * The terminal rendering of a report. A plain fixed-width table written here because none of our
 * dependencies draws one (cli-table3 is only in the tree through a dev tool); it is a few lines.
 * Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org).
 */

export interface RenderOptions {
  color: boolean;
}

const ANSI = { red: 31, yellow: 33, green: 32, magenta: 35, cyan: 36, dim: 2, bold: 1 } as const;
type Style = keyof typeof ANSI;

export function renderText(report: Report, opts: RenderOptions): string {
  const paint = (s: string, style: Style) => (opts.color ? `\u001b[${ANSI[style]}m${s}\u001b[0m` : s);
  const statusStyle: Record<Report['status'], Style> = { FAILED: 'red', WARNING: 'yellow', PASSED: 'green', UNKNOWN: 'magenta' };
  const lines: string[] = [];

  lines.push(`${paint('Dependency scan:', 'bold')} ${paint(report.status, statusStyle[report.status])}  (scope: ${report.scope}, ${report.generatedAt})`);
  lines.push('');
  if (report.status === 'UNKNOWN') {
    lines.push(paint(`Vulnerabilities: unknown [${report.failure.reason}]`, 'magenta'));
    lines.push(`  ${report.failure.message}`);
    lines.push('');
  } else {
    lines.push(`Vulnerable packages   ${SEVERITIES.map((s) => `${label(s)} ${report.summary[label(s)]}`).join('   ')}`);
    lines.push('');
    if (report.advisories.length > 0) {
      lines.push(paint(`Advisories (${report.advisories.length})`, 'bold'));
      lines.push(
        ...table(
          ['SEVERITY', 'PACKAGE', 'TITLE', 'VULNERABLE', 'PATH', 'FIX', 'ADVISORY'],
          report.advisories.map((a) => [label(a.severity), a.package, a.title, a.vulnerableRange, pathText(a), fixText(a.fix), a.url ?? '-']),
          [10, 28, 44, 16, 40, 56, 50],
        ),
      );
      lines.push('');
    }
  }

  if (!report.outdated.ok) lines.push(`Outdated packages: unknown (${report.outdated.error})`);
  else if (report.outdated.rows.length === 0) lines.push('Outdated packages: none');
  else {
    lines.push(paint(`Outdated packages (${report.outdated.rows.length})`, 'bold'));
    lines.push(
      ...table(
        ['PACKAGE', 'CURRENT', 'WANTED', 'LATEST', 'TYPE'],
        report.outdated.rows.map((r) => [r.package, r.current ?? 'missing', r.wanted, r.latest, r.type]),
        [40, 16, 16, 16, 20],
      ),
    );
  }
  lines.push('');
  lines.push(paint('Remediation', 'bold'));
  for (const r of report.remediation) lines.push(`  - ${r}`);
  return `${lines.join('\n')}\n`;
}

function pathText(a: AdvisoryRow): string {
  const first = a.paths[0]?.join(' > ') ?? a.package;
  return a.paths.length > 1 ? `${first} (+${a.paths.length - 1})` : first;
}

export function fixText(fix: Fix): string {
  switch (fix.kind) {
    case 'none':
      return 'no fix available';
    case 'audit-fix':
      return fix.command;
    case 'upgrade':
      return `${fix.package}@${fix.version}${fix.major ? ' (MAJOR)' : ''}: ${fix.command}`;
  }
}

/** Left-aligned columns, each as wide as its widest cell up to its cap; longer cells end in '…'. */
function table(header: string[], rows: string[][], caps: number[]): string[] {
  const cut = (s: string, w: number) => (s.length > w ? `${s.slice(0, Math.max(0, w - 1))}…` : s);
  const widths = header.map((h, i) => Math.min(caps[i] ?? 40, Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => cut(c, widths[i]!).padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}
