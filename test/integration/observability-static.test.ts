import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { renderDashboard } from '../../scripts/generate-dashboards';
import { DASHBOARD_FILES } from '../../scripts/observability/dashboards';
import { generateRuleFiles } from '../../scripts/observability/generate';
import { loadSloConfig } from '../../scripts/observability/slo-config';
import { ALERTMANAGER_CONFIG, BIN, PROMETHEUS_DIR, ROOT, loadDashboards, panelQueries, run, selectedMetricNames, which } from '../helpers/observability';

/*
 * Observability as code, checked offline: generated rules and dashboards match their generators,
 * promtool/amtool accept and unit-test the rules and routes, every alert has a runbook, every
 * metric name exists in the telemetry contract, dashboards type-check against @grafana/schema,
 * and the Collector, Grafana provisioning, Dockerfile and docker-compose.yml hold together.
 */

type Rule = { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
const RULE_FILES = ['recording.yml', 'slo.yml', 'alerts.yml'] as const;
const rulesOf = (file: string): Rule[] =>
  (parse(readFileSync(join(PROMETHEUS_DIR, 'rules', file), 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules);
const allRules = () => RULE_FILES.flatMap(rulesOf);
const alerts = () => allRules().filter((r) => r.alert);
const alertNames = () => [...new Set(alerts().map((r) => r.alert!))].sort();

/** Skips the current test with a printed reason when a binary is missing (never silently). */
function need(ctx: Mocha.Context, name: keyof typeof BIN): string {
  const bin = which(name);
  if (!bin) {
    console.log(`      skipped: ${BIN[name]} is not installed (apt-get install prometheus prometheus-alertmanager docker-compose)`);
    ctx.skip();
  }
  return bin!;
}

describe('observability: rules generated from otel/slo.yaml', () => {
  it('the committed rule files equal the generator output (no hand edits)', () => {
    const generated = generateRuleFiles();
    for (const file of RULE_FILES) {
      expect(readFileSync(join(PROMETHEUS_DIR, 'rules', file), 'utf8'), `${file} drifted: run npm run rules:generate`).to.equal(generated[file]);
    }
  });

  it('holds the SLOs and burn-rate windows the issue specifies', () => {
    const c = loadSloConfig();
    expect(c.slos.availability.objective).to.equal(0.999);
    expect(c.slos.latency).to.deep.equal({ objective: 0.99, threshold_seconds: 0.5 });
    expect(c.slos.period).to.equal('30d');
    expect(c.burn_rate_alerts.page.windows).to.deep.equal([
      { long: '1h', short: '5m', factor: 14.4 },
      { long: '6h', short: '30m', factor: 6 },
    ]);
    expect(c.burn_rate_alerts.ticket.windows).to.deep.equal([
      { long: '1d', short: '2h', factor: 3 },
      { long: '3d', short: '6h', factor: 1 },
    ]);
  });

  it('rejects a config typo with the offending path', () => {
    const dir = mkdtempSync(join(ROOT, 'node_modules', '.cache-slo-'));
    try {
      const bad = readFileSync(join(ROOT, 'otel', 'slo.yaml'), 'utf8')
        .replace('threshold_seconds: 0.5', 'threshold_seconds: 0.4')
        .replace('    ratio: 0.05', '    ratoi: 0.05');
      writeFileSync(join(dir, 'slo.yaml'), bad);
      expect(() => loadSloConfig(join(dir, 'slo.yaml'))).to.throw(/threshold_seconds.*|ratoi/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('SLIs exclude the probes and the latency SLI reads the 0.5 s bucket', () => {
    const sli = rulesOf('slo.yml').filter((r) => r.record?.startsWith('slo:sli_error:ratio_rate') && !r.record.endsWith('30d'));
    expect(sli.length).to.equal(2 * 7); // two SLOs × 5m, 30m, 1h, 2h, 6h, 1d, 3d
    for (const r of sli) expect(r.expr).to.include('http_route!~"/health/.*"');
    for (const r of sli.filter((x) => x.labels?.slo === 'latency')) expect(r.expr).to.include('le="0.5"');
    expect(rulesOf('slo.yml').map((r) => r.record)).to.include.members([
      'slo:period_error_budget_remaining:ratio',
      'slo:current_burn_rate:ratio',
      'slo:error_budget:ratio',
    ]);
  });

  it('records rate, error ratio and p50/p95/p99 per route and per service', () => {
    const names = rulesOf('recording.yml').map((r) => r.record);
    for (const level of ['job_route', 'job'])
      for (const suffix of [
        'http_server_requests:rate5m',
        'http_server_errors:ratio_rate5m',
        'http_server_request_duration:p50_5m',
        'http_server_request_duration:p95_5m',
        'http_server_request_duration:p99_5m',
      ])
        expect(names).to.include(`${level}:${suffix}`);
  });

  it('the test profile only shortens for:, windows and evaluation (same rules, same names)', () => {
    const prod = generateRuleFiles();
    const test = generateRuleFiles('test');
    for (const file of RULE_FILES) {
      const names = (t: string) => (parse(t) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules.map((r) => r.alert ?? r.record));
      expect(names(test[file])).to.deep.equal(names(prod[file]));
    }
    expect(test['alerts.yml'])
      .to.match(/for: 0s/)
      .and.not.match(/for: [1-9]/);
  });
});

describe('observability: promtool', function () {
  this.timeout(60_000);

  it('check config accepts prometheus.yml and the rule files it loads', function () {
    const r = run(need(this, 'promtool'), ['check', 'config', join(PROMETHEUS_DIR, 'prometheus.yml')]);
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.include('3 rule files found');
  });

  it('check rules accepts the committed and the test-profile rules', function () {
    const promtool = need(this, 'promtool');
    const r = run(promtool, ['check', 'rules', ...RULE_FILES.map((f) => join(PROMETHEUS_DIR, 'rules', f))]);
    expect(r.code, r.out).to.equal(0);
    const dir = mkdtempSync(join(ROOT, 'node_modules', '.cache-rules-'));
    try {
      for (const [f, text] of Object.entries(generateRuleFiles('test'))) writeFileSync(join(dir, f), text);
      const t = run(promtool, ['check', 'rules', ...RULE_FILES.map((f) => join(dir, f))]);
      expect(t.code, t.out).to.equal(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('test rules passes for every case in otel/prometheus/tests', function () {
    const files = readdirSync(join(PROMETHEUS_DIR, 'tests'))
      .filter((f) => f.endsWith('.test.yml'))
      .map((f) => join(PROMETHEUS_DIR, 'tests', f));
    expect(files).to.have.length.greaterThan(0);
    const r = run(need(this, 'promtool'), ['test', 'rules', ...files]);
    expect(r.code, r.out).to.equal(0);
  });

  it('every alert has a firing case and a not-firing case', () => {
    const firing = new Set<string>();
    const quiet = new Set<string>();
    for (const f of readdirSync(join(PROMETHEUS_DIR, 'tests')).filter((x) => x.endsWith('.test.yml'))) {
      const doc = parse(readFileSync(join(PROMETHEUS_DIR, 'tests', f), 'utf8')) as {
        tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }>;
      };
      for (const t of doc.tests) for (const a of t.alert_rule_test ?? []) (a.exp_alerts?.length ? firing : quiet).add(a.alertname);
    }
    const missing = alertNames().filter((n) => !firing.has(n) || !quiet.has(n));
    expect(missing, 'alerts without both a firing and a not-firing promtool case').to.deep.equal([]);
  });

  it('every burn-rate alert fires at page and at ticket severity in some case', () => {
    const text = readFileSync(join(PROMETHEUS_DIR, 'tests', 'slo.test.yml'), 'utf8');
    expect(text).to.match(/severity: page, team: sre, job: caly-api, slo: availability/);
    expect(text).to.match(/severity: ticket, team: sre, job: caly-api, slo: availability/);
    expect(text).to.match(/severity: page, team: sre, job: caly-api, slo: latency/);
  });
});

describe('observability: alerts and runbooks', () => {
  const runbooks = readFileSync(join(ROOT, 'docs', 'runbooks.md'), 'utf8');
  // GitHub's heading slug: lower case, punctuation dropped, spaces to dashes.
  const anchors = new Set(
    [...runbooks.matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
      m[1]!
        .trim()
        .toLowerCase()
        .replace(/[^\w\- ]/g, '')
        .replace(/ /g, '-'),
    ),
  );

  it('covers every alert the issue lists', () => {
    expect(alertNames()).to.include.members([
      'CalyHighLatencyP99',
      'CalyHighErrorRatio',
      'CalyAvailabilityBudgetBurn',
      'CalyLatencyBudgetBurn',
      'CalySecurityAnomalySpike',
      'CalyLoginBruteForce',
      'CalyWebhookAuthFailures',
      'CalyAuditBacklogHigh',
      'CalyAuditWriteFailures',
      'CalyDbPoolSaturated',
      'CalySlowQueries',
      'CalyEventLoopDelayHigh',
      'CalyServiceDown',
      'CalyDependencyVulnerabilities',
    ]);
  });

  it('every alert has severity, team, summary, description and a runbook_url whose anchor exists', () => {
    for (const a of alerts()) {
      expect(a.labels?.severity, a.alert).to.be.oneOf(['page', 'ticket']);
      expect(a.labels?.team, a.alert).to.be.oneOf(['sre', 'security']);
      expect(a.annotations?.summary, a.alert).to.be.a('string').and.not.empty;
      expect(a.annotations?.description, a.alert).to.be.a('string').and.not.empty;
      const m = /docs\/runbooks\.md#([\w-]+)$/.exec(a.annotations?.runbook_url ?? '');
      expect(m, `${a.alert} runbook_url ${a.annotations?.runbook_url}`).to.not.equal(null);
      expect(anchors.has(m![1]!), `${a.alert}: no heading for #${m![1]} in docs/runbooks.md`).to.equal(true);
    }
  });

  it('every runbook section belongs to an alert that exists (no stale runbooks)', () => {
    const sections = [...runbooks.matchAll(/^## (\S+)$/gm)].map((m) => m[1]!);
    expect(sections.sort()).to.deep.equal(alertNames());
  });

  it('uses only metric names from otel/metrics.md and recorded series that a rule defines', () => {
    const contract = readFileSync(join(ROOT, 'otel', 'metrics.md'), 'utf8');
    const declared = new Set([...contract.matchAll(/^\| `([a-z_:0-9]+)`/gm)].map((m) => m[1]!));
    // The runtime table row names one gauge and says "(also _min, _max …)": accept those siblings.
    for (const s of ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99']) declared.add(`nodejs_eventloop_delay_${s}_seconds`);
    const recorded = new Set(
      allRules()
        .filter((r) => r.record)
        .map((r) => r.record!),
    );
    const exprs = [...allRules().map((r) => r.expr), ...panelQueries({ job: 'caly-api' }).map((q) => q.expr)];
    const unknown = new Set<string>();
    for (const e of exprs)
      for (const m of e.replace(/"[^"]*"/g, '""').matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*:[a-zA-Z0-9_:]*)\s*(\{|\[)/g))
        if (!recorded.has(m[1]!)) unknown.add(m[1]!);
    for (const name of selectedMetricNames(exprs)) {
      const base = name.replace(/_(bucket|sum|count)$/, '');
      if (!declared.has(name) && !declared.has(base)) unknown.add(name);
    }
    expect([...unknown], 'names that /metrics does not serve (or that no rule records)').to.deep.equal([]);
  });
});

describe('observability: Alertmanager', function () {
  this.timeout(30_000);
  const cfg = parse(readFileSync(ALERTMANAGER_CONFIG, 'utf8')) as {
    inhibit_rules: Array<{ source_matchers: string[]; target_matchers: string[]; equal?: string[] }>;
    receivers: Array<{ name: string; webhook_configs: Array<{ url: string }> }>;
  };

  it('amtool check-config accepts alertmanager.yml', function () {
    const r = run(need(this, 'amtool'), ['check-config', ALERTMANAGER_CONFIG]);
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.include('SUCCESS').and.include('3 receivers');
  });

  const cases: Array<[string, string[]]> = [
    ['security,page', ['alertname=CalyLoginBruteForce', 'severity=page', 'team=security']],
    ['security', ['alertname=CalySecurityAnomalySpike', 'severity=ticket', 'team=security', 'kind=xss']],
    ['security', ['alertname=CalyDependencyVulnerabilities', 'severity=ticket', 'team=security']],
    ['page', ['alertname=CalyServiceDown', 'severity=page', 'team=sre']],
    ['page', ['alertname=CalyAvailabilityBudgetBurn', 'severity=page', 'team=sre', 'slo=availability']],
    ['ticket', ['alertname=CalyAvailabilityBudgetBurn', 'severity=ticket', 'team=sre', 'slo=availability']],
    ['ticket', ['alertname=CalySlowQueries', 'severity=ticket', 'team=sre']],
    ['ticket', ['alertname=SomethingUnlabelled']],
  ];
  for (const [receivers, labels] of cases) {
    it(`routes ${labels.join(' ')} to ${receivers}`, function () {
      const r = run(need(this, 'amtool'), ['config', 'routes', 'test', `--config.file=${ALERTMANAGER_CONFIG}`, `--verify.receivers=${receivers}`, ...labels]);
      expect(r.code, r.out).to.equal(0);
    });
  }

  it('amtool config routes test fails on a wrong expectation (the check can fail)', function () {
    const r = run(need(this, 'amtool'), [
      'config',
      'routes',
      'test',
      `--config.file=${ALERTMANAGER_CONFIG}`,
      '--verify.receivers=ticket',
      'severity=page',
      'team=sre',
    ]);
    expect(r.code).to.not.equal(0);
  });

  it('ServiceDown inhibits the rest of the same job and instance (inhibit rules always have equal:)', () => {
    for (const rule of cfg.inhibit_rules) expect(rule.equal, JSON.stringify(rule)).to.be.an('array').that.is.not.empty;
    const down = cfg.inhibit_rules.find((r) => r.source_matchers.includes('alertname="CalyServiceDown"'));
    expect(down?.equal).to.deep.equal(['job', 'instance']);
    expect(down?.target_matchers).to.deep.equal(['alertname!="CalyServiceDown"']);
  });

  it('receivers are webhooks with placeholder URLs for page, ticket and security', () => {
    expect(cfg.receivers.map((r) => r.name).sort()).to.deep.equal(['page', 'security', 'ticket']);
    for (const r of cfg.receivers) expect(r.webhook_configs[0]!.url).to.match(/^https:\/\/.+\.invalid\//);
  });
});

describe('observability: Grafana dashboards and provisioning', function () {
  this.timeout(120_000);
  const dashboards = loadDashboards();

  it('the committed dashboards equal the generator output', () => {
    for (const [file, d] of Object.entries(DASHBOARD_FILES)) {
      expect(readFileSync(join(ROOT, 'dashboards', file), 'utf8'), `${file} drifted: run npm run dashboards:generate`).to.equal(renderDashboard(d));
    }
    expect(dashboards.map((d) => d.file).sort()).to.deep.equal(Object.keys(DASHBOARD_FILES).sort());
  });

  it('type-checks every dashboard JSON as @grafana/schema Dashboard (tsc --noEmit)', () => {
    // Inside node_modules so that '@grafana/schema' resolves; removed afterwards.
    const dir = join(ROOT, 'node_modules', '.cache', `caly-dashboards-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    try {
      const body = dashboards.map((d, i) => `export const d${i}: Dashboard = ${readFileSync(join(ROOT, 'dashboards', d.file), 'utf8')};`).join('\n');
      writeFileSync(join(dir, 'dashboards.ts'), `import type { Dashboard } from '@grafana/schema';\n${body}\n`);
      // A deliberately wrong panel proves the check has teeth.
      writeFileSync(
        join(dir, 'broken.ts'),
        `import type { Dashboard } from '@grafana/schema';\nexport const b: Dashboard = { schemaVersion: 39, title: 'x', panels: [{ type: 'timeseries', titel: 'typo', gridPos: { h: 8, w: 12, x: 0, y: 0 } }] };\n`,
      );
      const tsconfig = (files: string[]) =>
        JSON.stringify({
          compilerOptions: { strict: true, noEmit: true, module: 'node16', moduleResolution: 'node16', target: 'ES2022', skipLibCheck: true, types: [] },
          files,
        });
      writeFileSync(join(dir, 'tsconfig.json'), tsconfig(['dashboards.ts']));
      writeFileSync(join(dir, 'tsconfig.broken.json'), tsconfig(['broken.ts']));
      const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      const ok = run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')]);
      expect(ok.code, ok.out).to.equal(0);
      const broken = run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.broken.json')]);
      expect(broken.code).to.not.equal(0);
      expect(broken.out).to.include("'titel' does not exist");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('dashboards have fixed unique uids, the provisioned datasource and $__rate_interval in every rate', () => {
    const uids = dashboards.map((d) => d.json.uid);
    expect(uids).to.deep.equal([...new Set(uids)]);
    expect(uids.sort()).to.deep.equal(['caly-database', 'caly-overview', 'caly-runtime', 'caly-security']);
    for (const { json } of dashboards) {
      const ds = json.templating.list.find((v) => v.type === 'datasource');
      expect(ds?.current?.value, json.uid).to.equal('caly-prometheus');
      for (const p of json.panels) {
        expect(p.datasource, `${json.uid}/${p.title}`).to.deep.equal({ type: 'prometheus', uid: '${datasource}' });
        for (const t of p.targets ?? []) {
          for (const m of t.expr.matchAll(/\b(rate|increase|irate)\([^)]*\[([^\]]+)\]/g))
            expect(m[2], `${json.uid}/${p.title}: ${t.expr}`).to.equal('$__rate_interval');
        }
      }
    }
  });

  it('covers the panels the issue asks for', () => {
    const titles = Object.fromEntries(dashboards.map((d) => [d.json.uid, d.json.panels.map((p) => p.title).join(' | ')]));
    expect(titles['caly-overview'])
      .to.match(/Request rate per route/)
      .and.match(/p50 \/ p95 \/ p99 per route/)
      .and.match(/Error ratio/)
      .and.match(/burn/i)
      .and.match(/budget remaining/i);
    expect(titles['caly-security'])
      .to.match(/Anomalies by kind/)
      .and.match(/Anomalies by route/)
      .and.match(/by limiter/)
      .and.match(/Login failures/)
      .and.match(/Webhook authentication/)
      .and.match(/Audit security events/);
    expect(titles['caly-database'])
      .to.match(/Pool connections/)
      .and.match(/Pool waiters/)
      .and.match(/p99/)
      .and.match(/Slow queries/)
      .and.match(/Audit backlog/);
    expect(titles['caly-runtime'])
      .to.match(/Event-loop delay/)
      .and.match(/Heap/)
      .and.match(/GC/);
  });

  it('every panel query parses and type-checks (promtool check rules on a generated rule file)', function () {
    const promtool = need(this, 'promtool');
    const queries = panelQueries({ job: 'caly-api' });
    expect(queries.length).to.be.greaterThan(20);
    const dir = mkdtempSync(join(ROOT, 'node_modules', '.cache-panels-'));
    try {
      const groups = [{ name: 'panels', rules: queries.map((q, i) => ({ record: `panel_check:q${i}`, expr: q.expr })) }];
      writeFileSync(join(dir, 'panels.yml'), JSON.stringify({ groups }));
      const r = run(promtool, ['check', 'rules', join(dir, 'panels.yml')]);
      expect(r.code, r.out).to.equal(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('provisions a Prometheus and a Jaeger datasource with fixed uids, trace links, and a provider for dashboards/', () => {
    const ds = parse(readFileSync(join(ROOT, 'grafana', 'provisioning', 'datasources', 'datasources.yml'), 'utf8')) as {
      datasources: Array<{ uid: string; type: string; url: string; jsonData: Record<string, unknown> }>;
    };
    const prom = ds.datasources.find((d) => d.type === 'prometheus');
    const jaeger = ds.datasources.find((d) => d.type === 'jaeger');
    expect(prom?.uid).to.equal('caly-prometheus');
    expect(jaeger?.uid).to.equal('caly-jaeger');
    expect(prom?.jsonData.exemplarTraceIdDestinations).to.deep.equal([{ name: 'trace_id', datasourceUid: 'caly-jaeger' }]);
    expect((jaeger?.jsonData.tracesToMetrics as { datasourceUid: string }).datasourceUid).to.equal('caly-prometheus');
    // The dashboards' trace link opens Explore on that very datasource.
    for (const { json } of dashboards) expect(JSON.stringify(json)).to.include('caly-jaeger');

    const prov = parse(readFileSync(join(ROOT, 'grafana', 'provisioning', 'dashboards', 'dashboards.yml'), 'utf8')) as {
      providers: Array<{ type: string; options: { path: string } }>;
    };
    const compose = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    expect(prov.providers[0]!.type).to.equal('file');
    expect(compose).to.include(`./dashboards:${prov.providers[0]!.options.path}:ro`);
    expect(compose).to.include('./grafana/provisioning:/etc/grafana/provisioning:ro');
  });
});

describe('observability: Collector, Dockerfile and docker-compose.yml', function () {
  this.timeout(60_000);

  it('the Collector config defines every pipeline component, limits memory first and batches last', () => {
    // No otelcol binary runs here: component-level validation (endpoint syntax, exporter options)
    // happens only when the Collector starts; this checks structure and wiring.
    const c = parse(readFileSync(join(ROOT, 'otel', 'collector.yaml'), 'utf8')) as {
      receivers: Record<string, unknown>;
      processors: Record<string, unknown>;
      exporters: Record<string, { endpoint?: string }>;
      extensions: Record<string, unknown>;
      service: { extensions: string[]; pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }> };
    };
    expect(Object.keys(c.service.pipelines).sort()).to.deep.equal(['metrics', 'traces']);
    for (const [name, p] of Object.entries(c.service.pipelines)) {
      for (const r of p.receivers) expect(c.receivers, `${name} receiver ${r}`).to.have.property(r);
      for (const x of p.processors) expect(c.processors, `${name} processor ${x}`).to.have.property(x);
      for (const e of p.exporters) expect(c.exporters, `${name} exporter ${e}`).to.have.property(e);
      expect(p.receivers).to.include('otlp');
      expect(p.processors[0]).to.equal('memory_limiter');
      expect(p.processors.at(-1)).to.equal('batch');
    }
    for (const e of c.service.extensions) expect(c.extensions).to.have.property(e);
    expect(c.service.pipelines.traces!.exporters).to.deep.equal(['otlp/jaeger']);
    expect(c.exporters['otlp/jaeger']!.endpoint).to.equal('jaeger:4317');
    expect(c.service.pipelines.metrics!.exporters).to.deep.equal(['prometheus']);
    // Prometheus scrapes what the Collector exposes.
    expect(readFileSync(join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8')).to.include("'otel-collector:8889'");
  });

  it('the Dockerfile is multi-stage on node:20-bookworm-slim, npm ci, non-root, health-checked on /health/live', () => {
    const d = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    expect(d.match(/^FROM node:20-bookworm-slim AS \w+/gm)).to.have.length(2);
    expect(d)
      .to.match(/^RUN npm ci\b/m)
      .and.match(/npm run build/)
      .and.match(/npm prune --omit=dev/);
    expect(d).to.match(/^USER node$/m);
    expect(d).to.match(/^HEALTHCHECK [\s\S]*\/health\/live/m);
    expect(d).to.match(/^EXPOSE 3000 9464$/m);
    expect(d).to.match(/^CMD \["node", "dist\/main.js"\]$/m);
  });

  const composeEnv = { ...process.env, ENCRYPTION_KEY: 'ab'.repeat(32), HEALTH_TOKEN: 'compose-check-token-0123' };

  it('docker-compose config -q accepts docker-compose.yml', function () {
    const r = run(need(this, 'dockerCompose'), ['-f', 'docker-compose.yml', 'config', '-q'], { env: composeEnv });
    expect(r.code, r.out).to.equal(0);
  });

  it('docker-compose needs no variable exported: the API gets no fixed secret, and its DATA_DIR is a named volume', function () {
    const env = { ...process.env };
    for (const k of ['ENCRYPTION_KEY', 'HEALTH_TOKEN', 'NODE_ENV', 'POSTGRES_PASSWORD']) delete env[k];
    const r = run(need(this, 'dockerCompose'), ['-f', 'docker-compose.yml', 'config'], { env });
    expect(r.code, r.out).to.equal(0);
    const c = parse(r.out) as {
      services: { api: { environment: Record<string, string>; volumes: Array<string | { source: string; target: string; type: string }> } };
    };
    const api = c.services.api;
    // Empty means unset to the service: it generates the development key in DATA_DIR, and
    // refuses to start with NODE_ENV=production (test/config.test.ts).
    expect(api.environment.ENCRYPTION_KEY ?? '').to.equal('');
    expect(api.environment.NODE_ENV).to.equal('development');
    const data = api.volumes
      .map((v) => (typeof v === 'string' ? { source: v.split(':')[0], target: v.split(':')[1], type: 'volume' } : v))
      .find((v) => v.target === '/app/data');
    expect(data, 'a volume on /app/data').to.include({ type: 'volume' });
    expect(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).to.match(/^COPY .*scripts\/build-if-needed\.js/m); // npm run tenant:create inside the container
  });

  it('the stack has every component, health checks where the image can run one, and repository mounts that exist', function () {
    const r = run(need(this, 'dockerCompose'), ['-f', 'docker-compose.yml', 'config'], { env: composeEnv });
    expect(r.code, r.out).to.equal(0);
    const c = parse(r.out) as {
      services: Record<string, { healthcheck?: unknown; environment?: Record<string, string>; volumes?: Array<string | { source: string; type: string }> }>;
    };
    expect(Object.keys(c.services).sort()).to.deep.equal(['alertmanager', 'api', 'grafana', 'jaeger', 'otel-collector', 'postgres', 'prometheus', 'redis']);
    // The Collector and Jaeger images ship no shell or HTTP client (explained in the file).
    for (const s of ['api', 'postgres', 'redis', 'prometheus', 'alertmanager', 'grafana']) expect(c.services[s]!.healthcheck, s).to.be.an('object');
    const api = c.services.api!.environment!;
    expect(api.METRICS_HOST).to.equal('0.0.0.0');
    expect(api.DATABASE_URL).to.match(/^postgres:\/\/.+@postgres:5432\//);
    expect(api.REDIS_URL).to.equal('redis://redis:6379');
    expect(api.OTEL_EXPORTER_OTLP_ENDPOINT).to.equal('http://otel-collector:4318');
    for (const [name, svc] of Object.entries(c.services)) {
      for (const v of svc.volumes ?? []) {
        const source = typeof v === 'string' ? v.split(':')[0]! : v.type === 'bind' ? v.source : undefined;
        if (source?.startsWith('/')) expect(existsSync(source), `${name} mounts ${source}`).to.equal(true);
      }
    }
  });
});
