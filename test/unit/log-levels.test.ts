import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { createLogger, lineWriterFor } from '../../src/platform/logging/logger';

/**
 * The access line's writer decides "is this level on?" itself instead of asking winston (whose
 * isLevelEnabled allocates on every call). Its answer must be winston's, for every level against
 * every configured level, and must follow the logger's level when it changes at run time.
 */
describe('access line writer: level filtering (logging/logger.ts)', () => {
  const LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'];
  const WRITTEN = ['error', 'warn', 'info'] as const;

  function setup(level: string) {
    const stream = new PassThrough();
    const lines: string[] = [];
    stream.on('data', (c: Buffer) => lines.push(...c.toString('utf8').split('\n').filter(Boolean)));
    const handle = createLogger({ level, service: 'test', environment: 'test', stream });
    return { logger: handle.logger, write: lineWriterFor(handle.logger), lines };
  }

  it('writes a line exactly when winston would log it, whatever level is configured', () => {
    for (const configured of LEVELS) {
      const { logger, write, lines } = setup(configured);
      for (const level of WRITTEN) {
        const before = lines.length;
        write(level, 'request', { status: 200 }, undefined);
        const wrote = lines.length - before;
        expect(wrote, `${level} line with LOG_LEVEL=${configured}`).to.equal(logger.isLevelEnabled(level) ? 1 : 0);
      }
    }
  });

  it('follows the logger level when it is changed while running', () => {
    const { logger, write, lines } = setup('warn');
    write('info', 'request', { status: 200 }, undefined);
    expect(lines).to.have.length(0);
    logger.level = 'info';
    write('info', 'request', { status: 200 }, undefined);
    expect(lines).to.have.length(1);
    expect(JSON.parse(lines[0]!)).to.include({ level: 'info', msg: 'request', status: 200 });
    logger.level = 'error';
    write('warn', 'slow request', { status: 200 }, undefined);
    expect(lines).to.have.length(1);
  });

  it('writes nothing while the logger is silent', () => {
    const { logger, write, lines } = setup('info');
    logger.silent = true;
    write('error', 'request', { status: 500 }, undefined);
    expect(lines).to.have.length(0);
  });
});
