/**
 * Which punctuation a value contains, as a bit set computed in one pass. Every rule needs some
 * of it (a quote, `<`, a shell separator …) before its structure can match, so most rules are
 * skipped without running a regular expression: that is what keeps a typical request within its
 * microsecond budget (bench/anomaly.bench.js).
 */
export const C = {
  QUOTE: 1 << 0, // ' " `
  LT: 1 << 1,
  GT: 1 << 2,
  EQ: 1 << 3,
  SEMI: 1 << 4,
  PIPE: 1 << 5,
  AMP: 1 << 6,
  DOLLAR: 1 << 7,
  LPAREN: 1 << 8,
  SLASH: 1 << 9,
  BACKSLASH: 1 << 10,
  HASH: 1 << 11,
  DASH: 1 << 12,
  NEWLINE: 1 << 13,
  COLON: 1 << 14,
  AT: 1 << 15,
  UNDERSCORE: 1 << 16,
  BACKTICK: 1 << 17,
  /** Control characters other than newlines (tab, NUL …): hide a URL scheme from naive filters. */
  CONTROL: 1 << 18,
  DOT: 1 << 19,
  TAB: 1 << 20,
  /** Anything else outside SAFE (letters, digits, space, tab, `,.?!+-`): `)`, `%`, `*`, `{`, non-ASCII … */
  OTHER: 1 << 21,
} as const;

/**
 * A value whose mask has no bit outside this set holds only letters, digits, spaces and `,.?!+-`:
 * it cannot complete any rule's structure except the keyword-only ones (see scan-value.ts).
 */
export const SAFE_BITS = C.DOT | C.DASH | C.TAB;

export const SHELL_SEPARATORS = C.SEMI | C.PIPE | C.AMP | C.NEWLINE | C.DOLLAR;

/** Bits per ASCII code, built once from the table above: one array read per character. */
const ASCII_BITS = (() => {
  const t = new Int32Array(128);
  const set = (chars: string, bit: number) => {
    for (const ch of chars) t[ch.charCodeAt(0)]! |= bit;
  };
  for (let c = 0; c < 32; c++) t[c] = C.CONTROL;
  for (let c = 33; c < 127; c++) {
    const safe = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || '!+,?'.includes(String.fromCharCode(c));
    if (!safe) t[c] = C.OTHER;
  }
  t[127] = C.CONTROL;
  t[9] = C.TAB;
  t[10] = t[13] = C.NEWLINE;
  set(`'"`, C.QUOTE);
  set('`', C.QUOTE | C.BACKTICK);
  set('<', C.LT);
  set('>', C.GT);
  set('=', C.EQ);
  set(';', C.SEMI);
  set('|', C.PIPE);
  set('&', C.AMP);
  set('$', C.DOLLAR);
  set('(', C.LPAREN);
  set('/', C.SLASH);
  set('\\', C.BACKSLASH);
  set('#', C.HASH);
  set('-', C.DASH);
  set(':', C.COLON);
  set('@', C.AT);
  set('_', C.UNDERSCORE);
  set('.', C.DOT);
  // The tracked characters are not OTHER: clear that bit where a specific one was set.
  for (let c = 33; c < 127; c++) if (t[c]! & ~C.OTHER) t[c]! &= ~C.OTHER;
  return t;
})();

export function charMask(s: string): number {
  let m = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    m |= c < 128 ? ASCII_BITS[c]! : C.OTHER;
  }
  return m;
}
