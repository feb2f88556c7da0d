import * as querystring from 'node:querystring';
import type { Step } from '../pipeline';
import { ValidationError } from '../errors/app-error';
import type { AppContext } from '../context/state';

/** With the u flag a proper pair is one astral code point; only an unpaired half matches. */
export const LONE_SURROGATE = /\p{Cs}/u;
/** Node's own percent-decoder to bytes (stray `%` kept literally, as the query parser does); untyped in @types/node. */
const unescapeBuffer = (querystring as unknown as { unescapeBuffer(s: string): Buffer }).unescapeBuffer;
const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Why PostgreSQL would refuse this string as text or jsonb, or undefined. NUL is the one code
 * point its UTF-8 text cannot hold (and `\u0000` the one jsonb escape it refuses); a lone
 * surrogate is not Unicode at all, and the driver would silently turn it into U+FFFD.
 */
export function unstorable(s: string): string | undefined {
  if (s.includes('\u0000')) return 'must not contain the NUL character';
  if (LONE_SURROGATE.test(s)) return 'must be valid Unicode (no lone surrogates)';
  return undefined;
}

/** Each raw query value must percent-decode to valid UTF-8 (`%ED%A0%80` is an encoded surrogate). */
function badQueryParam(qs: string): { key: string; message: string } | undefined {
  for (const pair of qs.split('&')) {
    if (pair === '') continue;
    const i = pair.indexOf('=');
    for (const part of i === -1 ? [pair] : [pair.slice(0, i), pair.slice(i + 1)]) {
      let decoded: string;
      try {
        decoded = fatalUtf8.decode(unescapeBuffer(part.replace(/\+/g, ' ')));
      } catch {
        return { key: safeKey(pair.slice(0, i === -1 ? pair.length : i)), message: 'must be valid UTF-8 once percent-decoded' };
      }
      const why = unstorable(decoded);
      if (why) return { key: safeKey(pair.slice(0, i === -1 ? pair.length : i)), message: why };
    }
  }
  return undefined;
}

/** The key as it is safe to echo in an error pointer: plain names only. */
const safeKey = (raw: string) => (/^[A-Za-z0-9_.[\]-]{1,64}$/.test(raw) ? raw : '?');

/** The first string (key or value) of a parsed body PostgreSQL would refuse. Iterative: bodies are shape-bounded but still untrusted. */
function badBodyString(body: unknown): { path: string; message: string } | undefined {
  const stack: Array<[unknown, string]> = [[body, '/body']];
  while (stack.length > 0) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string') {
      const why = unstorable(v);
      if (why) return { path, message: why };
    } else if (v !== null && typeof v === 'object') {
      for (const [k, c] of Object.entries(v)) {
        const why = unstorable(k);
        if (why) return { path, message: `keys ${why}` };
        stack.push([c, `${path}/${safeKey(k)}`]);
      }
    }
  }
  return undefined;
}

/**
 * 400 in the envelope for query and body text PostgreSQL (or Unicode) refuses, before it reaches
 * validation, a query, or the audit trail. Exotel's webhooks are exempt: their events are never
 * refused for odd text, they are sanitised and kept (webhooks/exotel/sanitise.ts).
 */
export function refuseUnstorableInput(): Step {
  return {
    name: 'storable input',
    before(ctx: AppContext): void {
      if (!ctx.path.startsWith('/webhooks/')) {
        const q = ctx.querystring ? badQueryParam(ctx.querystring) : undefined;
        if (q) throw new ValidationError('Request validation failed', [{ path: `/query/${q.key}`, message: q.message }]);
        const b = badBodyString(ctx.request.body);
        if (b) throw new ValidationError('Request validation failed', [b]);
      }
    },
  };
}
