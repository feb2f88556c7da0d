import type * as Entities from 'entities' with { 'resolution-mode': 'import' };

// entities 9 is ESM-only; Node 20.19+ loads it synchronously through require(esm), and a static
// `import` would not compile to CommonJS (TS1479). The types still come from the package.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { decodeHTML } = require('entities') as typeof Entities;

/**
 * Turns a raw value into what a downstream interpreter (SQL engine, browser, shell, file system)
 * would eventually see, so that rules match attack structure rather than its disguise:
 * `+` as space (query and form values), percent-encoding up to two nested levels beyond the first
 * (IIS `%uXXXX` and overlong UTF-8 `%c0%af` included), HTML entities, JavaScript `\uXXXX`/`\xXX`
 * escapes, null bytes dropped, Unicode NFKC (fullwidth `＜` becomes `<`).
 *
 * Hand-written rather than a library because no maintained package decodes for *inspection*:
 * decoders for *use* (decodeURIComponent, qs) throw on or skip the malformed and overlong forms
 * attackers send precisely because filters give up on them.
 */

/** One normal decoding plus two nested levels (`%2527` → `%27` → `'`). */
const MAX_ROUNDS = 3;

/** Anything the rounds could change; most values have none of these and return at once. */
const NEEDS_ROUND = /[%&\\]/;
/**
 * Characters whose NFKC form holds an ASCII letter, digit or punctuation (fullwidth and small forms,
 * letterlike and enclosed alphanumerics, ligatures, compatibility spaces, dot leaders, super- and
 * subscripts, mathematical alphanumerics via their surrogate lead U+D835, slash lookalikes). Built
 * once from the blocks that hold them by asking `normalize` itself, so text in Devanagari, Tamil,
 * Arabic, Cyrillic, and ordinary typography (em dashes, curly quotes) skips a normalisation pass
 * that would cost more than the scan.
 */
const NFKC_TO_ASCII = (() => {
  const blocks: Array<[number, number]> = [
    [0xa0, 0xbf],
    [0x2b0, 0x2ff],
    [0x1d00, 0x1dbf],
    [0x2000, 0x209f],
    [0x2100, 0x218f],
    [0x2460, 0x24ff],
    [0x2e00, 0x2e7f],
    [0x3000, 0x33ff],
    [0xfb00, 0xfb4f],
    [0xfe10, 0xfe6f],
    [0xff00, 0xffef],
  ];
  // One byte per UTF-16 code unit: a table lookup per character is cheaper than a long character class.
  const table = new Uint8Array(0x10000);
  for (const [from, to] of blocks) {
    for (let c = from; c <= to; c++) if (/[\x20-\x7e]/.test(String.fromCharCode(c).normalize('NFKC'))) table[c] = 1;
  }
  for (const c of [0x2044, 0x2215, 0x29f5, 0x29f6, 0x29f7, 0x29f8, 0x29f9, 0xd835]) table[c] = 1;
  return table;
})();

function needsNormalising(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xa0 && NFKC_TO_ASCII[c] === 1) return true;
  }
  return false;
}
const PERCENT = /%(?:[0-9a-f]{2}|u[0-9a-f]{4})/i;
const ENTITY = /&(?:#x?[0-9a-f]+|[a-z][a-z0-9]{1,31});?/i;
const JS_ESCAPE = /\\(?:u[0-9a-f]{4}|x[0-9a-f]{2})/i;

/** Slash lookalikes NFKC leaves alone but that path normalisers in the wild fold to `/` or `\`. */
const SLASH_LOOKALIKES = /[\u2215\u2044\u29f8\u29f5\u29f9]/g;
const SLASH_FOR: Readonly<Record<string, string>> = { '\u2215': '/', '\u2044': '/', '\u29f8': '/', '\u29f5': '\\', '\u29f9': '\\' };

export function decodeForScan(raw: string, plusAsSpace: boolean): string {
  let s = plusAsSpace && raw.includes('+') ? raw.replaceAll('+', ' ') : raw;
  if (needsNormalising(s)) s = normalise(s);
  if (NEEDS_ROUND.test(s)) {
    const before = s;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      let next = s;
      if (next.includes('%') && PERCENT.test(next)) next = percentDecode(next);
      if (next.includes('&') && ENTITY.test(next)) next = decodeHTML(next);
      if (next.includes('\\') && JS_ESCAPE.test(next)) next = jsUnescape(next);
      if (next === s) break;
      s = next;
    }
    if (s !== before && needsNormalising(s)) s = normalise(s);
  }
  return s.includes('\0') ? s.replaceAll('\0', '') : s;
}

function normalise(s: string): string {
  return s.normalize('NFKC').replace(SLASH_LOOKALIKES, (c) => SLASH_FOR[c] ?? c);
}

const IIS_UNICODE = /%u([0-9a-f]{4})/gi;
/** Overlong UTF-8 encodings of ASCII (`%c0%af` = `/`, `%e0%80%ae` = `.`): invalid, but some decoders honour them. */
const OVERLONG_2 = /%c([01])%([0-9a-f]{2})/gi;
const OVERLONG_3 = /%e0%[89][0-9a-f]%([0-9a-f]{2})/gi;
const BYTE_RUN = /(?:%[0-9a-f]{2})+/gi;

function percentDecode(s: string): string {
  if (s.includes('%u') || s.includes('%U')) s = s.replace(IIS_UNICODE, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  try {
    return decodeURIComponent(s);
  } catch {
    // Malformed somewhere (a lone `%`, a truncated or overlong sequence): decode what can be.
    return s
      .replace(OVERLONG_2, (_, hi: string, lo: string) => String.fromCharCode(((parseInt(hi, 16) & 0x1f) << 6) | (parseInt(lo, 16) & 0x3f)))
      .replace(OVERLONG_3, (_, lo: string) => String.fromCharCode(parseInt(lo, 16) & 0x3f))
      .replace(BYTE_RUN, (run) => Buffer.from(run.replaceAll('%', ''), 'hex').toString('utf8'));
  }
}

const JS_ESCAPES = /\\u([0-9a-f]{4})|\\x([0-9a-f]{2})/gi;
function jsUnescape(s: string): string {
  return s.replace(JS_ESCAPES, (_, u: string | undefined, x: string | undefined) => String.fromCharCode(parseInt(u ?? x ?? '0', 16)));
}
