import type { SpanContext } from '@opentelemetry/api';

/**
 * Whether a span context's ids are valid (it sits beside what a request carries because both the
 * logger and the tracer ask). The predicate of @opentelemetry/api's `isSpanContextValid`: a
 * 32-digit trace id and a 16-digit span id, hex in either case, neither all zeros.
 *
 * Why not the API's own: it tests each id with a case-insensitive regular expression, which V8 11
 * (Node 20) runs through its C++ runtime, ~2,100 instructions per check; the access line checks its
 * span on every request and the pg span its parent on every query (bench/README.md, "Thirteenth
 * round"). Pinned against the API's function by test/unit/span-context.test.ts.
 */
export function isValidSpanContext(sc: SpanContext): boolean {
  return isHexId(sc.traceId, 32) && isHexId(sc.spanId, 16);
}

function isHexId(id: unknown, digits: number): boolean {
  if (typeof id !== 'string' || id.length !== digits) return false;
  let nonZero = false;
  for (let i = 0; i < digits; i++) {
    const c = id.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      if (c !== 0x30) nonZero = true;
      continue;
    }
    const lower = c | 0x20; // A-F → a-f; nothing outside the letters maps into a-f
    if (lower < 0x61 || lower > 0x66) return false;
    nonZero = true;
  }
  return nonZero;
}
