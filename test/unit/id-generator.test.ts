import { trace } from '@opentelemetry/api';
import { expect } from 'chai';
import { CryptoIdGenerator } from '../../src/platform/telemetry/id-generator';
import '../setup/telemetry';

describe('trace and span ids (CSPRNG, a block at a time)', () => {
  it('are lower-case hex of 32 and 16 characters, never all zeros, and distinct across many blocks', () => {
    const ids = new CryptoIdGenerator();
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      // ~115 blocks: every position of a slice within a block, and the refills between them
      const t = ids.generateTraceId();
      const s = ids.generateSpanId();
      expect(t).to.match(/^[0-9a-f]{32}$/);
      expect(s).to.match(/^[0-9a-f]{16}$/);
      expect(t).not.to.equal('0'.repeat(32));
      seen.add(t).add(s);
    }
    expect(seen.size).to.equal(40_000);
  });

  it('do not come from Math.random: the service’s spans get distinct ids while it returns a constant', () => {
    const original = Math.random;
    Math.random = () => 0.5;
    try {
      const tracer = trace.getTracer('id-test');
      const a = tracer.startSpan('a');
      const b = tracer.startSpan('b');
      a.end();
      b.end();
      expect(a.spanContext().traceId).not.to.equal(b.spanContext().traceId);
      expect(a.spanContext().spanId).not.to.equal(b.spanContext().spanId);
    } finally {
      Math.random = original;
    }
  });
});
