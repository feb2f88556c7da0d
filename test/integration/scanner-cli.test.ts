import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { CompletedReport, Report } from '../../src/modules/scanner/model';
import { ROOT } from '../helpers/service';

/**
 * The built CLI (dist/modules/scanner/cli.js, what `npm run security:scan` runs) and the CI wrapper, as
 * child processes. npm's output is replayed from fixtures in npm's own format (the registry's
 * audit endpoint is unreachable here), except in the live runs, which run the real npm.
 */

const CLI = resolve(ROOT, 'dist', 'modules', 'scanner', 'cli.js');
const AUDIT = (name: string) => resolve(__dirname, '..', 'fixtures', 'npm-audit', name);
const OUTDATED = (name: string) => resolve(__dirname, '..', 'fixtures', 'npm-outdated', name);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], env: Record<string, string> = {}, cwd = ROOT, timeoutMs = 90_000): Promise<Run> {
  return new Promise((res) => {
    const child = spawn(command, args, {
      cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', ...env } as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (code) => {
      clearTimeout(t);
      res({ code, stdout, stderr });
    });
  });
}

describe('scanner CLI (built, as a child process)', function () {
  this.timeout(120_000);
  let out: string;

  before(async () => {
    out = await mkdtemp(join(tmpdir(), 'caly-scan-cli-'));
  });
  after(async () => {
    await rm(out, { recursive: true, force: true });
  });

  const cli = (args: string[], env: Record<string, string> = {}) => run(process.execPath, [CLI, '--out', out, ...args], env);
  const replay = (audit: string, outdated = 'outdated-empty.json') => ['--audit-json', AUDIT(audit), '--outdated-json', OUTDATED(outdated)];

  it('exit codes: 0 below the threshold, 1 when it is met, for every --fail-on level', async () => {
    const cases: Array<[string, string, number]> = [
      ['nested-transitive.json', 'critical', 1],
      ['nested-transitive.json', 'none', 0],
      ['multiple-advisories.json', 'critical', 0],
      ['multiple-advisories.json', 'high', 1],
      ['multiple-advisories.json', 'low', 1],
      ['no-fix.json', 'high', 0],
      ['no-fix.json', 'moderate', 1],
      ['empty.json', 'low', 0],
    ];
    const results = await Promise.all(cases.map(([file, level]) => cli([...replay(file), '--fail-on', level])));
    results.forEach((r, i) => {
      const [file, level, code] = cases[i]!;
      expect(r.code, `${file} --fail-on ${level}: ${r.stderr}`).to.equal(code);
    });
    // The default threshold is critical.
    expect((await cli(replay('nested-transitive.json'))).code).to.equal(1);
    expect((await cli(replay('multiple-advisories.json'))).code).to.equal(0);
  });

  it('exit 3 with a clear message when the audit could not run, whatever the threshold', async () => {
    const cases = [
      ['error-405.json', /405 Method Not Allowed/, 'critical'],
      ['error-enolock.json', /no lock file/, 'none'],
      ['error-unreachable.json', /ECONNREFUSED/, 'low'],
      ['truncated.txt', /not JSON/, 'critical'],
    ] as const;
    const results = await Promise.all(cases.map(([file, , level]) => cli([...replay(file), '--fail-on', level])));
    results.forEach((r, i) => {
      const [file, pattern, level] = cases[i]!;
      expect(r.code, `${file} ${level}`).to.equal(3);
      expect(r.stderr)
        .to.match(/the audit could not run/)
        .and.match(pattern);
      expect(r.stdout).to.match(/Dependency scan: UNKNOWN/);
    });
  });

  it('exit 2 on usage errors, with the usage text; --help exits 0', async () => {
    const bad = [
      ['--fail-on', 'severe'],
      ['--keep', '0'],
      ['--keep', 'many'],
      ['--bogus'],
      ['stray'],
      ['--timeout', '0'],
      ['--audit-json', '/nonexistent/audit.json'],
    ];
    const results = await Promise.all(bad.map((args) => cli(args)));
    results.forEach((r, i) => {
      expect(r.code, bad[i]!.join(' ')).to.equal(2);
      expect(r.stderr).to.match(/Usage: npm run security:scan/);
    });
    const help = await cli(['--help']);
    expect(help.code).to.equal(0);
    expect(help.stdout)
      .to.match(/--fail-on <level>/)
      .and.match(/Exit codes: 0 passed, 1 threshold met, 2 usage error, 3 audit could not run/);
  });

  it('--json prints the report model; --production is recorded as the scope', async () => {
    const r = await cli([...replay('nested-transitive.json', 'outdated-long.json'), '--json', '--production', '--fail-on', 'none']);
    expect(r.code).to.equal(0);
    const report = JSON.parse(r.stdout) as CompletedReport;
    expect(report.status).to.equal('FAILED');
    expect(report.scope).to.equal('production');
    expect(report.summary).to.deep.equal({ CRITICAL: 4, HIGH: 1, MODERATE: 2, LOW: 0, INFO: 0 });
    expect(report.advisories).to.have.length(4);
    expect(report.advisories[0]).to.include.keys('package', 'severity', 'title', 'url', 'vulnerableRange', 'paths', 'fix');
    expect(report.outdated.ok && report.outdated.rows).to.have.length(6);
    expect(report.remediation.length).to.be.greaterThan(0);
  });

  it('the replay files can come from the environment (how CI fixtures and the service tests drive it)', async () => {
    const r = await cli(['--json'], { CALY_SCAN_AUDIT_FILE: AUDIT('multiple-advisories.json'), CALY_SCAN_OUTDATED_FILE: OUTDATED('outdated-error.json') });
    const report = JSON.parse(r.stdout) as Report;
    expect(report.status).to.equal('WARNING');
    expect(report.outdated).to.deep.include({ ok: false });
  });

  it('writes a report file per run and keeps the last --keep of them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'caly-scan-rotate-'));
    try {
      for (const file of ['empty.json', 'no-fix.json', 'multiple-advisories.json', 'nested-transitive.json']) {
        const r = await run(process.execPath, [CLI, '--out', dir, '--keep', '2', ...replay(file), '--fail-on', 'none']);
        expect(r.code).to.equal(0);
        expect(r.stderr).to.match(new RegExp(`report written to ${dir}/report-`));
      }
      const names = (await readdir(dir)).sort();
      expect(names).to.have.length(2);
      const newest = JSON.parse(await readFile(join(dir, names[1]!), 'utf8')) as Report;
      const older = JSON.parse(await readFile(join(dir, names[0]!), 'utf8')) as Report;
      expect([older.status, newest.status]).to.deep.equal(['WARNING', 'FAILED']);
      // SECURITY_SCAN_KEEP is the default for --keep.
      await run(process.execPath, [CLI, '--out', dir, ...replay('empty.json')], { SECURITY_SCAN_KEEP: '1' });
      expect(await readdir(dir)).to.have.length(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('CI wrapper: a met threshold fails the build; an audit that could not run is a warning with exit 0', async () => {
    const ci = (audit: string) =>
      run('bash', [resolve(ROOT, 'scripts', 'ci-security-scan.sh')], {
        CALY_SCAN_PREBUILT: '1',
        CALY_SCAN_AUDIT_FILE: AUDIT(audit),
        CALY_SCAN_OUTDATED_FILE: OUTDATED('outdated-empty.json'),
        SECURITY_SCAN_DIR: out,
      });
    const unknown = await ci('error-405.json');
    expect(unknown.code).to.equal(0);
    expect(unknown.stdout)
      .to.match(/Dependency scan: UNKNOWN/)
      .and.match(/warning: dependency scan: the audit could not run/);
    const critical = await ci('nested-transitive.json');
    expect(critical.code).to.equal(1);
    expect(critical.stdout)
      .to.match(/CRITICAL 4/)
      .and.match(/dependency scan: FAILED/);
    expect(critical.stdout).to.match(/scope: production/); // --production is always passed
    const high = await ci('multiple-advisories.json');
    expect(high.code).to.equal(0); // only critical fails the build
    expect(high.stdout).to.match(/Dependency scan: WARNING/);
  });

  describe('live npm (real child processes, no replay)', () => {
    before(function () {
      const probe = spawnSync('npm', ['--version'], { encoding: 'utf8' });
      if (probe.error || probe.status !== 0) {
        console.log(`      skipped: npm cannot be spawned here (${probe.error?.message ?? `exit ${probe.status}`})`);
        this.skip();
      }
    });

    it('real npm audit against the registry: UNKNOWN and exit 3 (the registry refuses audits with 405 here)', async () => {
      const r = await cli(['--production', '--json', '--timeout', '90']);
      const report = JSON.parse(r.stdout) as Report;
      expect(r.code, r.stderr).to.equal(3);
      expect(report.status).to.equal('UNKNOWN');
      expect(report.status === 'UNKNOWN' && report.failure.reason).to.equal('audit_unavailable');
      expect(report.status === 'UNKNOWN' && report.failure.message).to.match(/405 Method Not Allowed/);
      // npm outdated does work here (registry reads), so that half of the report is real.
      expect(report.outdated.ok).to.equal(true);
    });

    it('real npm audit in a project without a lock file: exit 3, "no lock file"', async () => {
      const project = await mkdtemp(join(tmpdir(), 'caly-scan-nolock-'));
      try {
        await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'nolock', version: '1.0.0', private: true }));
        const r = await run(process.execPath, [CLI, '--out', out, '--cwd', project, '--timeout', '60']);
        expect(r.code, r.stderr).to.equal(3);
        expect(r.stderr).to.match(/no lock file \(ENOLOCK\)/);
        expect(r.stdout).to.match(/Commit a lock file/);
      } finally {
        await rm(project, { recursive: true, force: true });
      }
    });
  });
});
