import type { Exemplar } from './http-duration';

/** Finds the exemplar of one histogram bucket sample, by metric family, series labels and `le`. */
export type ExemplarLookup = (family: string, labels: Readonly<Record<string, string>>, le: string) => Exemplar | undefined;

export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/** OpenMetrics unit words for the UCUM units our instruments use. */
const UNIT_WORDS: Readonly<Record<string, string>> = { s: 'seconds', ms: 'milliseconds', By: 'bytes', 1: 'ratio' };

const OM_TYPES: Readonly<Record<string, string>> = { counter: 'counter', gauge: 'gauge', histogram: 'histogram', summary: 'summary', untyped: 'unknown' };

/**
 * Rewrites the OpenTelemetry Prometheus exporter's text exposition (format 0.0.4) as OpenMetrics
 * 1.0, adding exemplars to histogram buckets.
 *
 * Why by hand: the exporter has no OpenMetrics output, and prom-client's would mean a second
 * registry of every instrument. The two formats differ only in framing, so the exporter's text
 * is the single source of names and values, and the plain-text scrape stays byte-identical:
 * - a counter's family is named without `_total` (its samples keep it);
 * - `# UNIT` is written only when the family name ends in the unit, as OpenMetrics requires
 *   (the exporter writes the UCUM unit, e.g. `s`, for any name);
 * - `untyped` is `unknown`; no blank lines; `# EOF` closes the exposition.
 */
export function toOpenMetrics(text: string, exemplarFor: ExemplarLookup): string {
  const out: string[] = [];
  let help: string | undefined;
  let unit: string | undefined;
  let family = '';
  let type = '';
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# HELP ')) {
      help = line.slice(7 + nameOf(line.slice(7)).length + 1);
      continue;
    }
    if (line.startsWith('# UNIT ')) {
      const rest = line.slice(7);
      unit = rest.slice(nameOf(rest).length + 1);
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const rest = line.slice(7);
      const name = nameOf(rest);
      type = rest.slice(name.length + 1);
      family = type === 'counter' && name.endsWith('_total') ? name.slice(0, -6) : name;
      if (help !== undefined) out.push(`# HELP ${family} ${help}`);
      const word = unit === undefined ? undefined : UNIT_WORDS[unit];
      if (word !== undefined && family.endsWith(`_${word}`)) out.push(`# UNIT ${family} ${word}`);
      out.push(`# TYPE ${family} ${OM_TYPES[type] ?? 'unknown'}`);
      help = undefined;
      unit = undefined;
      continue;
    }
    if (line.startsWith('#')) continue;
    if (type === 'histogram' && line.startsWith(`${family}_bucket{`)) {
      const labels = labelsOf(line);
      const e = labels.le === undefined ? undefined : exemplarFor(family, labels, labels.le);
      if (e !== undefined) {
        out.push(`${line} # {trace_id="${e.traceId}",span_id="${e.spanId}"} ${e.value} ${(e.timeMs / 1000).toFixed(3)}`);
        continue;
      }
    }
    out.push(line);
  }
  out.push('# EOF');
  return `${out.join('\n')}\n`;
}

function nameOf(rest: string): string {
  const i = rest.indexOf(' ');
  return i < 0 ? rest : rest.slice(0, i);
}

/** Label pairs of one sample line; values keep their exposition escaping (compared, never shown). */
function labelsOf(line: string): Record<string, string> {
  const open = line.indexOf('{');
  const close = line.lastIndexOf('}');
  const labels: Record<string, string> = {};
  for (const m of line.slice(open + 1, close).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]!] = m[2]!;
  return labels;
}

/** Whether a scraper asked for OpenMetrics (Prometheus lists it first in its Accept header). */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  return accept !== undefined && accept.includes('application/openmetrics-text');
}
