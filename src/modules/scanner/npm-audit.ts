import { Ajv } from 'ajv';
import { emptySummary, isSeverity, label, rank, SEVERITIES, type AdvisoryRow, type Fix, type Severity, type SeveritySummary } from './model';

/**
 * Parses `npm audit --json` (npm 7+, `auditReportVersion: 2`). In that format `vulnerabilities`
 * is keyed by package; each entry's `via` holds advisory objects (the package itself is
 * vulnerable) or plain package names (it is vulnerable because it depends on that package). We
 * report one row per advisory, at the package the advisory names, with the dependency chains from
 * a direct dependency down to it, which is what someone fixing it needs to see.
 *
 * When npm cannot audit it still prints JSON, but an error object instead of a report: the
 * registry's `{message, method, uri, headers, statusCode, body, error}` (405 on registries that
 * serve reads only), `{error: {code: 'ENOLOCK', summary, detail}}` without a lock file, or
 * `{message, error}` when the registry is unreachable. Those are `audit_unavailable`, never a
 * clean report.
 */

export type AuditParse =
  { ok: true; summary: SeveritySummary; advisories: AdvisoryRow[] } | { ok: false; reason: 'audit_unavailable' | 'parse_error'; message: string };

interface ViaAdvisory {
  source?: number | string;
  name?: string;
  dependency?: string;
  title: string;
  url?: string;
  severity: Severity;
  range?: string;
}

interface VulnEntry {
  name?: string;
  severity: Severity;
  isDirect?: boolean;
  via: Array<string | ViaAdvisory>;
  effects?: string[];
  range?: string;
  fixAvailable?: boolean | { name: string; version: string; isSemVerMajor?: boolean };
}

interface AuditV2 {
  auditReportVersion: 2;
  vulnerabilities: Record<string, VulnEntry>;
  metadata?: { vulnerabilities?: Partial<Record<Severity | 'total', number>> };
}

const severity = { enum: [...SEVERITIES] };
const count = { type: 'integer', minimum: 0 };
// Only the fields we read are constrained; npm adds fields between versions and that must not break us.
const auditV2Schema = {
  type: 'object',
  required: ['auditReportVersion', 'vulnerabilities'],
  properties: {
    auditReportVersion: { const: 2 },
    vulnerabilities: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        required: ['severity', 'via'],
        properties: {
          name: { type: 'string' },
          severity,
          isDirect: { type: 'boolean' },
          via: {
            type: 'array',
            items: {
              anyOf: [
                { type: 'string' },
                {
                  type: 'object',
                  required: ['title', 'severity'],
                  properties: {
                    source: { type: ['integer', 'string'] },
                    name: { type: 'string' },
                    dependency: { type: 'string' },
                    title: { type: 'string' },
                    url: { type: 'string' },
                    severity,
                    range: { type: 'string' },
                  },
                },
              ],
            },
          },
          effects: { type: 'array', items: { type: 'string' } },
          range: { type: 'string' },
          fixAvailable: {
            anyOf: [
              { type: 'boolean' },
              {
                type: 'object',
                required: ['name', 'version'],
                properties: { name: { type: 'string' }, version: { type: 'string' }, isSemVerMajor: { type: 'boolean' } },
              },
            ],
          },
        },
      },
    },
    metadata: {
      type: 'object',
      properties: {
        vulnerabilities: {
          type: 'object',
          properties: { critical: count, high: count, moderate: count, low: count, info: count, total: count },
        },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true });
const validateAuditV2 = ajv.compile<AuditV2>(auditV2Schema);

/** At most this many dependency chains per advisory: enough to act on, bounded for huge trees. */
const MAX_PATHS = 5;

export function parseAudit(text: string): AuditParse {
  if (text.trim() === '') return { ok: false, reason: 'parse_error', message: 'npm audit printed no output' };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: 'parse_error', message: `npm audit printed something that is not JSON: ${(err as Error).message}` };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return { ok: false, reason: 'parse_error', message: 'npm audit printed JSON that is not an object' };
  }
  const obj = doc as Record<string, unknown>;
  if (!('auditReportVersion' in obj)) {
    const err = describeNpmError(obj);
    return err === undefined
      ? { ok: false, reason: 'parse_error', message: 'npm audit printed an object that is neither a report nor an error' }
      : { ok: false, reason: 'audit_unavailable', message: err };
  }
  if (obj.auditReportVersion !== 2) {
    return {
      ok: false,
      reason: 'parse_error',
      message: `unsupported npm audit report version ${JSON.stringify(obj.auditReportVersion)} (this scanner reads npm 7+ reports, version 2)`,
    };
  }
  if (!validateAuditV2(doc)) {
    const e = validateAuditV2.errors?.[0];
    return { ok: false, reason: 'parse_error', message: `npm audit report has an unexpected shape at ${e?.instancePath || '/'}: ${e?.message ?? 'invalid'}` };
  }
  return { ok: true, summary: summarise(doc), advisories: advisoriesOf(doc.vulnerabilities) };
}

/** A one-line explanation of npm's error object, or undefined when `obj` is not one. */
function describeNpmError(obj: Record<string, unknown>): string | undefined {
  const str = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
  const firstLine = (v: unknown) => str(v)?.split('\n')[0];
  const inner = typeof obj.error === 'object' && obj.error !== null ? (obj.error as Record<string, unknown>) : undefined;
  const code = str(inner?.code);
  const message = str(obj.message);
  const summary = firstLine(inner?.summary);
  const detail = firstLine(inner?.detail);
  if (typeof obj.statusCode === 'number') {
    const hint = obj.statusCode === 405 ? ' (the registry serves reads only: its bulk advisory endpoint is not available)' : '';
    return `npm audit could not run: the registry refused the audit request: ${message ?? `HTTP ${obj.statusCode}`}${hint}`;
  }
  if (code === 'ENOLOCK') {
    return `npm audit could not run: no lock file (ENOLOCK). ${summary ?? ''} ${detail ?? 'Create one with: npm i --package-lock-only'}`
      .replace(/\s+/g, ' ')
      .trim();
  }
  if (inner === undefined && message === undefined) return undefined;
  const parts = [message, code ? `(${code})` : undefined, summary, detail].filter((p): p is string => p !== undefined);
  return `npm audit could not run: ${parts.join(' ') || 'npm reported an error without a message'}`;
}

/** npm's own per-package counts when present (they are what `npm audit` prints), else counted here. */
function summarise(doc: AuditV2): SeveritySummary {
  const summary = emptySummary();
  const meta = doc.metadata?.vulnerabilities;
  if (meta && SEVERITIES.every((s) => typeof meta[s] === 'number')) {
    for (const s of SEVERITIES) summary[label(s)] = meta[s]!;
    return summary;
  }
  for (const entry of Object.values(doc.vulnerabilities)) summary[label(entry.severity)]++;
  return summary;
}

function fixOf(fixAvailable: VulnEntry['fixAvailable']): Fix {
  if (fixAvailable === true) return { kind: 'audit-fix', command: 'npm audit fix', major: false };
  if (typeof fixAvailable === 'object') {
    const major = fixAvailable.isSemVerMajor === true;
    return {
      kind: 'upgrade',
      package: fixAvailable.name,
      version: fixAvailable.version,
      major,
      // A major bump is outside the declared range: `npm audit fix` refuses it, so name the install.
      command: major ? `npm install ${fixAvailable.name}@${fixAvailable.version}` : 'npm audit fix',
    };
  }
  return { kind: 'none' };
}

function advisoriesOf(vulns: Record<string, VulnEntry>): AdvisoryRow[] {
  // Dependents of each vulnerable package: X lists Y in `via` (and Y lists X in `effects`) when X
  // is vulnerable because it depends on Y. Both directions are read, so either alone suffices.
  const dependents = new Map<string, Set<string>>();
  const link = (child: string, parent: string) => {
    let set = dependents.get(child);
    if (!set) dependents.set(child, (set = new Set()));
    set.add(parent);
  };
  for (const [name, entry] of Object.entries(vulns)) {
    for (const v of entry.via) if (typeof v === 'string' && v !== name) link(v, name);
    for (const e of entry.effects ?? []) if (e !== name) link(name, e);
  }

  const rows: AdvisoryRow[] = [];
  const seen = new Set<string>();
  for (const [name, entry] of Object.entries(vulns)) {
    for (const v of entry.via) {
      if (typeof v === 'string') continue;
      const id = v.source ?? null;
      const key = `${name}\u0000${id ?? v.url ?? v.title}`;
      if (seen.has(key)) continue;
      seen.add(key);
      rows.push({
        package: name,
        severity: isSeverity(v.severity) ? v.severity : entry.severity,
        title: v.title,
        url: v.url ?? null,
        vulnerableRange: v.range ?? entry.range ?? '*',
        paths: pathsTo(name, vulns, dependents),
        fix: fixOf(entry.fixAvailable),
        id,
      });
    }
  }
  return rows.sort((a, b) => rank(a.severity) - rank(b.severity) || a.package.localeCompare(b.package) || a.title.localeCompare(b.title));
}

/**
 * Shortest chains from a top package (a direct dependency, or one nothing vulnerable depends on)
 * down to `target`, breadth first so the shortest come first; cycles are cut.
 */
function pathsTo(target: string, vulns: Record<string, VulnEntry>, dependents: Map<string, Set<string>>): string[][] {
  const found: string[][] = [];
  const queue: string[][] = [[target]];
  let steps = 0;
  while (queue.length > 0 && found.length < MAX_PATHS && steps++ < 10_000) {
    const chain = queue.shift()!;
    const head = chain[0]!;
    const parents = [...(dependents.get(head) ?? [])].filter((p) => !chain.includes(p));
    if (vulns[head]?.isDirect === true || parents.length === 0) {
      found.push(chain);
      if (parents.length === 0) continue;
    }
    for (const p of parents.sort()) queue.push([p, ...chain]);
  }
  return found;
}
