import { randomFillSync } from 'node:crypto';
import type { IdGenerator } from '@opentelemetry/sdk-trace-base';

/** Random bytes hex-encoded at a time: 4 KB, ids for ~170 requests (a trace id and a span id each). */
const BLOCK_BYTES = 4096;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

/**
 * Trace and span ids from the operating system's CSPRNG, hex-encoded a block at a time.
 *
 * Why not the SDK's RandomIdGenerator: it draws from Math.random, V8's xorshift128+, whose state
 * can be worked out from a few of its outputs, and every response carries two of our ids in
 * x-request-id (`<trace id>-<span id>`): a client could predict the ids, and the trace-ratio
 * sampling decision, of requests not yet made. It is also the dearer one: per request it writes 24
 * bytes one word at a time and crosses into C++ twice for `Buffer#toString('hex')` (~4.5 k
 * instructions; 250 against 90 ns a pair in a loop), where this encodes once per block and slices.
 * (A slice keeps its block's string alive while the id lives: at most the spans waiting for
 * export, a few blocks of 8 KB.)
 */
export class CryptoIdGenerator implements IdGenerator {
  private readonly bytes = Buffer.allocUnsafe(BLOCK_BYTES);
  private hex = '';
  private at = 0;

  generateTraceId(): string {
    const id = this.take(32);
    return id === ZERO_TRACE_ID ? this.generateTraceId() : id; // all zeros is not a valid id (W3C)
  }

  generateSpanId(): string {
    const id = this.take(16);
    return id === ZERO_SPAN_ID ? this.generateSpanId() : id;
  }

  private take(chars: number): string {
    if (this.at + chars > this.hex.length) {
      randomFillSync(this.bytes);
      this.hex = this.bytes.toString('hex');
      this.at = 0;
    }
    const id = this.hex.slice(this.at, this.at + chars);
    this.at += chars;
    return id;
  }
}
