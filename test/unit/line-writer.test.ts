import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { TraceFlags } from '@opentelemetry/api';
import { createLogger, generatedFields, lineWriterFor } from '../../src/platform/logging/logger';

/**
 * The access line's writer serialises the caller's object instead of building the line's record
 * key by key. Its line must be the one `logger.log(level, message, fields)` writes through winston,
 * byte for byte: same keys, same order, same redaction, for every shape of fields.
 */
describe('access line writer: the same line as logger.log (logging/logger.ts)', () => {
  function setup() {
    const stream = new PassThrough();
    const lines: string[] = [];
    stream.on('data', (c: Buffer) => lines.push(...c.toString('utf8').split('\n').filter(Boolean)));
    const handle = createLogger({ level: 'info', service: 'caly-test', environment: 'test', stream });
    return { logger: handle.logger, write: lineWriterFor(handle.logger), lines };
  }

  const GENERATED = generatedFields(['message', 'method', 'route', 'status', 'request_id']);
  const cases: Array<[string, () => Record<string, unknown>]> = [
    [
      'an access line',
      () => ({
        method: 'GET',
        route: '/api/ping',
        path: '/api/ping',
        status: 200,
        duration_ms: 1.234,
        request_id: 'abc-def',
        client_ip: '203.0.113.7',
        user_agent: 'curl/8 "quoted" \\ back\u2028',
      }),
    ],
    [
      'values that are redacted',
      () => ({ query: 'token=s3cret&page=2', password: 'hunter2', phone: '+919876543210', user_agent: 'mail me: a.person@example.com' }),
    ],
    [
      'undefined and null values, nested objects',
      () => ({ route: undefined, user_agent: undefined, caller: null, error: { name: 'Error', message: 'boom', cause: { name: 'X', message: 'y' } } }),
    ],
    ['no fields', () => ({})],
    ['fields named like the line’s own keys', () => ({ level: 'debug', service: 'other', env: 'elsewhere', status: 500 })],
  ];

  for (const [what, fields] of cases) {
    it(`${what}`, () => {
      const { logger, write, lines } = setup();
      logger.log('warn', 'request', fields());
      write('warn', 'request', fields(), undefined, GENERATED);
      expect(lines).to.have.length(2);
      // the two lines may fall in different milliseconds
      const [winston, fast] = lines.map((l) => l.replace(/^\{"time":"[^"]+"/, '{"time":"T"'));
      expect(fast, 'fast writer').to.equal(winston);
    });
  }

  it('appends the span’s trace fields after the message', () => {
    const { write, lines } = setup();
    write('info', 'request', { status: 200 }, { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: TraceFlags.SAMPLED }, GENERATED);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(line)).to.deep.equal(['time', 'level', 'service', 'env', 'status', 'msg', 'trace_id', 'span_id', 'trace_flags']);
    expect(line).to.include({ trace_id: 'a'.repeat(32), span_id: 'b'.repeat(16), trace_flags: '01', msg: 'request', service: 'caly-test' });
  });

  it('still writes a line for a field that refers to itself', () => {
    const { write, lines } = setup();
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    write('error', 'request', { status: 500, error: cyclic }, undefined, GENERATED);
    expect(lines).to.have.length(1);
    expect(JSON.parse(lines[0]!)).to.include({ status: 500, msg: 'request' });
  });
});
