import { memoizeString } from '../memo';

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
  /** Log lines: secrets, personal data and access URLs, by key and inside every string. */
  redact: Redactor;
  /** Secrets only (passwords, tokens, keys). The audit trail redacts its metadata with this. */
  isSensitiveKey(key: string): boolean;
  /** What a log line must do with the value of `key`. */
  logVerdict(key: string): KeyVerdict;
}

/**
 * Beyond secrets, log lines must not carry personal data: caller numbers are masked to their last
 * four digits (enough to tell calls apart while debugging), and DTMF digits, search terms and
 * Exotel's recording and stream URLs (which grant access) are removed. Exact keys for the short
 * names (`to` as a fragment would hit `total`, `token`…), fragments for the distinctive ones.
 * Separate from isSensitiveKey: audit metadata legitimately records `from`/`to` of a change.
 */
const PHONE_KEYS = new Set(['from', 'to', 'callfrom', 'callto', 'dialwhomnumber', 'phone', 'phonenumber', 'callerid', 'caller', 'mobile', 'msisdn']);
const PII_KEYS = new Set(['q', 'search', 'query_text', 'digits', 'stream', 'customfield']);
const PII_FRAGMENTS = ['recordingurl', 'streamurl', 'digits'];

export type KeyVerdict = 'secret' | 'phone' | 'pii' | undefined;

export function createRedactor(extraFragments: readonly string[] = []): RedactorApi {
  const fragments = [...DEFAULT_REDACT_FRAGMENTS, ...extraFragments].map((f) => f.toLowerCase().replace(/[^a-z0-9]/g, '')).filter((f) => f.length > 0);
  // Keys repeat endlessly (the same log fields, headers, body shapes): remember verdicts.
  const verdicts = new Map<string, KeyVerdict>();

  function logVerdict(key: string): KeyVerdict {
    let v = verdicts.get(key);
    if (v === undefined && !verdicts.has(key)) {
      const k = key.toLowerCase().replace(/[^a-z0-9_]/g, '');
      const bare = k.replace(/_/g, '');
      v = fragments.some((f) => bare.includes(f))
        ? 'secret'
        : PHONE_KEYS.has(bare) || PHONE_KEYS.has(bare.replace(/^stream/, ''))
          ? 'phone'
          : PII_KEYS.has(k) || PII_KEYS.has(bare) || PII_FRAGMENTS.some((f) => bare.includes(f))
            ? 'pii'
            : undefined;
      if (verdicts.size < 10_000) verdicts.set(key, v);
    }
    return v;
  }
  const isSensitiveKey = (key: string): boolean => logVerdict(key) === 'secret';

  function walk(value: unknown, depth: number, seen: WeakSet<object>): unknown {
    if (typeof value === 'string') return scrubText(value);
    if (value === null || typeof value !== 'object') return value;
    if (seen.has(value)) return '[Circular]';
    if (depth >= MAX_DEPTH) return '[Truncated]';
    seen.add(value);
    if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1, seen));
    if (value instanceof Error) return { name: value.name, message: scrubText(value.message) };
    if (Buffer.isBuffer(value)) return `[Buffer ${value.length} bytes]`;
    if (value instanceof URLSearchParams) return walk(Object.fromEntries(value), depth, seen);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactField(k, v, depth + 1, seen);
    return out;
  }

  function redactField(key: string, v: unknown, depth: number, seen: WeakSet<object>): unknown {
    const verdict = logVerdict(key);
    if (verdict === 'secret' || verdict === 'pii') return v === undefined || v === null || v === '' ? v : REDACTED;
    if (verdict === 'phone' && (typeof v === 'string' || typeof v === 'number')) return maskPhone(String(v));
    return walk(v, depth, seen);
  }

  return {
    isSensitiveKey,
    logVerdict,
    redact: (value) => walk(value, 0, new WeakSet()),
  };
}

/** `+919812734650` → `[phone ***4650]`: the last four digits only. */
export function maskPhone(v: string): string {
  const digits = v.replace(/\D/g, '');
  if (digits.length === 0) return v === '' ? v : REDACTED;
  return `[phone ***${digits.slice(-4)}]`;
}

export const REDACTED_PATH_SECRET = '[credential]';

/** The webhook credential segment, in any case and with any number of slashes between segments. */
const CREDENTIAL_PATH = /(\/+webhooks\/+exotel\/+)(?!\[credential\])[^/?#\s"'\\]+/gi;
/** An absolute URL (plain or percent-encoded), with its host captured. */
const ANY_URL = /\b(wss?|https?)(:\/\/|%3A%2F%2F)([^\s"'<>\\/?#&%]+)([^\s"'<>\\]*)/gi;
const LOOPBACK_HOST = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\]|0\.0\.0\.0)(:\d+)?$/i;
/** A run of 10 to 15 digits (optionally `+`, optionally spaced) that is not part of a word, id, time or address. */
const PHONE_RUN = /(?<![\w.:/%+-])\+?\d(?: ?\d){9,14}(?![\w:.-])/g;

/**
 * The value pass every logged string goes through: the webhook credential in a path (however it
 * is spelled: `/Webhooks//exotel/…` is routed too), URLs to other hosts (recording and stream URLs
 * grant access: only scheme and host are kept), and anything shaped like a phone number.
 *
 * The strings of the access line repeat from request to request (the path, the User-Agent, the
 * client address), and each pass is three regular-expression tests at least: recent answers are
 * remembered (memo/index.ts). The memo holds raw values only in process memory, as the requests
 * that carried them do; what is logged is still the scrubbed value.
 */
export const scrubText: (s: string) => string = memoizeString(scrubUncached, { entries: 2048, maxChars: 256 });

function scrubUncached(s: string): string {
  let out = s;
  if (/webhooks/i.test(out)) out = out.replace(CREDENTIAL_PATH, `$1${REDACTED_PATH_SECRET}`);
  if (/:\/\/|%3A%2F%2F/i.test(out))
    out = out.replace(ANY_URL, (m, scheme: string, sep: string, host: string) => (LOOPBACK_HOST.test(host) ? m : `${scheme}${sep}${host}/[url]`));
  if (/\d{4}/.test(out)) out = out.replace(PHONE_RUN, maskPhone);
  return out;
}

/** Redacts the values of sensitive parameters in a raw query string, keeping its shape. */
export function redactQueryString(qs: string, logVerdict: (k: string) => KeyVerdict): string {
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
      if (i === -1) return scrubText(pair);
      const verdict = logVerdict(key);
      if (verdict === 'secret' || verdict === 'pii') return `${rawKey}=${REDACTED}`;
      if (verdict === 'phone') return `${rawKey}=${maskPhone(decodeLoosely(pair.slice(i + 1)))}`;
      const value = decodeLoosely(pair.slice(i + 1));
      const scrubbed = scrubText(value);
      return scrubbed === value ? `${rawKey}=${scrubText(pair.slice(i + 1))}` : `${rawKey}=${encodeURIComponent(scrubbed)}`;
    })
    .join('&');
}

function decodeLoosely(v: string): string {
  try {
    return decodeURIComponent(v.replace(/\+/g, ' '));
  } catch {
    return v;
  }
}
