import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { expect } from 'chai';
import { ROOT } from '../helpers/service';

function run(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    // No database is configured: --help and a bad flag must answer before any connection is tried.
    execFile(
      process.execPath,
      [resolve(ROOT, 'dist', script), ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH, NODE_ENV: 'test' }, timeout: 30_000 },
      (err, stdout, stderr) => done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const CLIS = [
  { script: 'cli/tenants.js', name: 'tenant', flags: ['--name', '--exophone', '--owner-email', '--tenant', '--role', '--json'] },
  { script: 'cli/reencrypt.js', name: 'secrets:reencrypt', flags: ['ENCRYPTION_KEYS_PREVIOUS'] },
  { script: 'modules/scanner/cli.js', name: 'security:scan', flags: ['--fail-on', '--production', '--json'] },
];

describe('CLIs: --help and bad flags', function () {
  this.timeout(60_000);
  for (const cli of CLIS) {
    it(`${cli.name} --help lists its flags and an example, exit 0`, async () => {
      const r = await run(cli.script, ['--help']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.include('Usage').and.include('Example');
      for (const f of cli.flags) expect(r.stdout).to.include(f);
    });
    it(`${cli.name} with an unknown flag names it, shows the usage and exits 2`, async () => {
      const r = await run(cli.script, ['--no-such-flag']);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.include('--no-such-flag').and.include('Usage');
      expect(r.stderr).to.not.match(/\n\s+at /); // no stack trace
    });
  }
});
