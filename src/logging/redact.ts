/**
 * Deep, case-insensitive redaction by key fragment. A key is sensitive when its lower-cased,
 * separator-free form contains one of the fragments, so `exotelToken`, `new_password`,
 * `X-Api-Key` and `Authorization` are all caught. Hand-written because winston has no redaction
 * and pino's path-based `redact` needs every path spelled out in advance.
 */
export const DEFAULT_REDACT_FRAGMENTS = [
  'password',
  'passwd',
  'token',
  'secret',
  'authorization',
  'cookie',
  'apikey',
  'accesstoken',
  'refreshtoken',
  'creditcard',
  'cardnumber',
  'ssn',
  'encryptionkey',
  'privatekey',
  'otp',
  'credential',
] as const;

export const REDACTED = '[REDACTED]';
const MAX_DEPTH = 8;

export type Redactor = (value: unknown) => unknown;

export interface RedactorApi {
  redact: Redactor;
  isSensitiveKey(key: string): boolean;
}

export function createRedactor(extraFragments: readonly string[] = []): RedactorApi {
  const fragments = [...DEFAULT_REDACT_FRAGMENTS, ...extraFragments]
    .map((f) => f.toLowerCase().replace(/[^a-z0-9]/g, ''))
    .filter((f) => f.length > 0);
  // Keys repeat endlessly (the same log fields, headers, body shapes): remember verdicts.
  const verdicts = new Map<string, boolean>();

  function isSensitiveKey(key: string): boolean {
    let v = verdicts.get(key);
    if (v === undefined) {
      const k = key.toLowerCase().replace(/[^a-z0-9]/g, '');
      v = fragments.some((f) => k.includes(f));
      if (verdicts.size < 10_000) verdicts.set(key, v);
    }
    return v;
  }

  function walk(value: unknown, depth: number, seen: WeakSet<object>): unknown {
    if (value === null || typeof value !== 'object') return value;
    if (seen.has(value)) return '[Circular]';
    if (depth >= MAX_DEPTH) return '[Truncated]';
    seen.add(value);
    if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1, seen));
    if (value instanceof Error) return { name: value.name, message: value.message };
    if (Buffer.isBuffer(value)) return `[Buffer ${value.length} bytes]`;
    if (value instanceof URLSearchParams) return walk(Object.fromEntries(value), depth, seen);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = isSensitiveKey(k) ? REDACTED : walk(v, depth + 1, seen);
    }
    return out;
  }

  return {
    isSensitiveKey,
    redact: (value) => walk(value, 0, new WeakSet()),
  };
}

/** Redacts the values of sensitive parameters in a raw query string, keeping its shape. */
export function redactQueryString(qs: string, isSensitiveKey: (k: string) => boolean): string {
  if (qs === '') return qs;
  return qs
    .split('&')
    .map((pair) => {
      const i = pair.indexOf('=');
      const rawKey = i === -1 ? pair : pair.slice(0, i);
      let key = rawKey;
      try {
        key = decodeURIComponent(rawKey.replace(/\+/g, ' '));
      } catch {
        /* keep the raw key */
      }
      return i !== -1 && isSensitiveKey(key) ? `${rawKey}=${REDACTED}` : pair;
    })
    .join('&');
}
