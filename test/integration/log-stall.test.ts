import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { expect } from 'chai';
import { ROOT } from '../helpers/service';

/**
 * The logger hands each turn's lines to SonicBoom's asynchronous writer (logging/logger.ts). When
 * the reader of a stdout pipe stalls, that must neither stall the event loop nor lose or reorder a
 * line: what the pipe does not take waits in the writer, and goes out, in order, once the reader is
 * back or, at the latest, when the process exits. A synchronous writer (console.log on a pipe)
 * fails the first test; a writer without the exit flush fails the second.
 */
describe('log lines to a stalled stdout pipe: the event loop runs on, nothing is lost', function () {
  this.timeout(30_000);
  const logger = resolve(ROOT, 'dist/platform/logging/logger.js');

  /**
   * Runs `code` with stdout a pipe that nobody reads for `stallMs` (a shell that sleeps, then cats:
   * the kernel's 64 KB pipe buffer is all the room there is); returns what came through.
   */
  function runStalled(code: string, stallMs: number): Promise<{ stdout: string; stderr: string; code: number | null }> {
    const reader = spawn('sh', ['-c', `sleep ${stallMs / 1000}; exec cat`], { stdio: ['pipe', 'pipe', 'inherit'] });
    const child = spawn(process.execPath, ['-e', code], { cwd: ROOT, env: { PATH: process.env.PATH }, stdio: ['ignore', reader.stdin, 'pipe'] });
    reader.stdin.destroy(); // the child holds the write end now; the reader sees EOF when the child exits
    const out: Buffer[] = [];
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    reader.stdout.on('data', (c: Buffer) => out.push(c));
    const exited = new Promise<number | null>((done, fail) => child.on('error', fail).on('close', done));
    const read = new Promise<void>((done, fail) => reader.on('error', fail).on('close', () => done()));
    return Promise.all([exited, read]).then(([exit]) => ({ stdout: Buffer.concat(out).toString('utf8'), stderr, code: exit }));
  }

  const numbered = (stdout: string) =>
    stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { n: number }).n);

  it('keeps the event loop running while the reader is away, then delivers every line in order', async () => {
    // 40 turns of 100 lines (~0.6 MB, ten times a pipe's buffer) while nobody reads for 1.5 s; the
    // child measures how late its own 10 ms timer fires meanwhile.
    const { stdout, stderr, code } = await runStalled(
      `
      const { createLogger } = require(${JSON.stringify(logger)});
      const { logger } = createLogger({ level: 'info', service: 'stall-test', environment: 'test' });
      let worst = 0, last = Date.now();
      const tick = setInterval(() => { const now = Date.now(); worst = Math.max(worst, now - last - 10); last = now; }, 10);
      let turn = 0;
      const burst = setInterval(() => {
        for (let i = 0; i < 100; i++) logger.info('line', { n: turn * 100 + i, pad: 'x'.repeat(120) });
        if (++turn === 40) clearInterval(burst);
      }, 10);
      setTimeout(() => { clearInterval(tick); process.stderr.write(JSON.stringify({ worst }) + '\\n'); }, 2500);
      `,
      1500,
    );
    expect(code).to.equal(0);
    expect((JSON.parse(stderr.trim()) as { worst: number }).worst, 'worst timer delay (ms)').to.be.below(250);
    expect(numbered(stdout)).to.deep.equal(Array.from({ length: 4000 }, (_, i) => i));
  });

  it('writes what is still queued when the process exits while the reader is away', async () => {
    const { stdout, code } = await runStalled(
      `
      const { createLogger } = require(${JSON.stringify(logger)});
      const { logger } = createLogger({ level: 'info', service: 'stall-test', environment: 'test' });
      let turn = 0;
      const burst = setInterval(() => {
        for (let i = 0; i < 100; i++) logger.info('line', { n: turn * 100 + i, pad: 'x'.repeat(120) });
        if (++turn === 10) { clearInterval(burst); setTimeout(() => process.exit(0), 50); }
      }, 5);
      `,
      600,
    );
    expect(code).to.equal(0);
    expect(numbered(stdout)).to.deep.equal(Array.from({ length: 1000 }, (_, i) => i));
  });
});
