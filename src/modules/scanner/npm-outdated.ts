import { Ajv } from 'ajv';
import type { DependencyType, OutdatedResult, OutdatedRow } from './model';

/**
 * Parses `npm outdated --json --long`: an object keyed by package, each value one instance
 * `{current?, wanted, latest, dependent, location?, type}` or, when several dependents resolve the
 * package differently, an array of them. `current` is missing for packages not installed. On
 * failure npm prints `{error: {code, summary, detail}}` instead (a package can be named `error`,
 * so the error is recognised by its shape, not its key).
 */

interface Instance {
  current?: string;
  wanted: string;
  latest: string;
  type?: string;
}

const instance = {
  type: 'object',
  required: ['wanted', 'latest'],
  properties: { current: { type: 'string' }, wanted: { type: 'string' }, latest: { type: 'string' }, type: { type: 'string' } },
} as const;
const outdatedSchema = {
  type: 'object',
  additionalProperties: { anyOf: [instance, { type: 'array', items: instance }] },
} as const;

const ajv = new Ajv({ strict: true, allowUnionTypes: true });
const validateOutdated = ajv.compile<Record<string, Instance | Instance[]>>(outdatedSchema);

const TYPES: readonly DependencyType[] = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'];
const typeOf = (t: string | undefined): DependencyType => ((TYPES as readonly string[]).includes(t ?? '') ? (t as DependencyType) : 'unknown');

export function parseOutdated(text: string): OutdatedResult {
  // Older npm versions print nothing at all when everything is current.
  if (text.trim() === '') return { ok: true, rows: [] };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `npm outdated printed something that is not JSON: ${(err as Error).message}` };
  }
  const err = npmError(doc);
  if (err !== undefined) return { ok: false, error: `npm outdated failed: ${err}` };
  if (!validateOutdated(doc)) {
    const e = validateOutdated.errors?.[0];
    return { ok: false, error: `npm outdated output has an unexpected shape at ${e?.instancePath || '/'}: ${e?.message ?? 'invalid'}` };
  }
  const rows: OutdatedRow[] = [];
  for (const [pkg, value] of Object.entries(doc)) {
    const seen = new Set<string>();
    for (const i of Array.isArray(value) ? value : [value]) {
      const row: OutdatedRow = { package: pkg, current: i.current ?? null, wanted: i.wanted, latest: i.latest, type: typeOf(i.type) };
      const key = `${row.current}|${row.wanted}|${row.latest}|${row.type}`;
      if (seen.has(key)) continue;
      seen.add(key);
      rows.push(row);
    }
  }
  return { ok: true, rows: rows.sort((a, b) => a.package.localeCompare(b.package)) };
}

function npmError(doc: unknown): string | undefined {
  if (typeof doc !== 'object' || doc === null) return undefined;
  const e = (doc as Record<string, unknown>).error;
  if (typeof e !== 'object' || e === null || 'wanted' in e) return undefined;
  const { code, summary } = e as Record<string, unknown>;
  const text = [typeof summary === 'string' ? summary.split('\n')[0] : undefined, typeof code === 'string' ? `(${code})` : undefined].filter(Boolean).join(' ');
  return text || 'unknown error';
}
