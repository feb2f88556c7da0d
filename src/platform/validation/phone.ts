/**
 * Phone numbers in, E.164 out. Caly's callers are mostly Indian, and numbers reach us in every local
 * habit: with the trunk 0 (`09876543210`), bare mobile (`9876543210`), with spaces (`+91 98765 43210`),
 * with the `(0)` convention, with `00` for international, or as Exotel and query strings deliver
 * them (`919876543210`, where an unencoded `+` became a space). libphonenumber would know every
 * country's plan, but it is not installed and Caly only needs India's plan plus a digit-count
 * check for the rest (E.164: at most 15 digits, country code never starting with 0).
 */

/**
 * Separators people type inside numbers: space, no-break space, hyphen, dot, parentheses. Anything
 * else (letters, `#`, `*`, tabs, newlines and other control characters) makes the input invalid.
 */
const SEPARATORS = /[ \u00a0\-.()]/g;
/** Longer input is not a phone number however it is formatted; bounds the work done on it. */
const MAX_INPUT = 40;
/** Country code 1–3 digits, not starting with 0; 7–15 digits in total. */
const E164_DIGITS = /^[1-9]\d{6,14}$/;
/** India (+91): exactly 10 national digits, never starting with 0 (the trunk prefix). */
const INDIA_NATIONAL = /^[1-9]\d{9}$/;

/** True for a canonical E.164 number as this module produces it. */
export function isE164(value: string): boolean {
  if (value.charCodeAt(0) !== 43 /* + */) return false;
  const digits = value.slice(1);
  if (!E164_DIGITS.test(digits)) return false;
  return digits.startsWith('91') ? INDIA_NATIONAL.test(digits.slice(2)) : true;
}

/** The E.164 form of `raw`, or null when it is not a phone number we can place. Idempotent. */
export function normalizePhone(raw: string): string | null {
  if (raw.length > MAX_INPUT) return null;
  const compact = raw.replace(SEPARATORS, '');
  if (compact.startsWith('+')) return international(compact.slice(1));
  if (compact.startsWith('00')) return international(compact.slice(2));
  return indianNational(compact);
}

function international(digits: string): string | null {
  if (!/^\d+$/.test(digits)) return null;
  if (digits.startsWith('91')) return india(digits.slice(2));
  return E164_DIGITS.test(digits) ? `+${digits}` : null;
}

/** After +91: the national number, possibly written with the `(0)` trunk prefix. */
function india(national: string): string | null {
  const n = national.length === 11 && national.startsWith('0') ? national.slice(1) : national;
  return INDIA_NATIONAL.test(n) ? `+91${n}` : null;
}

/**
 * Numbers without a `+` or `00` are read as Indian: `0` + 10 digits (trunk prefix, mobile or
 * landline), a bare 10-digit mobile (starts 6–9; a bare landline is ambiguous and refused), or the
 * country code without its plus (`91` + a mobile). Anything else is refused rather than guessed.
 */
function indianNational(digits: string): string | null {
  if (/^0[1-9]\d{9}$/.test(digits)) return `+91${digits.slice(1)}`;
  if (/^[6-9]\d{9}$/.test(digits)) return `+91${digits}`;
  if (/^91[6-9]\d{9}$/.test(digits)) return `+${digits}`;
  return null;
}
