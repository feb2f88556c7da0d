import { C } from './chars';

/**
 * The path-traversal rules. SQL, HTML/JavaScript and shell injection are judged by the grammars in
 * sql.ts, xss.ts and shell.ts; a file path has no grammar beyond its separators, so structure here
 * is a `..` segment, a well-known sensitive file, or a stream wrapper, all on the decoded value.
 *
 * docs/anomaly-detection.md documents every rule id, what it matches and how to tune it.
 */

export interface Rule {
  readonly id: string;
  readonly kind: 'path_traversal';
  /**
   * Cheap preconditions, checked before the regular expression: `anyOf`, punctuation of which the
   * value must hold at least one (chars.ts); `when`, a keyword test on the lower-cased value. Each
   * must be implied by the rule, so that it skips work and never hides a match.
   */
  readonly anyOf: number;
  readonly when?: (subject: string) => boolean;
  readonly re: RegExp;
}

const SENSITIVE_PATH_WORD = /etc[/\\]|proc[/\\]|win(?:dows|nt)[/\\]|boot\.ini|web-inf|\.aws|\.ssh|\.git|\.ht(?:passwd|access)|\.bash_history|\.env|var[/\\]log/;

export const RULES: readonly Rule[] = [
  // --- path traversal -----------------------------------------------------------------------
  {
    // ../ · ..\ · ....// · ..;/ · %2e%2e%2f · ..%c0%af · ．．／ · trailing /..
    id: 'trav.dot_dot_slash',
    kind: 'path_traversal',
    anyOf: C.DOT,
    when: (t) => t.includes('..'),
    // The dots must start a path segment: "hmm...../ok" is prose, "=../../x" and "/../" are not.
    re: /(?:^|[/\\=:;,'"\s(|&])\.\.+(?:[/\\]|;[/\\])|[/\\]\.\.+$|^\.\.$/,
  },
  {
    // /etc/passwd · /proc/self/environ · c:\windows\win.ini · web-inf/web.xml · .ssh/id_rsa
    id: 'trav.sensitive_file',
    kind: 'path_traversal',
    anyOf: C.SLASH | C.BACKSLASH,
    when: (t) => SENSITIVE_PATH_WORD.test(t),
    re: /(?:^|[/\\=:\s"'])(?:etc[/\\](?:passwd|shadow|group|hosts|issue|sudoers|crontab|hostname|os-release)\b|proc[/\\](?:self|\d+)[/\\](?:environ|cmdline|maps|fd|status|mem|cwd|root)\b|(?:windows|winnt)[/\\](?:win\.ini|system\.ini|system32|repair|panther)\b|boot\.ini\b|web-inf[/\\]|\.aws[/\\]credentials)|[/\\](?:\.ssh[/\\]|\.git[/\\](?:config|head|index)\b|\.htpasswd\b|\.htaccess\b|\.bash_history\b|\.env(?:\.\w+)?$|var[/\\]log[/\\])/,
  },
  {
    // file:///etc/passwd · php://filter/… · phar:// · zip:// · expect://id
    id: 'trav.stream_wrapper',
    kind: 'path_traversal',
    anyOf: C.COLON,
    when: (t) => t.includes('://'),
    re: /\b(?:file|php|phar|zip|expect|glob|jar|netdoc|compress\.zlib)[:]\/\//,
  },
];
