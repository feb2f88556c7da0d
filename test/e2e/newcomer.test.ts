import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { assertHonoursContract } from '../helpers/contract';
import { scratchDir } from '../helpers/domain';
import { ROOT } from '../helpers/service';

/** The shell block under "Getting a login (newcomers start here)" in docs/domain.md, one command a line. */
function recipe(): string[] {
  const doc = readFileSync(join(ROOT, 'docs', 'domain.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Getting a login'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
  return block
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.replace(/\s+#\s.*$/, '').trim())
    .filter(Boolean);
}

/**
 * The newcomer recipe, run as written on a machine with nothing set up: no DATABASE_URL, no
 * ENCRYPTION_KEY, an empty DATA_DIR (the recipe's ./data, moved to a temporary directory). Two
 * departures, both forced by a shared test machine: the service listens on a free port instead of
 * 3000, and curl is the same request made with fetch.
 */
describe('newcomer recipe (docs/domain.md) works verbatim on a fresh machine', function () {
  this.timeout(180_000);
  let dir: ReturnType<typeof scratchDir>;
  let service: ChildProcess | undefined;

  before(() => {
    dir = scratchDir('caly-newcomer');
  });
  after(async () => {
    if (service?.pid && service.exitCode === null) {
      const exited = new Promise((r) => service!.once('exit', r));
      process.kill(-service.pid, 'SIGTERM'); // npm, its shell and the service: the group this test started
      await exited;
    }
    dir.remove();
  });

  it('npm start, then tenant:create beside it, then login answers a token pair', async () => {
    const [start, create, curl] = recipe();
    expect(start).to.equal('npm start &');
    expect(create).to.match(/^npm run tenant:create -- /);
    expect(curl).to.match(/^curl /);
    const env = { PATH: process.env.PATH!, HOME: process.env.HOME ?? dir.path, DATA_DIR: dir.path };

    service = spawn('npm', ['start'], {
      cwd: ROOT,
      env: { ...env, PORT: '0', METRICS_PORT: '0', HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stderr = '';
    service.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const port = await new Promise<number>((done, fail) => {
      let buf = '';
      service!.stdout!.on('data', (c: Buffer) => {
        buf += c.toString();
        for (const line of buf.split('\n')) {
          if (!line.startsWith('{')) continue;
          const l = JSON.parse(line) as { msg?: string; port?: number };
          if (l.msg?.startsWith('Caly API listening') && typeof l.port === 'number') done(l.port);
        }
      });
      service!.once('exit', (code) => fail(new Error(`npm start exited (${code}): ${stderr}`)));
      setTimeout(() => fail(new Error(`npm start did not listen within 120 s: ${stderr}`)), 120_000).unref();
    });

    const created = await new Promise<{ code: number; out: string }>((done) =>
      execFile('bash', ['-c', create!], { cwd: ROOT, env, timeout: 90_000 }, (err, stdout, stderr) =>
        done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
      ),
    );
    expect(created.code, created.out).to.equal(0);
    expect(created.out).to.include('/webhooks/exotel/');

    const method = /-X\s*(\w+)/.exec(curl!)![1]!;
    const path = /\s(?:https?:\/\/)?localhost:3000(\/\S+)/.exec(curl!)![1]!;
    const headers = Object.fromEntries([...curl!.matchAll(/-H '([^:]+):\s*([^']*)'/g)].map((m) => [m[1]!, m[2]!]));
    const body = /-d '([^']*)'/.exec(curl!)![1]!;
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers, body });
    await assertHonoursContract(method, path, res);
    const json = (await res.json()) as { accessToken?: string; user?: { email: string } };
    expect(res.status, JSON.stringify(json)).to.equal(200);
    expect(json.accessToken).to.be.a('string');
    expect(json.user?.email).to.equal(JSON.parse(body).email);
  });
});
