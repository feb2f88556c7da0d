import { ANY, C, SHELL_SEPARATORS } from './chars';
import type { PayloadKind } from './kinds';

/**
 * The payload rules. Each looks for the STRUCTURE of an attack (a quote that closes a string and
 * then speaks SQL, a tag that runs script, a separator followed by a shell command with its
 * arguments, a `../` after decoding), never for single characters: apostrophes, `&`, `;`,
 * parentheses, `--` and `$` all occur in ordinary names, prose, URLs and phone numbers.
 *
 * Rules run on lower-cased decoded text (see decode.ts) through one of four views:
 * - `text`: the decoded value, lower-cased;
 * - `sql`: `text` with SQL comments removed (MySQL `/*!50000UNION*​/` keeps its content) and runs of
 *   whitespace collapsed, so `UNION/**​/SELECT` reads as `union select`;
 * - `compact`: `text` without whitespace and control characters, as a browser reads a URL scheme
 *   (`java\tscript:`);
 * - `shell`: `text` with the shell's no-op disguises removed (`${IFS}`, empty quotes, `c\at`).
 *
 * docs/anomaly-detection.md documents every rule id, what it matches and how to tune it.
 */

export type View = 'text' | 'sql' | 'compact' | 'shell';

export interface Rule {
  readonly id: string;
  readonly kind: PayloadKind;
  readonly view: View;
  /**
   * Cheap preconditions, checked before the regular expression: `anyOf`, punctuation of which the
   * value must hold at least one (chars.ts); `when`, a keyword test on the rule's view. Each must
   * be implied by the rule, so that it skips work and never hides a match.
   */
  readonly anyOf: number;
  readonly when?: (subject: string, chars: number) => boolean;
  readonly re: RegExp;
}

// Shell commands worth reaching for after an injected separator, grouped by how they are used.
const INFO_CMDS = 'id|whoami|uname|hostname|pwd|ifconfig|ipconfig|printenv|env|systeminfo|tasklist|netstat|ls|dir|ps';
const READ_CMDS = 'cat|head|tail|more|less|nl|tac|od|xxd|strings|base64|type|sort|grep|awk|sed|find|cp|mv|touch';
const NET_CMDS = 'wget|curl|nc|ncat|netcat|telnet|nslookup|ping|dig|ftp|tftp|ssh|scp|socat';
const SHELLS = 'bash|sh|zsh|ksh|dash|csh|python[23]?|perl|ruby|php|node|powershell|pwsh|cmd(?:\\.exe)?';
const SUBST_CMDS = `${INFO_CMDS}|${READ_CMDS}|${NET_CMDS}|${SHELLS}|sleep|echo|printf|rm|expr|cut|xargs|nohup`;
/**
 * Where a shell starts a new command: `;`, `|`, `||`, `&`, `&&`, a newline, `$(`. Backticks are
 * left to cmdi.substitution, which tells them apart from markdown inline code.
 */
const SEP = '(?:[;|&\\n\\r]|\\$\\()';

/** Functions a blind SQL injection calls right after `' and` / `' or`. */
const SQL_FUNCS =
  'ascii|substr(?:ing)?|mid|length|len|ord|char|chr|if|iif|case|exists|sleep|pg_sleep|benchmark|extractvalue|updatexml|count|user|database|version|current_user|system_user|cast|convert|hex|bin|unicode|left|right|instr|rand|floor|elt|make_set|load_file|row|json_keys|randomblob|regexp_substr|utl_inaddr\\.get_host_name|ctxsys\\.drithsx\\.sn|dbms_\\w+\\.\\w+|db_name|schema_name|@@\\w+';

const EVENTS =
  'abort|activate|afterprint|animation(?:start|end|iteration)|auxclick|beforeprint|beforeunload|begin|blur|canplay(?:through)?|change|click|contextmenu|copy|cut|dblclick|drag(?:start|end|enter|leave|over)?|drop|end|error|focus(?:in|out)?|formdata|hashchange|input|invalid|key(?:down|press|up)|load(?:start|end|eddata|edmetadata)?|message|mouse(?:down|enter|leave|move|out|over|up|wheel)|page(?:show|hide)|paste|pause|play(?:ing)?|pointer(?:down|enter|leave|move|out|over|up|rawupdate)|popstate|progress|readystatechange|repeat|reset|resize|scroll(?:end)?|search|select(?:start|ionchange)?|show|start|submit|toggle|touch(?:start|end|move|cancel)|transition(?:start|end|run|cancel)|unload|volumechange|wheel|finish|bounce|content(?:visibilityautostatechange)?|webkit\\w+';

// Keyword pre-checks used by gates: literal alternations V8 scans fast, run before the rules'
// structural expressions. Each is implied by its rule, so a gate never hides a match.
const STACKED_WORD = /;\s*(?:drop|truncate|delete|insert|update|alter|create|exec|declare|shutdown|grant|select|waitfor|copy|load|set)\b/;
const DELAY_WORD = /sleep|benchmark|waitfor|dbms_|randomblob/;
const CATALOG_WORD =
  /information_schema|xp_|sp_|load_file|outfile|dumpfile|mysql\.|sys(?:objects|columns|\.|_context)|pg_|sqlite_|all_tab|utl_|extractvalue|updatexml|@@|concat|ch(?:a)?r\s*\(|unhex|dbms_|current_setting/;
const SINK_WORD = /(?:alert|prompt|confirm)[(`]|(?:document|window)\s*\.|eval\s*\(|set(?:timeout|interval)|fromcharcode|constructor|fetch\s*\(|atob|import|innerhtml|srcdoc|expression|binding|behavior/;
const SEP_THEN_COMMAND = new RegExp(`${SEP}\\s*(?:${SUBST_CMDS}|chmod|chown|kill|mkfifo|reboot|shutdown|net|reg|certutil|bitsadmin|wmic|crontab)`);
/** Five rules share this test on the same value: remember the last answer. */
let lastSubject = '';
let lastAnswer = false;
function sepThenCommand(subject: string): boolean {
  if (subject !== lastSubject) {
    lastSubject = subject;
    lastAnswer = SEP_THEN_COMMAND.test(subject);
  }
  return lastAnswer;
}
const REVERSE_SHELL_WORD = /\/dev\/|nc|netcat|bash|[>|]\s*\/|\(\s*\)|jndi/;
const SENSITIVE_PATH_WORD = /etc[/\\]|proc[/\\]|win(?:dows|nt)[/\\]|boot\.ini|web-inf|\.aws|\.ssh|\.git|\.ht(?:passwd|access)|\.bash_history|\.env|var[/\\]log/;

export const RULES: readonly Rule[] = [
  // --- SQL injection ------------------------------------------------------------------------
  {
    // ' or 1=1 · " or ""=" · ') or ('a'='a · ' and 1=1 · 'or'1'='1 · ' || '1'='1
    id: 'sqli.tautology_after_quote',
    kind: 'sql_injection',
    view: 'sql',
    anyOf: C.QUOTE,
    re: /['"`]\s*\)*\s*(?:or|and|xor|\|\||&&)\s*\(*\s*(?:not\s+)?[\w'"@.]*\s*(?:(?:=|<>|!=|<=?|>=?|\blike\b|\brlike\b|\bregexp\b)\s*(?:['"\d(@-]|(?:null|true|false)\b|[\w.]+\s*(?:--|#|$|\)))|\bis\s+(?:not\s+)?(?:null|true|false)\b|\bin\s*\(|\bbetween\s+\S+\s+and\b)/,
  },
  {
    // ' or true-- · ' or 1# · ' and sleep(5) · ' or exists(select … · ' and ascii(substring(…
    id: 'sqli.boolean_after_quote',
    kind: 'sql_injection',
    view: 'sql',
    anyOf: C.QUOTE,
    re: new RegExp(
      `['"\`]\\s*\\)*\\s*(?:or|and|xor|\\|\\||&&)\\s*(?:not\\s+)?(?:(?:true|false|null)\\b|\\d+\\s*(?:--|#|;|\\)|$)|\\(*\\s*select\\b|(?:${SQL_FUNCS})\\s*\\()`,
    ),
  },
  {
    // 1 or 1=1 · and 5=5 · or 'a'='a' · or x=x · or 2>1-- (unequal sides only before a comment: "2 > 1 and 3 < 4" is arithmetic)
    id: 'sqli.tautology',
    kind: 'sql_injection',
    view: 'sql',
    anyOf: C.EQ | C.LT | C.GT,
    re: /(?:^|[\s)'"`(])(?:or|and|xor|\|\||&&)(?:\s+|\s*\()\s*\(*\s*(?:(['"`]?)(\w+)\1\s*(?:=|<=>)\s*\1\2\1(?!\w)|\d+\s*(?:=|<>|!=|>=?|<=?)\s*\d+\s*(?:--|#|\/\*))/,
  },
  {
    // admin'-- · admin'# · admin'/* · 1')--
    id: 'sqli.comment_after_quote',
    kind: 'sql_injection',
    view: 'text',
    anyOf: C.QUOTE,
    when: (_, m) => (m & (C.DASH | C.HASH | C.SLASH)) !== 0,
    re: /['"]\s*\)*\s*(?:--[\s\-+]*$|--\s*[-+]|#\s*$|\/\*|;\s*(?:--|#)\s*$)/,
  },
  {
    // ' union select · 1 union all select · ) union (select · /*!union*/ select
    id: 'sqli.union_select',
    kind: 'sql_injection',
    view: 'sql',
    anyOf: ANY,
    when: (t) => t.includes('union'),
    // …followed by what a column list starts with, so "union select committee" stays prose.
    re: /\bunion(?:\s+(?:all|distinct))?\s*\(*\s*select\s*(?:[\w@.*'"`()]+\s*(?:,|\bfrom\b|--|#|$|\))|null\b|\d|\*|@@|\(|(?:concat|group_concat|char|version|user|database|load_file|table_name|column_name)\b)/,
  },
  {
    // '; drop table users-- · 1; delete from · ; exec xp_cmdshell · ; shutdown --
    id: 'sqli.stacked_query',
    kind: 'sql_injection',
    view: 'sql',
    anyOf: C.SEMI,
    when: (t) => STACKED_WORD.test(t),
    re: /;\s*(?:drop\s+(?:table|database|schema|user|view|index|function|procedure|trigger|role)\b|truncate\s+(?:table\s+)?[\w.`"[\]]+\s*(?:$|;|--|#)|delete\s+from\s+[\w.`"[\]]+|insert\s+into\s+[\w.`"[\]]+|update\s+[\w.`"[\]]+\s+set\s+[\w`"[\].]+\s*=|alter\s+(?:table|user|database|role|login)\b|create\s+(?:table|user|database|function|procedure|trigger|role|login)\b|exec(?:ute)?\s*(?:\(|(?:xp_|sp_|master\.|immediate\b|@))|declare\s+@|shutdown\b|grant\s+(?:all|dba|select|insert|update|delete|execute)\b|select\s+(?:\*|\d|@@|null\b|char\s*\(|concat|version\s*\(|user\s*\(|pg_sleep|sleep\s*\(|current_user|[\w.]+\s*,\s*[\w.]+.*\bfrom\b|[\w.]+\s+from\s+[\w.]+\s*(?:$|;|--|#|\bwhere\b|\blimit\b))|waitfor\s+delay|copy\s+\w+\s+(?:from|to)\s+program\b|load\s+data\b|set\s+@\w+\s*=)/,
  },
  {
    // sleep(5) · pg_sleep(10) · benchmark(5000000,md5(1)) · waitfor delay '0:0:5'
    id: 'sqli.time_delay',
    kind: 'sql_injection',
    view: 'sql',
    anyOf: C.LPAREN | C.QUOTE,
    when: (t) => DELAY_WORD.test(t),
    re: /\b(?:pg_sleep|sleep)\s*\(\s*\d+(?:\.\d+)?\s*\)|\bbenchmark\s*\(\s*\d+\s*,|\bwaitfor\s+(?:delay|time)\s+['"]\d|\bdbms_pipe\.receive_message\s*\(|\bdbms_lock\.sleep\s*\(|\brandomblob\s*\(\s*\d{6,}/,
  },
  {
    // ' order by 3-- · ' having 1=1 · ' group by columnnames having 1=1 · " union …
    id: 'sqli.clause_after_quote',
    kind: 'sql_injection',
    view: 'sql',
    anyOf: C.QUOTE,
    re: /['"`]\s*\)*\s*(?:union\b|select\b|having\s+\d|order\s+by\s+\d|group\s+by\s+[\w.,\s]+having\b|procedure\s+analyse|into\s+(?:out|dump)file\b|limit\s+\d+\s*,\s*\d+\s*(?:--|#))/,
  },
  {
    // (select count(*) from … · (select @@version) · (select top 1 …
    id: 'sqli.subquery',
    kind: 'sql_injection',
    view: 'sql',
    anyOf: C.LPAREN,
    when: (t) => t.includes('select'),
    re: /\(\s*select\s+(?:count\s*\(|\*|\d|char\s*\(|ascii\s*\(|substr|top\s+\d|concat|group_concat|@@|user\s*\(|database\s*\(|version\s*\(|pg_sleep|sleep\s*\(|table_name|column_name|schema_name|password|username|name\s+from)/,
  },
  {
    // information_schema · xp_cmdshell · load_file( · into outfile · @@version · extractvalue( …
    id: 'sqli.catalog_or_function',
    kind: 'sql_injection',
    view: 'sql',
    anyOf: ANY,
    when: (t, m) => ((m & (C.UNDERSCORE | C.LPAREN | C.AT | C.QUOTE)) !== 0 || t.includes('sys') || t.includes('mysql.') || t.includes('file')) && CATALOG_WORD.test(t),
    re: /\binformation_schema\b|\bxp_(?:cmdshell|regread|dirtree|fileexist)\b|\bsp_(?:executesql|oacreate|makewebtask|password)\b|\bload_file\s*\(|\binto\s+(?:out|dump)file\b|\bmysql\.(?:user|db)\b|\bsys\.(?:user_summary|schema_\w+|objects|tables|columns)\b|\bpg_(?:catalog|shadow|user|read_file|ls_dir|read_binary_file)\b|\bsqlite_(?:master|schema)\b|\bsysobjects\b|\bsyscolumns\b|\ball_tab(?:les|_columns)\b|\butl_(?:http|inaddr)\.|\bextractvalue\s*\(|\bupdatexml\s*\(|@@(?:version|datadir|hostname|basedir)\b|\bconcat(?:_ws)?\s*\(\s*0x[0-9a-f]+|\bgroup_concat\s*\(|\bchar\s*\(\s*\d+\s*(?:,\s*\d+\s*){2,}\)|\bchr\s*\(\s*\d+\s*\)\s*\|\||\bunhex\s*\(|\bsys_context\s*\(|\bdbms_(?:xmlgen|java|output)\b|\bcurrent_setting\s*\(|\bpg_sleep\b/,
  },

  // --- cross-site scripting -----------------------------------------------------------------
  {
    // <script> · </script> · < script src=…
    id: 'xss.script_tag',
    kind: 'xss',
    view: 'text',
    anyOf: C.LT,
    re: /<\s*\/?\s*script\b/,
  },
  {
    // <img src=x onerror=…> · <svg/onload=…> · <body onload=…> · <a onmouseover=…>
    id: 'xss.event_handler_in_tag',
    kind: 'xss',
    view: 'text',
    anyOf: C.LT,
    when: (_, m) => (m & C.EQ) !== 0,
    re: /<[a-z][a-z0-9-]*\b[^>]*?[\s/"'`]on[a-z]{3,}\s*=/,
  },
  {
    // " onfocus="alert(1)" autofocus=" · ' onmouseover=alert(1) · x onerror=…
    id: 'xss.event_handler_attribute',
    kind: 'xss',
    view: 'text',
    anyOf: C.EQ,
    when: (t) => t.includes('on'),
    re: new RegExp(`(?:^|[\\s/"'\`;])on(?:${EVENTS})\\s*=\\s*['"\`]?\\s*[\\w$(\\[{!+-]`),
  },
  {
    // javascript:alert(1) · java\tscript: · vbscript:msgbox · href="javascript:…
    id: 'xss.script_uri',
    kind: 'xss',
    view: 'compact',
    anyOf: C.COLON,
    when: (t, m) => (m & (C.CONTROL | C.TAB | C.NEWLINE)) !== 0 || t.includes('script'),
    re: /(?:java|vb|live|ecma)script:(?:[\w$.]+\s*(?:\(|`|=|\[)|[/'"(`{[\\]|%|&|void\b|eval\b|this\b)/,
  },
  {
    // data:text/html,… · data:image/svg+xml;base64,…
    id: 'xss.data_uri',
    kind: 'xss',
    view: 'compact',
    anyOf: C.COLON,
    when: (t) => t.includes('data'),
    re: /data:(?:text\/html|image\/svg[+ ]?xml|application\/(?:x-)?(?:javascript|ecmascript|xhtml\+xml))/,
  },
  {
    // <iframe · <object · <embed · <base href · <meta http-equiv=refresh · <svg><animate …
    id: 'xss.dangerous_tag',
    kind: 'xss',
    view: 'text',
    anyOf: C.LT,
    re: /<\s*(?:iframe|frame|frameset|object|embed|applet|base|isindex|xss|import|portal)\b|<\s*meta\b[^>]*(?:http-equiv|charset\s*=\s*['"]?utf-7)|<\s*link\b[^>]*rel\s*=\s*['"]?(?:import|stylesheet)|<\s*(?:svg|math)\b[^>]*>\s*<|<\s*(?:form|button|input)\b[^>]*\b(?:form)?action\s*=|<\s*(?:animate|handler|listener)\b/,
  },
  {
    // "><img … · '><svg … · </title><script> · </textarea>
    id: 'xss.tag_breakout',
    kind: 'xss',
    view: 'text',
    anyOf: C.GT,
    re: /['"`]\s*\/?\s*>\s*<\s*[a-z!/]|<\/\s*(?:title|textarea|style|noscript|xmp|iframe|template|plaintext|noembed|select|option)\s*>/,
  },
  {
    // ';alert(1)// · "-alert(1)-" · document.cookie · eval(atob(…)) · constructor.constructor(
    id: 'xss.script_sink',
    kind: 'xss',
    view: 'text',
    anyOf: C.LPAREN | C.BACKTICK | C.EQ | C.COLON | C.AT,
    when: (t) => SINK_WORD.test(t),
    re: /\b(?:alert|prompt|confirm)(?:\(\s*(?:\d|['"`/]|document\b|window\b|this\b|top\b|self\b|origin\b|string\.fromcharcode|[a-z]+\.[a-z]+)|`)|\bdocument\s*\.\s*(?:cookie|domain|write(?:ln)?\s*\(|location\s*=)|\bwindow\s*\.\s*(?:location\s*=|name\b|open\s*\()|\beval\s*\(|\bset(?:timeout|interval)\s*\(\s*['"`]|\bstring\s*\.\s*fromcharcode\s*\(|\bconstructor\s*\.\s*constructor\b|\bfetch\s*\(\s*['"`]https?:|\batob\s*\(|\bimport\s*\(\s*['"`]|\binnerhtml\s*=|\bsrcdoc\s*=|:\s*expression\s*\(|-moz-binding\s*:|\bbehavior\s*:\s*url\s*\(|@import\b/,
  },

  // --- command injection --------------------------------------------------------------------
  {
    // ; id · | whoami · && uname -a · ; ls -la · %0a id · `pwd`
    id: 'cmdi.info_command',
    kind: 'command_injection',
    view: 'shell',
    anyOf: SHELL_SEPARATORS,
    when: sepThenCommand,
    re: new RegExp(`${SEP}\\s*(?:${INFO_CMDS})(?:\\.exe)?\\s*(?:$|[;|&#\`)\\n]|\\s+-{1,2}[a-z]|\\s+[/\\\\~]|\\s+[a-z]:\\\\)`),
  },
  {
    // ; cat /etc/passwd · | type c:\boot.ini · && head -n1 ~/.ssh/id_rsa · ;cat${IFS}flag.txt
    id: 'cmdi.read_file',
    kind: 'command_injection',
    view: 'shell',
    anyOf: SHELL_SEPARATORS,
    when: sepThenCommand,
    re: new RegExp(
      `${SEP}\\s*(?:${READ_CMDS})\\s+(?:-[\\w-]+(?:\\s+\\d+)?\\s+)*(?:[~/\\\\]|\\.\\.?[/\\\\]|[a-z]:\\\\|[\\w.-]+\\.(?:txt|log|conf|cfg|ini|php|sh|py|env|key|pem|db|sql|json|xml|ya?ml|bak|htpasswd|passwd)\\b)`,
    ),
  },
  {
    // ; wget http://… · | curl -s evil.com · && nc 10.0.0.1 4444 · ; ping -c 3 127.0.0.1
    id: 'cmdi.network_command',
    kind: 'command_injection',
    view: 'shell',
    anyOf: SHELL_SEPARATORS,
    when: sepThenCommand,
    re: new RegExp(
      `${SEP}\\s*(?:${NET_CMDS})(?:\\.exe)?\\s+(?:-[\\w-]+\\s+(?:\\d+\\s+)?)*(?:[a-z]+:\\/\\/|\\d{1,3}(?:\\.\\d{1,3}){3}|localhost\\b|[a-z0-9-]+(?:\\.[a-z0-9-]+)*\\.[a-z]{2,}\\b)`,
    ),
  },
  {
    // ; bash -c … · | sh · && python -c … · & cmd /c … · | powershell -enc …
    id: 'cmdi.shell_invocation',
    kind: 'command_injection',
    view: 'shell',
    anyOf: SHELL_SEPARATORS | C.SLASH,
    when: (t, m) => ((m & SHELL_SEPARATORS) !== 0 && sepThenCommand(t)) || t.includes('/bin/') || ((m & C.PIPE) !== 0 && t.includes('sh')),
    re: new RegExp(`${SEP}\\s*(?:${SHELLS})(?:\\s+(?:-[a-z]*[ceis]\\b|\\/c\\b|-nop\\b|-enc\\w*\\b|-w\\s+hidden)|\\s*(?:$|[;|&\`)]))|\\/bin\\/(?:ba|z|k|da|c)?sh\\b|\\|\\s*(?:ba|z)?sh\\b`),
  },
  {
    // ; sleep 10 · | rm -rf / · ; echo pwned · ; chmod 777 … · ; kill -9 1
    id: 'cmdi.destructive_or_probe',
    kind: 'command_injection',
    view: 'shell',
    anyOf: SHELL_SEPARATORS,
    when: sepThenCommand,
    re: new RegExp(
      `${SEP}\\s*(?:sleep\\s+\\d+\\s*(?:$|[;|&#\`)\\n])|rm\\s+-[a-z]*[rf]|chmod\\s+(?:[0-7]{3,4}|[ugoa]*[+-][rwxs]+)\\s|chown\\s+\\w|kill(?:all)?\\s+-?\\d|mkfifo\\b|echo\\s+(?:['"$\`]|[\\w.-]+\\s*(?:$|[;|&>#\`)]))|printf\\s+['"]|reboot\\b|shutdown\\s+-|net\\s+(?:user|localgroup|view)\\b|reg\\s+(?:query|add)\\b|certutil\\s+-|bitsadmin\\b|wmic\\b|expr\\s+\\d|nohup\\b|xargs\\b|crontab\\s+-)`,
    ),
  },
  {
    // $(whoami) · `id` · $(sleep 5) · ${IFS} · a`cat /etc/passwd`b
    id: 'cmdi.substitution',
    kind: 'command_injection',
    view: 'text',
    anyOf: C.DOLLAR | C.BACKTICK,
    re: new RegExp(`\\$\\(\\s*(?:${SUBST_CMDS})\\b|(?:^\\s*|[;|&=:'"]\\s*|\\w)\`\\s*(?:${SUBST_CMDS})\\b[^\`]*\`|\\$\\{ifs\\}|\\$ifs\\b`),
  },
  {
    // /dev/tcp/10.0.0.1/4444 · nc -e /bin/sh · nc -lvp 4444 · bash -i >& · > /var/www/shell.php · () { :; }; (shellshock)
    id: 'cmdi.reverse_shell_or_redirect',
    kind: 'command_injection',
    view: 'shell',
    anyOf: C.SLASH | C.GT | C.LPAREN | C.DOLLAR | C.DASH,
    when: (t) => REVERSE_SHELL_WORD.test(t),
    re: /\/dev\/(?:tcp|udp)\/|\bn(?:c|cat|etcat)\s+(?:-\w+\s+)*-[a-z]*[el][a-z]*\b|\bbash\s+-i\b|>&\s*\/dev\/|[>|]\s*\/(?:tmp|var\/www|dev\/shm|etc)\/|\(\)\s*\{\s*:?\s*;?\s*\}\s*;|\$\{jndi:/,
  },

  // --- path traversal -----------------------------------------------------------------------
  {
    // ../ · ..\ · ....// · ..;/ · %2e%2e%2f · ..%c0%af · ．．／ · trailing /..
    id: 'trav.dot_dot_slash',
    kind: 'path_traversal',
    view: 'text',
    anyOf: C.DOT,
    when: (t) => t.includes('..'),
    // The dots must start a path segment: "hmm...../ok" is prose, "=../../x" and "/../" are not.
    re: /(?:^|[/\\=:;,'"\s(|&])\.\.+(?:[/\\]|;[/\\])|[/\\]\.\.+$|^\.\.$/,
  },
  {
    // /etc/passwd · /proc/self/environ · c:\windows\win.ini · web-inf/web.xml · .ssh/id_rsa
    id: 'trav.sensitive_file',
    kind: 'path_traversal',
    view: 'text',
    anyOf: C.SLASH | C.BACKSLASH,
    when: (t) => SENSITIVE_PATH_WORD.test(t),
    re: /(?:^|[/\\=:\s"'])(?:etc[/\\](?:passwd|shadow|group|hosts|issue|sudoers|crontab|hostname|os-release)\b|proc[/\\](?:self|\d+)[/\\](?:environ|cmdline|maps|fd|status|mem|cwd|root)\b|(?:windows|winnt)[/\\](?:win\.ini|system\.ini|system32|repair|panther)\b|boot\.ini\b|web-inf[/\\]|\.aws[/\\]credentials)|[/\\](?:\.ssh[/\\]|\.git[/\\](?:config|head|index)\b|\.htpasswd\b|\.htaccess\b|\.bash_history\b|\.env(?:\.\w+)?$|var[/\\]log[/\\])/,
  },
  {
    // file:///etc/passwd · php://filter/… · phar:// · zip:// · expect://id
    id: 'trav.stream_wrapper',
    kind: 'path_traversal',
    view: 'text',
    anyOf: C.COLON,
    when: (t) => t.includes('://'),
    re: /\b(?:file|php|phar|zip|expect|glob|jar|netdoc|compress\.zlib)[:]\/\//,
  },
];
