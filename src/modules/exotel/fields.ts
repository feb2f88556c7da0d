import { shapeViolation } from '../../platform/http/body';

/**
 * Reading Exotel's loosely typed fields. Every value may arrive as a string (query, form,
 * multipart) or typed (JSON); a repeated query key arrives as an array. Everything is bounded:
 * strings are capped, nested structures limited, unknown keys never copied.
 */
export type Raw = Record<string, unknown>;

const MAX_TEXT = 2048;

/**
 * Text PostgreSQL would refuse (NUL; lone surrogates, which are not Unicode) becomes U+FFFD: an
 * Exotel event is never refused for an odd optional field. The verbatim payload is kept
 * encrypted beside the event (webhook_events.raw_payload_enc).
 */
export function clean(s: string): string {
  return s.replace(/\u0000|\p{Cs}/gu, '\ufffd');
}

export function text(raw: Raw, ...keys: string[]): string | undefined {
  for (const k of keys) {
    let v = raw[k];
    if (Array.isArray(v)) v = v[0];
    if (typeof v === 'number' && Number.isFinite(v)) v = String(v);
    if (typeof v === 'string') {
      const t = clean(v.trim());
      if (t !== '' && t.toLowerCase() !== 'null') return t.slice(0, MAX_TEXT);
    }
  }
  return undefined;
}

/** Exotel wraps gathered digits in double quotes (`"123"`): trimmed, and only keypad characters kept. */
export function digits(raw: Raw): string | undefined {
  const v = text(raw, 'digits', 'Digits');
  if (v === undefined) return undefined;
  const bare = v.replace(/^"+|"+$/g, '');
  return /^[0-9*#]{0,64}$/.test(bare) ? bare : undefined;
}

/**
 * Exotel's local timestamps (`YYYY-MM-DD HH:mm:ss`) are India time (+05:30); ISO strings with a
 * zone are taken as they are. The documented placeholder EndTime `1970-01-01 05:30:00` (epoch 0)
 * and anything before 2000 mean "not known".
 */
export function time(raw: Raw, ...keys: string[]): Date | undefined {
  const v = text(raw, ...keys);
  if (!v) return undefined;
  const local = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})$/.exec(v);
  const d = new Date(local ? `${local[1]}T${local[2]}+05:30` : v);
  if (Number.isNaN(d.getTime()) || d.getUTCFullYear() < 2000 || d.getUTCFullYear() > 2100) return undefined;
  return d;
}

export function seconds(raw: Raw, ...keys: string[]): number | undefined {
  const v = text(raw, ...keys);
  if (v === undefined || !/^\d{1,7}$/.test(v)) return undefined;
  return Number(v);
}

const BRACKET = /^([A-Za-z]+)\[([A-Za-z0-9_]{1,32})\](?:\[([A-Za-z0-9_]{1,32})\])?$/;

/**
 * A nested block that arrives either as bracket keys (`Stream[StreamSID]=…`, `Legs[0][Status]=…`)
 * or as one JSON string (`Stream={"StreamSID":…}`) or, in a JSON body, as the object itself.
 */
export function nested(raw: Raw, name: string): unknown {
  const direct = raw[name];
  if (typeof direct === 'object' && direct !== null) return direct;
  if (typeof direct === 'string' && /^[[{]/.test(direct.trim()) && direct.length <= 16_384) {
    try {
      const parsed = JSON.parse(direct) as unknown;
      return shapeViolation(parsed) ? undefined : parsed;
    } catch {
      return undefined;
    }
  }
  let out: Record<string, unknown> | undefined;
  let n = 0;
  for (const key of Object.keys(raw)) {
    const m = BRACKET.exec(key);
    if (!m || m[1] !== name || ++n > 200) continue;
    out ??= {};
    const value = text(raw, key);
    if (m[3] === undefined) out[m[2]!] = value;
    else {
      const inner = (out[m[2]!] ??= {}) as Record<string, unknown>;
      inner[m[3]] = value;
    }
  }
  return out;
}

/** Keeps only the listed keys of an object, as short strings. */
export function pick(value: unknown, keys: readonly string[]): Record<string, string> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const out: Record<string, string> = {};
  for (const k of keys) {
    const v = (value as Raw)[k];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = clean(String(v)).slice(0, 512);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
