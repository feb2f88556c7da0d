import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { expect } from 'chai';
import { ROOT } from '../helpers/service';

/**
 * Log lines are written in batches after each event-loop turn (logging/turn-batch.ts), through an
 * asynchronous writer. A process that logs and exits in the same turn (process.exit after a fatal
 * error) must still leave every line on stdout: the logger writes what is pending on exit.
 */
describe('log lines written before process.exit are not lost', () => {
  function run(code: string): Promise<string> {
    return new Promise((done, fail) => {
      execFile(process.execPath, ['-e', code], { cwd: ROOT, env: { PATH: process.env.PATH }, timeout: 30_000 }, (err, stdout) =>
        err ? fail(err) : done(stdout),
      );
    });
  }

  it('every line of the last turn, in order, including a burst larger than one pipe buffer', async () => {
    const logger = resolve(ROOT, 'dist/platform/logging/logger.js');
    const stdout = await run(`
      const { createLogger } = require(${JSON.stringify(logger)});
      const { logger } = createLogger({ level: 'info', service: 'exit-test', environment: 'test' });
      for (let i = 0; i < 2000; i++) logger.info('line', { n: i, pad: 'x'.repeat(100) });
      logger.error('last words', { n: 2000 });
      process.exit(0);
    `);
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { n: number; msg: string });
    expect(lines).to.have.length(2001);
    expect(lines.map((l) => l.n)).to.deep.equal(Array.from({ length: 2001 }, (_, i) => i));
    expect(lines[2000]).to.include({ msg: 'last words', level: 'error' });
  });
});
