import { fullFormats } from 'ajv-formats/dist/formats';
import { isE164 } from './phone';

/**
 * The product's string formats, as plain predicates so they can be tested without Ajv and reused
 * outside a schema. `ajv.ts` registers each under the name in FORMAT_MESSAGES.
 */

const EMAIL = fullFormats.email as RegExp;

/**
 * ajv-formats' address grammar (dot-atoms, no quoted local parts, ASCII domain with a dot) plus the
 * RFC 5321 length limits it leaves out. Internationalised addresses are not accepted.
 */
export function isEmail(value: string): boolean {
  if (value.length > 254) return false;
  const at = value.lastIndexOf('@');
  if (at < 1 || at > 64) return false;
  if (!EMAIL.test(value)) return false;
  return value
    .slice(at + 1)
    .split('.')
    .every((label) => label.length <= 63);
}

export { isE164 as isPhone };

/**
 * Absolute http(s) URL with a host and no user:password part (`https://bank.example@evil.example`
 * is a phishing shape, never a link we need). The scheme is checked on the raw text and the text
 * must hold no whitespace or control characters, because the WHATWG parser silently drops tabs and
 * newlines (`java\tscript:` would otherwise come out as `javascript:`).
 */
export function isHttpUrl(value: string): boolean {
  if (value.length > 2048 || !/^https?:\/\//i.test(value) || /[\s\u0000-\u001f\u007f]/.test(value)) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' && url.username === '' && url.password === '';
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:Z|([+-])(\d{2}):(\d{2}))$/;

function daysInMonth(year: number, month: number): number {
  return month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Strict ISO 8601 calendar date `YYYY-MM-DD` that exists (`2024-02-29` yes, `2023-02-29` and `2024-02-31` no). */
export function isIsoDate(value: string): boolean {
  const m = DATE.exec(value);
  if (!m) return false;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/**
 * Strict ISO 8601 / RFC 3339 timestamp: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, upper-case T and
 * Z, a time zone required (a zoneless time is ambiguous for a service that spans zones), no leap
 * second (JavaScript dates cannot hold one).
 */
export function isIsoDateTime(value: string): boolean {
  const m = DATE_TIME.exec(value);
  if (!m || !isIsoDate(m[1]!)) return false;
  if (Number(m[2]) > 23 || Number(m[3]) > 59 || Number(m[4]) > 59) return false;
  // Real zones span -12:00 to +14:00; PostgreSQL refuses displacements past 15:59 (a 500 before),
  // so anything beyond ±14:00 is a client error here. Year 0000 does not exist in PostgreSQL either.
  if (m[5] !== undefined && (Number(m[6]) * 60 + Number(m[7]) > 14 * 60 || Number(m[7]) > 59)) return false;
  return Number(m[1]!.slice(0, 4)) >= 1;
}

/** RFC 9562 UUID, versions 1–8, RFC variant, any letter case. Nil and max UUIDs are not ids we issue. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/**
 * ASCII letters and digits only: for codes and identifiers (Exotel SIDs, coupon codes), where
 * look-alike Unicode letters would be a spoofing risk. Names use noSpecialChars. Checks characters
 * only: the empty string passes, minLength says whether a value is required.
 */
const ALPHANUMERIC = /^[A-Za-z0-9]*$/;
export function isAlphanumeric(value: string): boolean {
  return ALPHANUMERIC.test(value);
}

/**
 * Names and short free text in any script. Allowed, exactly: Unicode letters (L), combining marks
 * (M, which Devanagari vowel signs and viramas are), decimal digits (Nd), the space U+0020, the
 * apostrophes ' and ’, hyphen-minus, full stop and comma, and ZWNJ/ZWJ (U+200C/U+200D, which some
 * Indic spellings need). Everything else is refused: control characters, tabs and newlines, other
 * invisible formatting (bidi overrides), and symbols such as < > ; & " / \ ( ) = $ % @ # * _.
 * Checks characters only: the empty string passes, minLength says whether a value is required.
 */
const NO_SPECIAL_CHARS = /^[\p{L}\p{M}\p{Nd} '\u2019.,\-\u200c\u200d]*$/u;
export function isNoSpecialChars(value: string): boolean {
  return NO_SPECIAL_CHARS.test(value);
}

/** Format name → predicate and the message a client sees when a value fails it. */
export const PRODUCT_FORMATS = {
  email: { validate: isEmail, message: 'must be a valid email address' },
  phone: { validate: isE164, message: 'must be a valid phone number in international form, e.g. +919876543210' },
  url: { validate: isHttpUrl, message: 'must be an http or https URL' },
  date: { validate: isIsoDate, message: 'must be a real calendar date in the form YYYY-MM-DD' },
  'date-time': { validate: isIsoDateTime, message: 'must be an ISO 8601 date-time with a time zone, e.g. 2024-02-29T10:30:00Z' },
  uuid: { validate: isUuid, message: 'must be a UUID' },
  alphanumeric: { validate: isAlphanumeric, message: 'must contain only the letters A-Z and digits' },
  noSpecialChars: { validate: isNoSpecialChars, message: "must contain only letters, digits, spaces and ' - . ," },
} as const satisfies Record<string, { validate: (v: string) => boolean; message: string }>;

export type ProductFormat = keyof typeof PRODUCT_FORMATS;
