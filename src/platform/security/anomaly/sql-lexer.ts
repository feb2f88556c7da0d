/**
 * A small SQL lexer for inspection: it reads a value the way a database parser would if the value
 * were pasted into a query, and reduces it to tokens of a few classes. Hand-written because no
 * maintained npm package lexes *fragments* across dialects without throwing on the half-statements
 * an injection produces; the dialect facts below cover PostgreSQL, MySQL, MSSQL, Oracle and SQLite.
 *
 * Token classes (one character each, so a token sequence reads as a short fingerprint):
 *   n number · s string (closed) · u string left open at the end (its first characters as text) · v variable (@x, @@x, :x, $1)
 *   b true/false/null · w word/identifier · f function (word followed by `(`) · k keyword
 *   S select · U union · X statement verb (drop, insert, exec, waitfor …) · & and/or/xor/&&/||
 *   o operator (= < > + - * / like is in …) · ( ) , ; · c comment · x anything else
 */

export type TokenClass = 'n' | 's' | 'u' | 'v' | 'b' | 'w' | 'f' | 'k' | 'S' | 'U' | 'X' | '&' | 'o' | '(' | ')' | ',' | ';' | 'c' | 'x';

export interface Token {
  readonly cls: TokenClass;
  /** Lower-cased text for words, keywords and operators; empty for literals and punctuation. */
  readonly text: string;
}

/** Tokens read per value and context: enough for any fingerprint judged, and a bound on work. */
export const MAX_TOKENS = 48;

const KEYWORDS = new Set([
  'from',
  'where',
  'as',
  'by',
  'order',
  'group',
  'having',
  'limit',
  'offset',
  'into',
  'values',
  'set',
  'table',
  'all',
  'distinct',
  'top',
  'case',
  'when',
  'then',
  'else',
  'end',
  'exists',
  'procedure',
  'delay',
  'time',
  'outfile',
  'dumpfile',
  'join',
  'on',
  'begin',
  'declare',
  'fetch',
  'rows',
  'only',
  'database',
  'schema',
  'view',
  'index',
  'user',
  'column',
  'asc',
  'desc',
  'with',
  'returning',
  'dual',
  'boolean',
  'mode',
  'natural',
  'cross',
  'inner',
  'outer',
  'left',
  'right',
  'using',
  'if',
  'while',
]);
/** Keywords that are also functions when a `(` follows. */
const CALLABLE_KEYWORDS = new Set(['if', 'left', 'right', 'user', 'database', 'schema', 'values', 'exists', 'case', 'time', 'index', 'replace']);
const STATEMENT_VERBS = new Set([
  'drop',
  'insert',
  'delete',
  'update',
  'exec',
  'execute',
  'declare',
  'waitfor',
  'shutdown',
  'create',
  'alter',
  'truncate',
  'grant',
  'revoke',
  'merge',
  'call',
  'load',
  'copy',
  'replace',
  'rename',
  'handler',
]);
const LOGIC = new Set(['and', 'or', 'xor', 'div']);
const WORD_OPERATORS = new Set(['like', 'rlike', 'regexp', 'is', 'in', 'between', 'not', 'mod', 'sounds', 'escape', 'collate', 'glob', 'match', 'against']);
const LITERALS = new Set(['true', 'false', 'null', 'unknown']);

// Character classes by table: the lexer's inner loops read one array entry per character.
const WORD_START = 1;
const WORD_CHAR = 2; // letters, digits, `_`, `$` inside names (Oracle v$version)
const CHAR_CLASS = (() => {
  const t = new Uint8Array(128);
  for (let c = 0; c < 128; c++) {
    const letter = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
    const digit = c >= 48 && c <= 57;
    t[c] = (letter ? WORD_START | WORD_CHAR : 0) | (digit || c === 36 ? WORD_CHAR : 0);
  }
  return t;
})();
const isWordStart = (c: number) => (c < 128 ? (CHAR_CLASS[c]! & WORD_START) !== 0 : c >= 128); // NaN (past the end) is neither
const isDigit = (c: number) => c >= 48 && c <= 57;
const isWordChar = (c: number) => (c < 128 ? (CHAR_CLASS[c]! & WORD_CHAR) !== 0 : c >= 128);
const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13) || c === 160;

/** Two-character operators; single ones are the OPERATOR_CHARS below. */
const OPERATORS_2 = new Set(['<=', '>=', '<>', '!=', '::', '||', '&&', '<<', '>>', ':=', '!<', '!>']);
const OPERATOR_CHARS = '=<>+-*/%^|&~!';

/**
 * Lexes `s` starting in `quote` context: `undefined` reads it as is; `'` or `"` reads it as if it
 * came right after an opening quote, so the first token is the rest of that string literal.
 */
export function lexSql(value: string, quote?: "'" | '"' | '`', maxTokens = MAX_TOKENS): Token[] {
  return lexLower(value.toLowerCase(), quote, maxTokens);
}

/** lexSql for text already lower-cased (the scan lower-cases each value once for every analyser). */
export function lexLower(s: string, quote?: "'" | '"' | '`', maxTokens = MAX_TOKENS): Token[] {
  const out: Token[] = [];
  const n = s.length;
  let i = 0;
  if (quote !== undefined) i = readString(s, 0, quote.charCodeAt(0), out);
  while (i < n && out.length < maxTokens) {
    const c = s.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    // Comments: `--` (MySQL wants a space after it; others do not), `#` (MySQL), `/* */`.
    if ((c === 45 && s.charCodeAt(i + 1) === 45) || c === 35) {
      out.push(COMMENT);
      const nl = s.indexOf('\n', i);
      i = nl === -1 ? n : nl + 1;
      continue;
    }
    if (c === 47 && s.charCodeAt(i + 1) === 42) {
      // MySQL runs the body of `/*!…*/` (optionally versioned): read it as code, drop the markers.
      if (s.charCodeAt(i + 2) === 33) {
        i += 3;
        while (i < n && isDigit(s.charCodeAt(i))) i++;
        continue;
      }
      const close = s.indexOf('*/', i + 2);
      // A closed comment is whitespace to the parser (`UNION/**/SELECT`); an open one cuts the query off.
      if (close === -1) out.push(COMMENT);
      i = close === -1 ? n : close + 2;
      continue;
    }
    if (c === 42 && s.charCodeAt(i + 1) === 47) {
      i += 2; // the end of a `/*!` body
      continue;
    }
    if (c === 39 || c === 34) {
      i = readString(s, i + 1, c, out);
      continue;
    }
    // Quoted identifiers: `name` (MySQL), [name] (MSSQL).
    if (c === 96 || c === 91) {
      const close = s.indexOf(c === 96 ? '`' : ']', i + 1);
      out.push(WORD);
      i = close === -1 ? n : close + 1;
      continue;
    }
    if (isDigit(c) || (c === 46 && isDigit(s.charCodeAt(i + 1)))) {
      i = readNumber(s, i, out);
      continue;
    }
    if (c === 64 || ((c === 58 || c === 36) && isWordChar(s.charCodeAt(i + 1)))) {
      let j = i + 1;
      if (s.charCodeAt(j) === 64) j++;
      while (j < n && (isWordChar(s.charCodeAt(j)) || s.charCodeAt(j) === 46)) j++;
      out.push({ cls: 'v', text: s.slice(i, j) });
      i = j;
      continue;
    }
    if (isWordStart(c)) {
      let j = i + 1;
      // Dotted names are one identifier: information_schema.tables, master..xp_cmdshell.
      while (
        j < n &&
        (isWordChar(s.charCodeAt(j)) ||
          (s.charCodeAt(j) === 46 && isWordChar(s.charCodeAt(j + 1) || 0)) ||
          (s.charCodeAt(j) === 46 && s.charCodeAt(j + 1) === 46))
      )
        j++;
      const word = s.slice(i, j);
      i = j;
      out.push(classifyWord(word, s, i));
      continue;
    }
    if (c === 40) out.push(LPAREN);
    else if (c === 41) out.push(RPAREN);
    else if (c === 44) out.push(COMMA);
    else if (c === 59) out.push(SEMI);
    else if (OPERATOR_CHARS.includes(s[i]!)) {
      const two = s.slice(i, i + 2);
      if (OPERATORS_2.has(two)) {
        const op = two === '<=' && s[i + 2] === '>' ? '<=>' : two; // MySQL's null-safe equality
        out.push(op === '||' || op === '&&' ? { cls: '&', text: op } : { cls: 'o', text: op });
        i += op.length;
        continue;
      }
      out.push({ cls: 'o', text: s[i]! });
    } else out.push(OTHER);
    i++;
  }
  return out;
}

const COMMENT: Token = { cls: 'c', text: '' };
const WORD: Token = { cls: 'w', text: '' };
const LPAREN: Token = { cls: '(', text: '' };
const RPAREN: Token = { cls: ')', text: '' };
const COMMA: Token = { cls: ',', text: '' };
const SEMI: Token = { cls: ';', text: '' };
const OTHER: Token = { cls: 'x', text: '' };
const STRING: Token = { cls: 's', text: '' };

/** A string literal from `i` (just past its opening quote); a doubled quote or a backslash escapes. */
function readString(s: string, i: number, q: number, out: Token[]): number {
  const n = s.length;
  const start = i;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 92) {
      i += 2;
      continue;
    }
    if (c === q) {
      if (s.charCodeAt(i + 1) === q) {
        i += 2;
        continue;
      }
      out.push(STRING);
      return i + 1;
    }
    i++;
  }
  out.push({ cls: 'u', text: s.slice(start, start + 64) });
  return n;
}

function readNumber(s: string, i: number, out: Token[]): number {
  const n = s.length;
  let j = i;
  if (s.charCodeAt(j) === 48 && (s.charCodeAt(j + 1) | 32) === 120) {
    j += 2;
    while (j < n && (isDigit(s.charCodeAt(j)) || (s.charCodeAt(j) >= 97 && s.charCodeAt(j) <= 102))) j++;
  } else {
    while (j < n && (isDigit(s.charCodeAt(j)) || s.charCodeAt(j) === 46)) j++;
    if ((s.charCodeAt(j) | 32) === 101 && (isDigit(s.charCodeAt(j + 1)) || ((s[j + 1] === '-' || s[j + 1] === '+') && isDigit(s.charCodeAt(j + 2))))) {
      j += 2;
      while (j < n && isDigit(s.charCodeAt(j))) j++;
    }
  }
  // `2nd`, `5pm`, `1Z999`: a word to a reader, not a number followed by an identifier.
  if (j < n && isWordStart(s.charCodeAt(j))) {
    while (j < n && isWordChar(s.charCodeAt(j))) j++;
    out.push(WORD);
    return j;
  }
  out.push({ cls: 'n', text: s.slice(i, j) });
  return j;
}

/** One lookup per word: the class a word has when no `(` follows it (a call makes most words `f`). */
const WORD_CLASS = (() => {
  const m = new Map<string, TokenClass>();
  for (const w of KEYWORDS) m.set(w, 'k');
  for (const w of STATEMENT_VERBS) m.set(w, 'X');
  for (const w of WORD_OPERATORS) m.set(w, 'o');
  for (const w of LITERALS) m.set(w, 'b');
  for (const w of LOGIC) m.set(w, '&');
  for (const w of ['union', 'intersect', 'except', 'minus']) m.set(w, 'U');
  m.set('select', 'S');
  return m;
})();
/** Classes a following `(` does not turn into a call. */
const NEVER_CALLED = new Set<TokenClass>(['S', 'U', '&', 'b', 'o']);

function classifyWord(word: string, s: string, after: number): Token {
  const cls = WORD_CLASS.get(word);
  if (cls !== undefined && (NEVER_CALLED.has(cls) || (cls === 'k' && !CALLABLE_KEYWORDS.has(word)))) return { cls, text: word };
  if (nextNonSpace(s, after) === 40) return { cls: 'f', text: word };
  return { cls: cls ?? 'w', text: word };
}

function nextNonSpace(s: string, i: number): number {
  // Comments between a name and its `(` still make a call: SLEEP/**/(5).
  for (let k = 0; i < s.length && k < 64; k++) {
    const c = s.charCodeAt(i);
    if (isSpace(c)) i++;
    else if (c === 47 && s.charCodeAt(i + 1) === 42) {
      const close = s.indexOf('*/', i + 2);
      if (close === -1) return -1;
      i = close + 2;
    } else return c;
  }
  return -1;
}

export function fingerprint(tokens: readonly Token[]): string {
  let f = '';
  for (const t of tokens) f += t.cls;
  return f;
}
