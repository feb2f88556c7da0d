import { C, charMask, SAFE_BITS, SHELL_SEPARATORS } from './chars';
import type { PayloadKind } from './kinds';
import { RULES } from './rules';
import { detectShell, leadsWithProgram } from './shell';
import { detectSql } from './sql';
import { detectXss } from './xss';

export interface PayloadHit {
  readonly kind: PayloadKind;
  readonly rule: string;
}

const NONE: readonly PayloadHit[] = Object.freeze([]);

/**
 * Values made only of letters, digits, spaces and `,.?!+-` (SAFE_BITS; not newlines, which
 * separate shell commands) cannot hold a string break-out, a tag, a shell separator or a call:
 * the only structures they can complete are a UNION that reaches a SELECT, a clause or comment
 * after a number (`9 ORDER BY 3--`) and a `..` path segment.
 * Most real values (ids, names, numbers, phone numbers, plain prose) leave after this test.
 */
const SAFE_BUT_KEYWORD = /union|intersect|except|minus|\.\.|--|\b(?:order|group)\s+by\b/i;

/** Which grammars a value's characters can complete; each analyser runs only when its test passes. */
const SQL_STRUCTURE = C.UNDERSCORE | C.AT | C.EQ | C.LT | C.GT | C.LPAREN | C.SEMI | C.PIPE | C.AMP | C.HASH | C.DASH | C.SLASH;
const XSS_CHARS = C.LT | C.EQ | C.COLON | C.LPAREN | C.BACKTICK;
const SHELL_CHARS = SHELL_SEPARATORS | C.BACKTICK | C.SLASH | C.CONTROL | C.LPAREN;
const SQL_WORD =
  /union|select|sleep|benchmark|waitfor|information_schema|sysobjects|syscolumns|pg_|sqlite_|xp_|dbms_|utl_|@@|\b(?:when|and|or|xor|order|group|having|where|limit|procedure|into|exec|execute|drop|insert|delete|update|declare|shutdown|create|alter|truncate|like|rlike|regexp|in)\b|&&|\|\||--|#|\/\*|[a-z_]\s*\(/i;

/** Runs the analysers over one decoded value: at most one hit per kind. */
export function scanValue(decoded: string): readonly PayloadHit[] {
  const chars = charMask(decoded);
  // `uname -a` is made of safe characters too: a value that starts with a program name and an argument goes on.
  if ((chars & ~SAFE_BITS) === 0 && !SAFE_BUT_KEYWORD.test(decoded) && !(decoded.includes(' ') && leadsWithProgram(decoded.toLowerCase()))) return NONE;
  const text = decoded.toLowerCase();
  let hits: PayloadHit[] | undefined;

  const quote = (chars & C.QUOTE) !== 0;
  // Catalog names (information_schema, @@version) need no punctuation beyond `_` or `@`.
  if ((quote || (chars & SQL_STRUCTURE) !== 0 || text.includes('union') || text.includes('*')) && SQL_WORD.test(text)) {
    const rule = detectSql(decoded, quote, text);
    if (rule !== undefined) (hits ??= []).push({ kind: 'sql_injection', rule });
  }
  if ((chars & XSS_CHARS) !== 0) {
    const rule = detectXss(decoded, text);
    if (rule !== undefined) (hits ??= []).push({ kind: 'xss', rule });
  }
  if ((chars & SHELL_CHARS) !== 0 || leadsWithProgram(text) || text.includes('<!--#')) {
    const rule = detectShell(decoded, text);
    if (rule !== undefined) (hits ??= []).push({ kind: 'command_injection', rule });
  }
  for (const rule of RULES) {
    if ((chars & rule.anyOf) === 0) continue;
    if (rule.when !== undefined && !rule.when(text)) continue;
    if (rule.re.test(text)) {
      (hits ??= []).push({ kind: rule.kind, rule: rule.id });
      break;
    }
  }
  return hits ?? NONE;
}
