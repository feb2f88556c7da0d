import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { DASHBOARD_FILES } from '../../scripts/observability/dashboards';
import { ROOT } from '../helpers/observability';

/**
 * Every pointer a runbook gives an operator under pressure must lead somewhere real: a
 * *Dashboard → Panel* reference names an existing panel, a backticked metric is served (or
 * recorded by a rule), a log filter names a field the log lines carry, and a quoted log message
 * is one the code writes.
 */
const runbooks = readFileSync(join(ROOT, 'docs', 'runbooks.md'), 'utf8');
const contract = readFileSync(join(ROOT, 'otel', 'metrics.md'), 'utf8');

function sourceText(dir: string): string {
  let out = '';
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out += sourceText(p);
    else if (p.endsWith('.ts')) out += readFileSync(p, 'utf8');
  }
  return out;
}

describe('runbook pointers resolve', () => {
  it('every *Dashboard → Panel* (and the panels named after it in the same section) exists', () => {
    const panels = new Map<string, Set<string>>();
    for (const d of Object.values(DASHBOARD_FILES)) panels.set(d.title.replace(/^Caly API \/ /, ''), new Set(d.panels.map((p) => p.title)));
    const refs: string[] = [];
    const missing: string[] = [];
    for (const section of runbooks.split(/^## /m)) {
      let dashboard: string | undefined;
      for (const m of section.matchAll(/(?<!\*)\*([^*]+)\*(?!\*)/g)) {
        const text = m[1]!.replace(/\s+/g, ' ').trim();
        const arrow = text.split(' → ');
        if (arrow.length === 2 && panels.has(arrow[0]!)) dashboard = arrow[0]!;
        else if (arrow.length > 1) continue; // Grafana Explore or Prometheus UI, not a dashboard
        if (dashboard === undefined) continue;
        const panel = arrow.length === 2 ? arrow[1]! : text;
        refs.push(`${dashboard} → ${panel}`);
        if (!panels.get(dashboard)!.has(panel)) missing.push(`${dashboard} → ${panel}`);
      }
    }
    expect(refs.length).to.be.greaterThan(15);
    expect(missing, 'panels the runbooks point at that do not exist').to.deep.equal([]);
  });

  it('every backticked metric is served (otel/metrics.md) or recorded by a rule', () => {
    const declared = new Set([...contract.matchAll(/^\| `([a-z_:0-9]+)`/gm)].map((m) => m[1]!));
    const rules = readdirSync(join(ROOT, 'otel', 'prometheus', 'rules'))
      .map((f) => readFileSync(join(ROOT, 'otel', 'prometheus', 'rules', f), 'utf8'))
      .join('\n');
    const recorded = new Set([...rules.matchAll(/record: (\S+)/g)].map((m) => m[1]!));
    // Label names (the third column of the metric tables) look like metric names but are not.
    const labels = new Set(
      contract
        .split('\n')
        .filter((l) => l.startsWith('| `'))
        .flatMap((l) => [...(l.split('|')[3] ?? '').matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!)),
    );
    const names = [...runbooks.matchAll(/`((?:caly|http|db|otel|nodejs|v8js|slo|job|target)_[a-z0-9_:]*)(?:\{[^`]*\})?`/g)]
      .map((m) => m[1]!)
      .filter((n) => !labels.has(n));
    expect(names.length).to.be.greaterThan(5);
    const unknown = names.filter((n) => !declared.has(n) && !declared.has(n.replace(/_(bucket|sum|count)$/, '')) && !recorded.has(n));
    expect([...new Set(unknown)], 'metrics the runbooks name that /metrics does not serve').to.deep.equal([]);
  });

  it('every log filter names a field the log lines carry, and every quoted message is written by the code', () => {
    const logSection = contract.slice(contract.indexOf('## Log lines'));
    const fields = new Set([...logSection.matchAll(/`([a-z_.]+)`/g)].map((m) => m[1]!));
    // Label matchers (`slo="latency"`, `le="0.5"`, `severity=page`) filter series and alerts, not logs.
    const labels = new Set(['severity', 'team', 'slo', 'le', 'job', 'instance', 'alertname', 'error_type', 'limiter', 'kind', 'outcome', 'http_route']);
    const filters = [...runbooks.matchAll(/`([a-z_]+)(?:=|>=|<=|>|<)[^`]*`/g)].map((m) => m[1]!).filter((f) => !labels.has(f));
    expect(filters.length).to.be.greaterThan(3);
    const unknownFields = filters.filter((f) => !fields.has(f));
    expect([...new Set(unknownFields)], 'log fields the runbooks filter on that no log line carries (otel/metrics.md, Log lines)').to.deep.equal([]);
    const src = sourceText(join(ROOT, 'src'));
    const messages = [...runbooks.matchAll(/msg: "([^"]+)"/g)].map((m) => m[1]!);
    expect(messages.length).to.be.greaterThan(1);
    const unwritten = messages.filter((m) => !src.includes(`'${m}'`) && !src.includes(`\`${m}`) && !src.includes(`"${m}"`) && !/^Dropped N spans/.test(m));
    expect(unwritten, 'log messages the runbooks quote that the code never writes').to.deep.equal([]);
  });
});
