import type { Exemplar } from './http-duration';

/** Finds the exemplar of one histogram bucket sample, by metric family, series labels and `le`. */
export type ExemplarLookup = (family: string, labels: Readonly<Record<string, string>>, le: string) => Exemplar | undefined;

export type ExpositionFormat = 'text' | 'openmetrics';

export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Prometheus base-unit words for the UCUM units our instruments use (`{thing}` units add none). */
const UNIT_WORDS: Readonly<Record<string, string>> = { s: 'seconds', By: 'bytes', ms: 'milliseconds' };

const OM_TYPES: Readonly<Record<string, string>> = { counter: 'counter', gauge: 'gauge', histogram: 'histogram', summary: 'summary', untyped: 'unknown' };

interface Family {
  /** As the exporter wrote it (a counter's ends in `_total`). */
  from: string;
  /** With the unit word: `http_server_request_duration_seconds`, `nodejs_eventloop_time_seconds_total`. */
  to: string;
  type: string;
  word: string | undefined;
}

/** The family name with its unit, as Prometheus names it (and as its OTLP translation would). */
function withUnit(name: string, type: string, unit: string | undefined): { to: string; word: string | undefined } {
  const word = unit === undefined ? undefined : (UNIT_WORDS[unit] ?? (unit === '1' && type === 'gauge' ? 'ratio' : undefined));
  if (word === undefined) return { to: name, word };
  const total = type === 'counter' && name.endsWith('_total');
  const base = total ? name.slice(0, -6) : name;
  const named = base.endsWith(`_${word}`) ? base : `${base}_${word}`;
  return { to: total ? `${named}_total` : named, word };
}

/**
 * Rewrites the OpenTelemetry Prometheus exporter's text exposition:
 * - names carry their unit, as Prometheus naming asks (`_seconds`, `_bytes`, `_ratio` for a 0–1
 *   gauge; before `_total` on counters). The JS exporter adds none, while a Collector or
 *   Prometheus' own OTLP receiver would, so rules written against the exporter's names would
 *   silently stop matching behind either;
 * - in OpenMetrics (when the scraper asks for it): a counter's family is named without `_total`,
 *   `# UNIT` is the unit word the family name ends in, `untyped` is `unknown`, no blank lines,
 *   `# EOF` closes, and histogram buckets carry their exemplar (trace and span id).
 *
 * Why by hand: the exporter has neither, and prom-client would mean a second registry of every
 * instrument. The exporter's text stays the one source of series and values.
 */
export function rewriteExposition(text: string, format: ExpositionFormat, exemplarFor: ExemplarLookup): string {
  const om = format === 'openmetrics';
  const out: string[] = [];
  let help: string | undefined;
  let unit: string | undefined;
  let family: Family | undefined;
  for (const line of text.split('\n')) {
    if (line === '') {
      if (!om) out.push(line);
      continue;
    }
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
      const from = nameOf(rest);
      const type = rest.slice(from.length + 1);
      const { to, word } = withUnit(from, type, unit);
      family = { from, to, type, word };
      const shown = om && type === 'counter' && to.endsWith('_total') ? to.slice(0, -6) : to;
      if (help !== undefined) out.push(`# HELP ${shown} ${help}`);
      if (word !== undefined) out.push(`# UNIT ${shown} ${word}`);
      out.push(`# TYPE ${shown} ${om ? (OM_TYPES[type] ?? 'unknown') : type}`);
      help = undefined;
      unit = undefined;
      continue;
    }
    if (line.startsWith('#') || family === undefined) {
      out.push(line);
      continue;
    }
    const sample = renamed(line, family);
    if (om && family.type === 'histogram' && line.startsWith(`${family.from}_bucket{`)) {
      const labels = labelsOf(line);
      const e = labels.le === undefined ? undefined : exemplarFor(family.to, labels, labels.le);
      if (e !== undefined) {
        out.push(`${sample} # {trace_id="${e.traceId}",span_id="${e.spanId}"} ${e.value} ${(e.timeMs / 1000).toFixed(3)}`);
        continue;
      }
    }
    out.push(sample);
  }
  if (om) out.push('# EOF');
  return om ? `${out.join('\n')}\n` : out.join('\n');
}

/** A sample line with its family's new name (histogram suffixes kept). */
function renamed(line: string, f: Family): string {
  if (f.from === f.to || !line.startsWith(f.from)) return line;
  return f.to + line.slice(f.from.length);
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
