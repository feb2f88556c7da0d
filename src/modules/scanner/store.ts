import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SEVERITIES, label, type CompletedReport, type Report } from './model';

/**
 * Reports on disk: one JSON file per scan, `report-<ISO time>.json`, keeping the newest `keep`.
 * Names sort by time, so rotation is a sort. Only files matching our own name pattern are ever
 * deleted (the directory may be shared with other things). Written to a temporary name and
 * renamed, so a reader never sees half a report.
 */

const NAME = /^report-(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z)(?:-[0-9a-f]{6})?\.json$/;

export const reportFileName = (generatedAt: string, suffix = randomBytes(3).toString('hex')) => `report-${generatedAt.replace(/[:.]/g, '-')}-${suffix}.json`;

export async function listReports(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names.filter((n) => NAME.test(n)).sort();
}

/** Writes the report, prunes to the newest `keep`, and returns the new file's path. */
export async function writeReport(dir: string, report: Report, keep: number): Promise<string> {
  await mkdir(dir, { recursive: true });
  const name = reportFileName(report.generatedAt);
  const path = join(dir, name);
  const tmp = join(dir, `.${name}.${process.pid}.tmp`);
  await writeFile(tmp, `${JSON.stringify(report, null, 2)}\n`, { mode: 0o640 });
  await rename(tmp, path);
  const all = await listReports(dir);
  for (const old of all.slice(0, Math.max(0, all.length - keep))) {
    await unlink(join(dir, old)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err; // another replica pruned it first
    });
  }
  return path;
}

/** The newest report and the newest completed (not UNKNOWN) one, read back after a restart. */
export async function readLatestReports(dir: string): Promise<{ latest?: Report; lastSuccessful?: CompletedReport }> {
  const out: { latest?: Report; lastSuccessful?: CompletedReport } = {};
  for (const name of (await listReports(dir)).reverse()) {
    let report: unknown;
    try {
      report = JSON.parse(await readFile(join(dir, name), 'utf8'));
    } catch {
      continue; // unreadable or foreign: skip, never crash startup on it
    }
    if (!looksLikeReport(report)) continue;
    out.latest ??= report;
    if (report.status !== 'UNKNOWN') {
      out.lastSuccessful = report;
      break;
    }
  }
  return out;
}

/** Enough of a shape check that a hand-edited or truncated file cannot break the gauges. */
function looksLikeReport(r: unknown): r is Report {
  if (typeof r !== 'object' || r === null) return false;
  const x = r as Omit<Partial<CompletedReport>, 'status'> & { status?: unknown; failure?: unknown };
  if (typeof x.generatedAt !== 'string' || Number.isNaN(Date.parse(x.generatedAt))) return false;
  if (x.status === 'UNKNOWN') return typeof x.failure === 'object' && x.failure !== null;
  if (x.status !== 'FAILED' && x.status !== 'WARNING' && x.status !== 'PASSED') return false;
  const summary = x.summary as Record<string, unknown> | undefined;
  return (
    typeof summary === 'object' &&
    summary !== null &&
    SEVERITIES.every((s) => typeof summary[label(s)] === 'number') &&
    Array.isArray(x.advisories) &&
    typeof x.outdated === 'object' &&
    x.outdated !== null
  );
}
