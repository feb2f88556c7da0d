import { expect } from 'chai';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { thresholdMet, type AdvisoryRow, type CompletedReport, type Report } from '../../src/modules/scanner/model';
import { parseAudit } from '../../src/modules/scanner/npm-audit';
import { parseOutdated } from '../../src/modules/scanner/npm-outdated';
import { buildReport } from '../../src/modules/scanner/report';
import { renderText } from '../../src/modules/scanner/render';
import { runCommand } from '../../src/modules/scanner/run-command';
import { firstDelayMs, intervalMs, nextDelayMs } from '../../src/modules/scanner/schedule';
import { listReports, readLatestReports, writeReport } from '../../src/modules/scanner/store';

const FIX = resolve(__dirname, '..', 'fixtures');
const audit = (name: string) => readFile(join(FIX, 'npm-audit', name), 'utf8');
const outdated = (name: string) => readFile(join(FIX, 'npm-outdated', name), 'utf8');

async function parsedOk(name: string) {
  const r = parseAudit(await audit(name));
  if (!r.ok) throw new Error(`expected ${name} to parse: ${r.message}`);
  return r;
}

const byTitle = (rows: AdvisoryRow[], pkg: string, url: string) => {
  const row = rows.find((r) => r.package === pkg && r.url === url);
  if (!row) throw new Error(`no row for ${pkg} ${url}`);
  return row;
};

describe('scanner: npm audit parsing (recorded npm 7+ output)', () => {
  it('follows via names to the root advisory and builds every dependency path, shortest first', async () => {
    const r = await parsedOk('nested-transitive.json');
    // Rows exist only where the advisory objects are: the root packages, never the dependents.
    expect(r.advisories.map((a) => a.package)).to.have.members(['minimist', 'minimist', 'semver', 'follow-redirects']);
    const critical = byTitle(r.advisories, 'minimist', 'https://github.com/advisories/GHSA-xvch-5gv4-984h');
    expect(critical.severity).to.equal('critical');
    expect(critical.title).to.equal('Prototype Pollution in minimist');
    expect(critical.vulnerableRange).to.equal('<0.2.4');
    expect(critical.id).to.equal(1096880);
    expect(critical.paths).to.deep.equal([
      ['optimist', 'minimist'],
      ['grunt-legacy', 'mkdirp', 'minimist'],
    ]);
    const follow = byTitle(r.advisories, 'follow-redirects', 'https://github.com/advisories/GHSA-cxjh-pqwp-8mfp');
    expect(follow.paths).to.deep.equal([['axios', 'follow-redirects']]);
    const semver = byTitle(r.advisories, 'semver', 'https://github.com/advisories/GHSA-c2qf-rxjj-qqgw');
    expect(semver.paths).to.deep.equal([['semver']]); // a direct dependency is its own path
  });

  it('keeps each advisory of a package that has several, with its own severity and range', async () => {
    const r = await parsedOk('nested-transitive.json');
    const moderate = byTitle(r.advisories, 'minimist', 'https://github.com/advisories/GHSA-vh95-rmgr-6w4m');
    expect(moderate.severity).to.equal('moderate');
    expect(moderate.vulnerableRange).to.equal('<0.2.1');

    const lodash = (await parsedOk('multiple-advisories.json')).advisories.filter((a) => a.package === 'lodash');
    expect(lodash.map((a) => a.url)).to.have.members([
      'https://github.com/advisories/GHSA-35jh-r3h4-6jhm',
      'https://github.com/advisories/GHSA-29mw-wpgm-hmr9',
      'https://github.com/advisories/GHSA-p6mc-m468-83gw',
    ]);
    expect(lodash.map((a) => a.severity)).to.deep.equal(['high', 'high', 'moderate']); // sorted most severe first
  });

  it('reads fixAvailable: true, {name, version, isSemVerMajor}, and false', async () => {
    const r = await parsedOk('nested-transitive.json');
    expect(byTitle(r.advisories, 'semver', 'https://github.com/advisories/GHSA-c2qf-rxjj-qqgw').fix).to.deep.equal({
      kind: 'audit-fix',
      command: 'npm audit fix',
      major: false,
    });
    expect(byTitle(r.advisories, 'minimist', 'https://github.com/advisories/GHSA-xvch-5gv4-984h').fix).to.deep.equal({
      kind: 'upgrade',
      package: 'grunt-legacy',
      version: '2.0.0',
      major: true,
      command: 'npm install grunt-legacy@2.0.0',
    });
    expect(byTitle(r.advisories, 'follow-redirects', 'https://github.com/advisories/GHSA-cxjh-pqwp-8mfp').fix).to.deep.equal({
      kind: 'upgrade',
      package: 'axios',
      version: '0.28.1',
      major: false,
      command: 'npm audit fix',
    });
    const noFix = await parsedOk('no-fix.json');
    expect(noFix.advisories.map((a) => a.fix.kind)).to.deep.equal(['none', 'none']);
  });

  it('summarises by severity from metadata.vulnerabilities (vulnerable packages, as npm counts them)', async () => {
    expect((await parsedOk('nested-transitive.json')).summary).to.deep.equal({ CRITICAL: 4, HIGH: 1, MODERATE: 2, LOW: 0, INFO: 0 });
    expect((await parsedOk('multiple-advisories.json')).summary).to.deep.equal({ CRITICAL: 0, HIGH: 1, MODERATE: 0, LOW: 1, INFO: 0 });
    expect((await parsedOk('no-fix.json')).summary).to.deep.equal({ CRITICAL: 0, HIGH: 0, MODERATE: 1, LOW: 0, INFO: 1 });
    const empty = await parsedOk('empty.json');
    expect(empty.summary).to.deep.equal({ CRITICAL: 0, HIGH: 0, MODERATE: 0, LOW: 0, INFO: 0 });
    expect(empty.advisories).to.deep.equal([]);
  });

  it('counts the entries itself when metadata is missing', async () => {
    const doc = JSON.parse(await audit('nested-transitive.json')) as Record<string, unknown>;
    delete doc.metadata;
    const r = parseAudit(JSON.stringify(doc));
    expect(r.ok && r.summary).to.deep.equal({ CRITICAL: 4, HIGH: 1, MODERATE: 2, LOW: 0, INFO: 0 });
  });

  it('recognises npm error objects as audit_unavailable with a clear message', async () => {
    const e405 = parseAudit(await audit('error-405.json'));
    expect(e405).to.include({ ok: false, reason: 'audit_unavailable' });
    expect(!e405.ok && e405.message).to.match(/405 Method Not Allowed - POST https:\/\/registry\.npmjs\.org\/-\/npm\/v1\/security\/advisories\/bulk/);
    expect(!e405.ok && e405.message).to.match(/reads only/);

    const enolock = parseAudit(await audit('error-enolock.json'));
    expect(enolock).to.include({ ok: false, reason: 'audit_unavailable' });
    expect(!enolock.ok && enolock.message).to.match(/no lock file \(ENOLOCK\).*npm i --package-lock-only/);

    const down = parseAudit(await audit('error-unreachable.json'));
    expect(down).to.include({ ok: false, reason: 'audit_unavailable' });
    expect(!down.ok && down.message).to.match(/ECONNREFUSED/);
  });

  it('refuses what it cannot read as parse_error, never as a clean report', async () => {
    for (const text of [await audit('truncated.txt'), '', '[]', '"x"', '{"hello":1}', await audit('report-v1.json')]) {
      const r = parseAudit(text);
      expect(r.ok, text.slice(0, 40)).to.equal(false);
      expect(!r.ok && r.reason).to.equal('parse_error');
    }
    expect(!parseAudit(await audit('report-v1.json')).ok && (parseAudit(await audit('report-v1.json')) as { message: string }).message).to.match(/version 1/);
    // A report whose entries have the wrong shape is rejected with where it went wrong.
    const bad = parseAudit('{"auditReportVersion":2,"vulnerabilities":{"x":{"severity":"apocalyptic","via":[]}}}');
    expect(bad).to.include({ ok: false, reason: 'parse_error' });
    expect(!bad.ok && bad.message).to.match(/\/vulnerabilities\/x\/severity/);
  });

  it('terminates on dependency cycles', () => {
    const doc = {
      auditReportVersion: 2,
      vulnerabilities: {
        a: { name: 'a', severity: 'high', isDirect: true, via: ['b'], effects: ['b'], range: '*', fixAvailable: true },
        b: {
          name: 'b',
          severity: 'high',
          isDirect: false,
          via: ['a', { source: 1, name: 'b', dependency: 'b', title: 't', url: 'u', severity: 'high', range: '<1' }],
          effects: ['a'],
          range: '*',
          fixAvailable: true,
        },
      },
    };
    const r = parseAudit(JSON.stringify(doc));
    expect(r.ok && r.advisories[0]!.paths).to.deep.equal([['a', 'b']]);
  });
});

describe('scanner: npm outdated parsing', () => {
  it('reads current, wanted, latest and dependency type; missing packages; packages installed twice', async () => {
    const r = parseOutdated(await outdated('outdated-long.json'));
    if (!r.ok) throw new Error(r.error);
    expect(r.rows).to.deep.include({ package: 'pg', current: '8.20.0', wanted: '8.23.1', latest: '8.23.1', type: 'dependencies' });
    expect(r.rows).to.deep.include({ package: 'typescript', current: '6.0.3', wanted: '6.0.3', latest: '7.0.2', type: 'devDependencies' });
    expect(r.rows).to.deep.include({ package: 'fsevents', current: null, wanted: '2.3.3', latest: '2.3.3', type: 'optionalDependencies' });
    expect(r.rows.filter((x) => x.package === 'semver').map((x) => x.current)).to.deep.equal(['6.3.0', '7.5.1']);
    expect(r.rows).to.have.length(6);
  });

  it('empty output and {} mean nothing outdated; an error object is an error, not an empty list', async () => {
    expect(parseOutdated(await outdated('outdated-empty.json'))).to.deep.equal({ ok: true, rows: [] });
    expect(parseOutdated('')).to.deep.equal({ ok: true, rows: [] });
    const err = parseOutdated(await outdated('outdated-error.json'));
    expect(err.ok).to.equal(false);
    expect(!err.ok && err.error).to.match(/Not Found - GET .*\(E404\)/);
    expect(parseOutdated('{"x": {"current": 1}}').ok).to.equal(false);
    // A package really named "error" is a package.
    const named = parseOutdated('{"error":{"current":"1.0.0","wanted":"1.0.0","latest":"2.0.0","type":"dependencies"}}');
    expect(named.ok && named.rows[0]!.package).to.equal('error');
  });
});

describe('scanner: report model, thresholds, rendering', () => {
  const at = new Date('2026-11-28T06:00:00.000Z');
  const noOutdated = { ok: true as const, rows: [] };

  async function reportFor(name: string): Promise<Report> {
    const a = parseAudit(await audit(name));
    return buildReport({ generatedAt: at, scope: 'production', audit: a, outdated: noOutdated });
  }

  it('status: FAILED on any critical, WARNING on any high, PASSED otherwise, UNKNOWN when the audit could not run', async () => {
    expect((await reportFor('nested-transitive.json')).status).to.equal('FAILED');
    expect((await reportFor('multiple-advisories.json')).status).to.equal('WARNING');
    expect((await reportFor('no-fix.json')).status).to.equal('PASSED');
    expect((await reportFor('empty.json')).status).to.equal('PASSED');
    const unknown = await reportFor('error-405.json');
    expect(unknown.status).to.equal('UNKNOWN');
    expect(unknown).to.not.have.property('summary'); // no counts pretend to exist
    expect(unknown.status === 'UNKNOWN' && unknown.failure.reason).to.equal('audit_unavailable');
  });

  it('--fail-on thresholds: a level and everything more severe; none never; UNKNOWN never meets one', async () => {
    const cases: Array<[string, Record<string, boolean>]> = [
      ['nested-transitive.json', { critical: true, high: true, moderate: true, low: true, info: true, none: false }],
      ['multiple-advisories.json', { critical: false, high: true, moderate: true, low: true, info: true, none: false }],
      ['no-fix.json', { critical: false, high: false, moderate: true, low: true, info: true, none: false }],
      ['empty.json', { critical: false, high: false, moderate: false, low: false, info: false, none: false }],
      ['error-405.json', { critical: false, high: false, moderate: false, low: false, info: false, none: false }],
    ];
    for (const [file, expected] of cases) {
      const report = await reportFor(file);
      for (const [level, met] of Object.entries(expected)) {
        expect(thresholdMet(report, level as 'critical'), `${file} --fail-on ${level}`).to.equal(met);
      }
    }
  });

  it('gives remediation advice: audit fix, major upgrades, packages with no fix, outdated', async () => {
    const failed = await reportFor('nested-transitive.json');
    expect(failed.remediation.join('\n')).to.match(/npm audit fix/);
    expect(failed.remediation.join('\n')).to.match(/grunt-legacy@2\.0\.0 is a major upgrade.*npm install grunt-legacy@2\.0\.0/);
    const noFix = await reportFor('no-fix.json');
    expect(noFix.remediation.join('\n')).to.match(/No fix is available for request .*GHSA-p8p7-x288-28g6/);
    const unknown = await reportFor('error-enolock.json');
    expect(unknown.remediation.join('\n'))
      .to.match(/UNKNOWN, not PASSED/)
      .and.match(/package-lock-only/);
    const withOutdated = buildReport({
      generatedAt: at,
      scope: 'all',
      audit: parseAudit(await audit('empty.json')),
      outdated: parseOutdated(await outdated('outdated-long.json')),
    });
    expect(withOutdated.remediation).to.include('5 packages are behind the latest release.');
    expect(withOutdated.remediation).to.include('2 can move within their declared ranges: `npm update`.');
  });

  it('renders a table with one row per advisory and the outdated packages', async () => {
    const report = buildReport({
      generatedAt: at,
      scope: 'production',
      audit: parseAudit(await audit('nested-transitive.json')),
      outdated: parseOutdated(await outdated('outdated-long.json')),
    });
    const text = renderText(report, { color: false });
    expect(text).to.match(/Dependency scan: FAILED/);
    expect(text).to.match(/CRITICAL 4 {3}HIGH 1 {3}MODERATE 2 {3}LOW 0 {3}INFO 0/);
    expect(text).to.match(/CRITICAL +minimist +Prototype Pollution in minimist +<0\.2\.4 +optimist > minimist \(\+1\) +grunt-legacy@2\.0\.0 \(MAJOR\)/);
    expect(text).to.match(/pg +8\.20\.0 +8\.23\.1 +8\.23\.1 +dependencies/);
    expect(text).to.not.match(/\u001b\[/); // no colour codes when not asked for
    expect(renderText(report, { color: true })).to.match(/\u001b\[31mFAILED/);
  });
});

describe('scanner: report files and rotation', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'caly-scan-store-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const report = (iso: string, status: 'PASSED' | 'UNKNOWN'): Report =>
    status === 'UNKNOWN'
      ? { status, generatedAt: iso, scope: 'all', failure: { reason: 'timeout', message: 'slow' }, outdated: { ok: true, rows: [] }, remediation: [] }
      : {
          status,
          generatedAt: iso,
          scope: 'all',
          summary: { CRITICAL: 0, HIGH: 0, MODERATE: 0, LOW: 0, INFO: 0 },
          advisories: [],
          outdated: { ok: true, rows: [] },
          remediation: [],
        };

  it('keeps only the newest N reports and never touches other files', async () => {
    await writeFile(join(dir, 'notes.txt'), 'keep me');
    for (let i = 0; i < 7; i++) await writeReport(dir, report(`2026-11-28T06:00:0${i}.000Z`, 'PASSED'), 3);
    const names = await listReports(dir);
    expect(names).to.have.length(3);
    expect(names.map((n) => n.slice(7, 26))).to.deep.equal(['2026-11-28T06-00-04', '2026-11-28T06-00-05', '2026-11-28T06-00-06']);
    expect(await readdir(dir)).to.include('notes.txt');
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).to.deep.equal([]);
  });

  it('reads back the newest report and the newest successful one, skipping unreadable files', async () => {
    await writeReport(dir, report('2026-11-28T06:00:01.000Z', 'PASSED'), 10);
    await writeReport(dir, report('2026-11-28T06:00:02.000Z', 'UNKNOWN'), 10);
    await writeFile(join(dir, 'report-2026-11-28T06-00-03-000Z-abcdef.json'), '{"status": "PASS');
    const { latest, lastSuccessful } = await readLatestReports(dir);
    expect(latest?.generatedAt).to.equal('2026-11-28T06:00:02.000Z');
    expect(latest?.status).to.equal('UNKNOWN');
    expect((lastSuccessful as CompletedReport).generatedAt).to.equal('2026-11-28T06:00:01.000Z');
    expect(await readLatestReports(join(dir, 'missing'))).to.deep.equal({});
  });
});

/** Alive and not a zombie (a container's init may never reap the orphans we kill). */
async function isRunning(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return !/^\S+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}

describe('scanner: schedule and child processes', () => {
  it('parses SECURITY_SCAN_INTERVAL and clamps it', () => {
    expect(intervalMs('off')).to.equal('off');
    expect(intervalMs('30m')).to.equal(1_800_000);
    expect(intervalMs('6h')).to.equal(21_600_000);
    expect(intervalMs('1d')).to.equal(86_400_000);
    expect(intervalMs('5ms')).to.equal(1000);
    expect(intervalMs('90d')).to.equal(2 ** 31 - 1);
    expect(() => intervalMs('soon')).to.throw(/invalid format/);
    expect(firstDelayMs(6 * 3_600_000, () => 0)).to.equal(15_000);
    expect(firstDelayMs(6 * 3_600_000, () => 1)).to.equal(30_000);
    expect(firstDelayMs(2000, () => 0.5)).to.equal(1500);
    expect(nextDelayMs(1_000_000, () => 0)).to.equal(900_000);
    expect(nextDelayMs(1_000_000, () => 1)).to.equal(1_100_000);
  });

  it('captures stdout and a non-zero exit code without judging it', async () => {
    const r = await runCommand(process.execPath, ['-e', 'process.stdout.write(JSON.stringify({a:1})); process.exit(1)'], {
      cwd: process.cwd(),
      timeoutMs: 10_000,
    });
    expect(r).to.deep.include({ kind: 'exited', code: 1, stdout: '{"a":1}' });
  });

  it('kills a command that runs past its time limit, and its children', async function () {
    this.timeout(20_000);
    // The child starts a grandchild that would outlive it; both must be gone after the timeout.
    const script = `
      const { spawn } = require('node:child_process');
      const g = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      process.stdout.write(String(g.pid));
      setInterval(() => {}, 1000);`;
    const t0 = Date.now();
    const r = await runCommand(process.execPath, ['-e', script], { cwd: process.cwd(), timeoutMs: 1000, killGraceMs: 500 });
    expect(r.kind).to.equal('timeout');
    expect(Date.now() - t0).to.be.below(8000);
    const grandchild = Number(r.kind === 'timeout' ? r.stdout : NaN);
    expect(grandchild).to.be.greaterThan(0);
    await new Promise((res) => setTimeout(res, 300));
    expect(await isRunning(grandchild), 'grandchild still running').to.equal(false);
  });

  it('reports a command that cannot be started as spawn_error, and stops on abort', async () => {
    const missing = await runCommand('caly-no-such-npm-binary', [], { cwd: process.cwd(), timeoutMs: 5000 });
    expect(missing.kind).to.equal('spawn_error');
    const ac = new AbortController();
    const p = runCommand(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { cwd: process.cwd(), timeoutMs: 60_000, signal: ac.signal });
    setTimeout(() => ac.abort(), 200);
    expect((await p).kind).to.equal('aborted');
  });
});
