import { C, charMask, SAFE_BITS } from './chars';
import type { PayloadKind } from './kinds';
import { RULES, type View } from './rules';

export interface PayloadHit {
  readonly kind: PayloadKind;
  readonly rule: string;
}

const NONE: readonly PayloadHit[] = Object.freeze([]);

/**
 * Values made only of letters, digits, spaces and `,.?!+-` (SAFE_BITS; not newlines, which
 * separate shell commands) cannot complete any rule's structure except the keyword-only ones
 * checked here: most real values (ids, names, numbers, phone numbers, plain prose) leave without
 * running a single rule.
 */
const SAFE_BUT_KEYWORD = /union|\.\.|sysobjects|syscolumns/i;

const SQL_COMMENT = /\/\*!\d*|\/\*(?!!)[\s\S]*?\*\/|\*\//g;
const WHITESPACE_RUN = /\s+/g;
/** Unicode spaces \s also collapses (most are NFKC-folded to ' ' already by the decoder). */
const NBSP_LIKE = /[\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]/;
const BLANK_OR_CONTROL = /[\x00-\x20\x7f]+/g;
/** Shell no-ops used to hide a command from filters: `${IFS}`, `$IFS$9`, `''`, `""`, `c\at`, `$@`. */
const SHELL_NOOP_CHARS = C.QUOTE | C.DOLLAR | C.BACKSLASH;
const SHELL_NOOPS = /\$\{ifs\}|\$ifs(?:\$\d)?|''|""|\$@|(?<=[a-z])\\(?=[a-z])/g;

/**
 * Runs the payload rules over one decoded value: at most one hit per kind (the first rule, in
 * RULES order, that matches). Views other than `text` are built only when a rule needs them.
 */
export function scanValue(decoded: string): readonly PayloadHit[] {
  const chars = charMask(decoded);
  if ((chars & ~SAFE_BITS) === 0 && !SAFE_BUT_KEYWORD.test(decoded)) return NONE;
  const text = decoded.toLowerCase();

  let sql: string | undefined;
  let compact: string | undefined;
  let shell: string | undefined;
  const view = (v: View): string => {
    switch (v) {
      case 'text':
        return text;
      case 'sql':
        return (sql ??= text.includes('/*')
          ? text.replace(SQL_COMMENT, ' ').replace(WHITESPACE_RUN, ' ')
          : chars & (C.TAB | C.NEWLINE | C.CONTROL) || text.includes('  ') || NBSP_LIKE.test(text)
            ? text.replace(WHITESPACE_RUN, ' ')
            : text);
      case 'compact':
        // Both compact-view rules match a URL scheme, so without a colon the copy is not worth making.
        return (compact ??= chars & C.COLON ? text.replace(BLANK_OR_CONTROL, '') : text);
      case 'shell':
        return (shell ??= chars & SHELL_NOOP_CHARS ? text.replace(SHELL_NOOPS, (m) => (m.startsWith('$') && m !== '$@' ? ' ' : '')) : text);
    }
  };

  let hits: PayloadHit[] | undefined;
  let seen = 0; // bit set of kinds already hit
  for (const rule of RULES) {
    const bit = KIND_BIT[rule.kind];
    if (seen & bit || (chars & rule.anyOf) === 0) continue;
    const subject = view(rule.view);
    if (rule.when !== undefined && !rule.when(subject, chars)) continue;
    if (rule.re.test(subject)) {
      seen |= bit;
      (hits ??= []).push({ kind: rule.kind, rule: rule.id });
    }
  }
  return hits ?? NONE;
}

const KIND_BIT: Readonly<Record<PayloadKind, number>> = { sql_injection: 1, xss: 2, command_injection: 4, path_traversal: 8 };
