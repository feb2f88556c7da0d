/**
 * Command injection by shell grammar. The value is read as a POSIX shell (and cmd.exe) would read
 * it when pasted into a command line as an argument: as is, inside single quotes, inside double
 * quotes. The lexer applies the shell's own rules, so the disguises need no list of their own:
 * quotes inside a word concatenate (`w'h'o"am"i`), backslashes and cmd.exe carets escape (`c\at`,
 * `w^hoami`), `$@`/`$*`/positional and unset variables expand to nothing, `${IFS}` splits words,
 * `{cat,/etc/passwd}` brace-expands, `$(…)` and backticks run a nested command line.
 *
 * A finding needs a command the value itself started (after `;`, `|`, `||`, `&`, `&&`, a newline,
 * inside `$(…)` or backticks) whose first word is a known program or builtin, used the way a shell
 * command is (flags, paths, addresses, numbers, substitutions, redirections, or nothing at all
 * before the next separator). "Tom & Jerry", "cats; dogs" or "ping me | later" start no command.
 *
 * Hand-written because shell parsers on npm (e.g. shell-quote) split words but do not model
 * expansions, cmd.exe escapes or the unterminated fragments injections are made of.
 */

const SSI_EXEC = /<!--#\s*exec\s+(?:cmd|cgi)\s*=/i;
const SHELL_FUNCTION = /\(\)\s*\{\s*:?\s*;?\s*\}\s*;/;

export type ShellRule =
  | 'cmdi.ssi_exec'
  | 'cmdi.function_definition'
  | 'cmdi.jndi_lookup'
  | 'cmdi.command'
  | 'cmdi.substitution'
  | 'cmdi.arithmetic'
  | 'cmdi.reverse_shell'
  | 'cmdi.exec_function';

export const SHELL_SCAN_CHARS = 2048;
/** Nesting of `$(…)`/backticks followed; deeper levels are not read (bounds work on crafted input). */
const MAX_DEPTH = 4;

const COMMANDS = new Set(
  // identity and system facts
  (
    'id whoami uname hostname pwd ifconfig ipconfig ip printenv env set systeminfo tasklist netstat ls dir ps uptime w who last ' +
    'arp route ver vol date groups lsb_release getent ' +
    // reading and transforming files
    'cat head tail more less nl tac od xxd hexdump strings base64 base32 type sort grep egrep fgrep findstr awk gawk sed find locate ' +
    'cp mv touch tee dd rev tr cut wc xargs md5sum sha1sum sha256sum file stat readlink realpath du df tar gzip gunzip zip unzip ' +
    // network
    'wget curl nc ncat netcat telnet nslookup ping ping6 dig host ftp tftp ssh scp socat traceroute tracert lynx openssl ' +
    // interpreters and shells
    'bash sh zsh ksh dash csh tcsh fish busybox python python2 python3 perl ruby php node lua powershell pwsh cmd ' +
    // running, waiting, writing, changing
    'sleep timeout echo printf rm rmdir mkdir del erase copy move ren expr nohup chmod chown chgrp kill killall pkill mkfifo ' +
    'reboot shutdown halt net reg certutil bitsadmin wmic crontab at schtasks sc taskkill runas rundll32 regsvr32 mshta cscript ' +
    'wscript start call sudo su passwd useradd usermod systemctl service mail sendmail eval exec source history for ' +
    'sysinfo netsh which whereis ' +
    'invoke-expression iex invoke-webrequest iwr start-process get-content get-childitem new-object test'
  ).split(' '),
);
/** Words that precede a command without being one: keywords and wrappers. */
const PREFIXES = new Set(['then', 'do', 'else', 'if', 'while', 'until', '!', 'time', 'nohup', 'sudo', 'exec', 'command', 'builtin', '{', '(', 'env']);

/** Programs that do something worth injecting with no argument at all. */
const BARE = new Set(
  'id whoami uname hostname pwd ifconfig ipconfig printenv env systeminfo tasklist netstat ls dir ps uptime who groups ver bash sh zsh ksh dash csh tcsh busybox python python2 python3 perl ruby php node powershell pwsh cmd reboot shutdown history lsb_release'.split(
    ' ',
  ),
);

interface Command {
  /** The value started it (a separator or substitution inside the value), rather than the page's own command line. */
  injected: boolean;
  words: string[];
  /** Whether each word carried shell syntax (a quote, escape, expansion or substitution) rather than plain text. */
  marked: boolean[];
  redirect: boolean;
}

interface Scan {
  rule: ShellRule | undefined;
  budget: number;
  /** Inside `$(…)`, backticks or an exec function's argument: any known program is enough. */
  relaxed: boolean;
}

/**
 * Calls that hand a string to a shell (PHP, Python, Node) or evaluate code that may: their first
 * string argument is read as a command line of its own.
 */
const EXEC_CALL =
  /\b(system|exec|passthru|shell_exec|popen|proc_open|pcntl_exec|eval|assert|os\.system|os\.popen|execsync|spawnsync|subprocess\.\w+)\s*\(\s*(['"`])/g;

/**
 * The text with the shell's no-op disguises taken out, just enough to ask cheaply whether a
 * program name occurs at all: most prose names none, and then no command can be judged.
 */
const DISGUISE = /['"\\^]|\$[@*\d]|\$\(\)|\$\{\}/g;
const BLANK_EXPANSION = /\$\{ifs\}|\$ifs\b|\+/g;
const OTHER_EXPANSION = /\$\{[^}]{0,40}\}/g;
let programWord: RegExp | undefined;
function namesAProgram(lower: string): boolean {
  programWord ??= new RegExp(
    `(?:^|[^a-z0-9_-])(?:${[...COMMANDS]
      .sort((a, b) => b.length - a.length)
      .map((c) => c.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&'))
      .join('|')})(?:\\.exe)?(?![a-z0-9_])`,
  );
  let t = lower;
  if (t.includes('$') || t.includes('+')) t = t.replace(BLANK_EXPANSION, ' ').replace(OTHER_EXPANSION, '/');
  if (DISGUISE.test(t)) {
    DISGUISE.lastIndex = 0;
    t = t.replace(DISGUISE, '');
  }
  DISGUISE.lastIndex = 0;
  return programWord.test(t);
}

export function detectShell(value: string, lowerValue?: string): ShellRule | undefined {
  const s = value.length > SHELL_SCAN_CHARS ? value.slice(0, SHELL_SCAN_CHARS) : value;
  const lower = lowerValue === undefined ? s.toLowerCase() : lowerValue.length > SHELL_SCAN_CHARS ? lowerValue.slice(0, SHELL_SCAN_CHARS) : lowerValue;
  if (
    !namesAProgram(lower) &&
    !lower.includes('$((') &&
    !lower.includes('()') &&
    !lower.includes('${jndi:') &&
    !lower.includes('/dev/') &&
    !lower.includes('<!--#')
  )
    return undefined;
  if (s.includes('/dev/tcp/') || s.includes('/dev/udp/')) return 'cmdi.reverse_shell';
  // A bash function definition in a variable (Shellshock), and a JNDI lookup that loads remote code.
  if (s.includes('()') && SHELL_FUNCTION.test(s)) return 'cmdi.function_definition';
  if (s.toLowerCase().includes('${jndi:')) return 'cmdi.jndi_lookup';
  // A server-side include directive runs its command when the page holding it is served.
  if (s.includes('<!--#') && SSI_EXEC.test(s)) return 'cmdi.ssi_exec';
  const contexts: Array<'' | "'" | '"'> = [''];
  if (s.includes("'")) contexts.push("'");
  if (s.includes('"')) contexts.push('"');
  for (const q of contexts) {
    const scan: Scan = { rule: undefined, budget: 8 * s.length + 64, relaxed: false };
    readLine(q + s, 0, false, scan, 0, q !== '');
    if (scan.rule !== undefined) return scan.rule;
  }
  if (s.includes('(')) {
    const r = execCall(s, 0);
    if (r !== undefined) return r;
  }
  return wholeCommand(s);
}

const ABSOLUTE = /^(?:\/[\w.*-]|~\/|[a-z]:\\|\/$)/i;

/**
 * The value as a whole command line (handed to system() as is): its first word must be a known
 * program and an argument must be unmistakably a command's (a flag, an absolute path, an address),
 * because here no separator marks the start. "sort by date/time" or "ping me" stay prose.
 */
function wholeCommand(s: string): ShellRule | undefined {
  const m = /^\s*([a-z][\w.-]*)\s+(\S+)/i.exec(s);
  if (m === null) return undefined;
  const name = programName(m[1]!);
  if (!COMMANDS.has(name)) return undefined;
  const arg = m[2]!;
  const sub = SUBCOMMANDS[name]?.includes(arg.toLowerCase()) ?? false;
  // Where the program name is also an English word, only an absolute path or a subcommand will do.
  if (PROSE_LEADS.has(name)) return ABSOLUTE.test(arg) || (sub && SWITCH.test(s)) ? 'cmdi.command' : undefined;
  if (/^-{1,2}[a-z]/i.test(arg) || ABSOLUTE.test(arg) || /^\d{1,3}(?:\.\d{1,3}){3}$|^https?:\/\//i.test(arg) || sub) return 'cmdi.command';
  if (/^\/[a-z]+$/i.test(arg) && WINDOWS.has(name)) return 'cmdi.command';
  // `sleep 5` and nothing else: a timing probe.
  if (WAITS.has(name) && /^\s*\S+\s+\d+\s*$/.test(s)) return 'cmdi.command';
  return undefined;
}

const SWITCH = /\s(?:\/[a-z]+|-{1,2}[a-z][\w-]*)(?:\s|$)/i;
const WAITS = new Set(['sleep', 'timeout', 'ping']);

/** Whether a value starts with a known program name and an argument: the cheap gate for wholeCommand. */
export function leadsWithProgram(lower: string): boolean {
  const m = /^\s*([a-z][\w.-]*)\s+\S/.exec(lower);
  return m !== null && COMMANDS.has(programName(m[1]!));
}

/** Program names that are also how English sentences start. */
const PROSE_LEADS = new Set([
  'net',
  'set',
  'type',
  'more',
  'less',
  'find',
  'sort',
  'head',
  'tail',
  'cut',
  'call',
  'start',
  'date',
  'file',
  'host',
  'mail',
  'for',
  'at',
  'test',
  'source',
  'w',
  'who',
  'last',
  'copy',
  'move',
  'which',
]);
const WINDOWS = new Set([
  'ipconfig',
  'dir',
  'netstat',
  'tasklist',
  'systeminfo',
  'net',
  'netsh',
  'reg',
  'sc',
  'schtasks',
  'taskkill',
  'wmic',
  'certutil',
  'findstr',
  'del',
  'cmd',
  'powershell',
  'pwsh',
]);

function execCall(s: string, depth: number): ShellRule | undefined {
  if (depth > 2) return undefined;
  EXEC_CALL.lastIndex = 0;
  for (let m = EXEC_CALL.exec(s), k = 0; m !== null && k < 8; m = EXEC_CALL.exec(s), k++) {
    const start = m.index + m[0].length;
    const close = s.indexOf(m[2]!, start);
    const arg = s.slice(start, close === -1 ? s.length : close);
    const fn = m[1]!.toLowerCase();
    if (fn === 'eval' || fn === 'assert') {
      const inner = execCall(arg, depth + 1);
      if (inner !== undefined) return inner;
      continue;
    }
    const scan: Scan = { rule: undefined, budget: 8 * arg.length + 64, relaxed: true };
    readLine(arg, 0, true, scan, 0, false);
    if (scan.rule !== undefined) return 'cmdi.exec_function';
    EXEC_CALL.lastIndex = start;
  }
  return undefined;
}

/**
 * Reads `s` from `i` as a command line until its end (or an unmatched `)` when nested); judges
 * each command as it completes. `injectedStart` says whether the first command is the value's own.
 */
function readLine(s: string, i: number, injectedStart: boolean, scan: Scan, depth: number, openQuote: boolean): number {
  let cmd = newCommand(injectedStart);
  let word = '';
  let marked = false;
  let inWord = false;
  const n = s.length;
  const endWord = () => {
    if (inWord) {
      for (const w of braceExpand(word)) {
        cmd.words.push(w);
        cmd.marked.push(marked || w !== word);
      }
    }
    word = '';
    marked = false;
    inWord = false;
  };
  const endCommand = () => {
    endWord();
    judge(cmd, scan);
    cmd = newCommand(true);
  };
  // Starting inside a quote: the page opened it, the value's text continues it.
  let quote = openQuote ? s.charCodeAt(0) : 0;
  if (openQuote) i = 1;

  while (i < n && scan.rule === undefined && scan.budget-- > 0) {
    const c = s.charCodeAt(i);
    if (quote !== 0) {
      if (c === quote) {
        quote = 0;
        marked = true;
        inWord = true;
        i++;
        continue;
      }
      if (quote === 34 && c === 92 && i + 1 < n) {
        word += s[i + 1];
        i += 2;
        continue;
      }
      if (quote === 34 && (c === 96 || (c === 36 && s.charCodeAt(i + 1) === 40))) {
        i = substitution(s, i, scan, depth);
        word += 'x';
        marked = inWord = true;
        continue;
      }
      word += s[i];
      inWord = true;
      i++;
      continue;
    }
    switch (c) {
      case 32:
      case 9:
      case 11:
      case 12:
        endWord();
        i++;
        continue;
      case 10:
      case 13:
      case 26: // SUB: cmd.exe ends a command line at it
      case 59: // ;
        endCommand();
        i++;
        continue;
      case 38: // &
      case 124: {
        // |
        if (c === 38 && (s.charCodeAt(i - 1) === 62 || s.charCodeAt(i - 1) === 60)) {
          i++; // `>&` is a redirection
          continue;
        }
        endCommand();
        i++;
        if (s.charCodeAt(i) === 38 || s.charCodeAt(i) === 124) i++;
        continue;
      }
      case 40: // (
        if (!inWord && cmd.words.length === 0) {
          i = readLine(s, i + 1, true, scan, depth + 1, false);
          continue;
        }
        word += '(';
        inWord = true;
        i++;
        continue;
      case 41: // )
        if (depth > 0) {
          endCommand();
          return i + 1;
        }
        endCommand();
        i++;
        continue;
      case 62: // >
      case 60: // <
        endWord();
        if (s.charCodeAt(i + 1) === 40) {
          i = readLine(s, i + 2, true, scan, depth + 1, false);
          continue;
        }
        cmd.redirect = true;
        i++;
        continue;
      case 39: // '
      case 34: // "
        quote = c;
        marked = true;
        inWord = true;
        i++;
        continue;
      case 92: // \ escapes the next character; before a newline it joins lines
      case 94: // ^ does the same in cmd.exe
        if (i + 1 < n && s.charCodeAt(i + 1) !== 10) {
          word += s[i + 1];
          inWord = true;
        }
        marked = true;
        i += 2;
        continue;
      case 96: {
        // `
        // Markdown writes code the same way ("run `ls -la` and send it"): a backtick span counts
        // where it starts a command or is glued to a word, not as a free-standing word in a sentence.
        const close = s.indexOf('`', i + 1);
        const after = close === -1 ? 32 : s.charCodeAt(close + 1);
        const glued = inWord || !(after === 32 || Number.isNaN(after));
        if (glued || cmd.words.length === 0) {
          i = substitution(s, i, scan, depth);
          word += 'x';
          marked = inWord = true;
        } else {
          endWord();
          i = close === -1 ? n : close + 1;
        }
        continue;
      }
      case 36: {
        // $
        const next = s.charCodeAt(i + 1);
        if (next === 40) {
          if (s.charCodeAt(i + 2) === 40) {
            scan.rule = 'cmdi.arithmetic';
            return n;
          }
          i = substitution(s, i, scan, depth);
          word += 'x';
          marked = inWord = true;
          continue;
        }
        const exp = expansion(s, i);
        i = exp.end;
        marked = true;
        if (exp.splits) endWord();
        else if (exp.text) {
          word += exp.text;
          inWord = true;
        }
        continue;
      }
      case 35: // # starts a comment at the start of a word
        if (!inWord) {
          endCommand();
          const nl = s.indexOf('\n', i);
          if (nl === -1) return n;
          i = nl;
          continue;
        }
        word += '#';
        i++;
        continue;
      case 37: {
        // % cmd.exe variable: %VAR% or %VAR:~a,b% expands to text we cannot know
        const close = s.indexOf('%', i + 1);
        if (close > i + 1 && close - i < 40 && /^[a-z_][\w:~,-]*$/i.test(s.slice(i + 1, close))) {
          marked = true;
          i = close + 1;
          continue;
        }
        word += '%';
        inWord = true;
        i++;
        continue;
      }
      default:
        word += s[i];
        inWord = true;
        i++;
    }
  }
  if (scan.rule === undefined) endCommand();
  return n;
}

function newCommand(injected: boolean): Command {
  return { injected, words: [], marked: [], redirect: false };
}

/** `$(…)` or a backtick pair at `i`: its content is a command line of its own, and always injected. */
function substitution(s: string, i: number, scan: Scan, depth: number): number {
  if (depth >= MAX_DEPTH) return s.length;
  if (s.charCodeAt(i) === 96) {
    const close = s.indexOf('`', i + 1);
    const end = close === -1 ? s.length : close;
    const inner: Scan = { rule: undefined, budget: scan.budget, relaxed: true };
    readLine(s.slice(i + 1, end), 0, true, inner, depth + 1, false);
    scan.budget = inner.budget;
    if (inner.rule !== undefined) scan.rule = inner.rule === 'cmdi.command' ? 'cmdi.substitution' : inner.rule;
    return end + 1;
  }
  const inner: Scan = { rule: undefined, budget: scan.budget, relaxed: true };
  const end = readLine(s, i + 2, true, inner, depth + 1, false);
  scan.budget = inner.budget;
  if (inner.rule !== undefined) scan.rule = inner.rule === 'cmdi.command' ? 'cmdi.substitution' : inner.rule;
  return end;
}

/** `$…` at `i`: what it contributes to the word. IFS splits; unknown values are left empty. */
function expansion(s: string, i: number): { end: number; text: string; splits: boolean } {
  const next = s[i + 1] ?? '';
  if (next === '{') {
    const close = s.indexOf('}', i + 2);
    if (close === -1) return { end: s.length, text: '', splits: false };
    const body = s.slice(i + 2, close);
    if (/^ifs\b/i.test(body)) return { end: close + 1, text: '', splits: true };
    // `${PATH%%u*}`, `${HOME:0:1}`: a slice of a variable, used to spell `/` and letters.
    return { end: close + 1, text: /[%#:/]/.test(body) ? '/' : '', splits: false };
  }
  const m = /^[a-z_]\w*|^[0-9@*#?$!_-]/i.exec(s.slice(i + 1, i + 40));
  if (m === null) return { end: i + 1, text: '$', splits: false };
  const name = m[0];
  const splits = name.toLowerCase() === 'ifs';
  // `$IFS$9`: the positional after IFS is part of the same trick.
  return { end: i + 1 + name.length, text: '', splits };
}

/** `{cat,/etc/passwd}` is two words to bash. */
function braceExpand(word: string): string[] {
  const close = word.indexOf('}');
  if (!word.startsWith('{') || close < 3 || !word.slice(0, close).includes(',')) return [word];
  const parts = word
    .slice(1, close)
    .split(',')
    .filter((w) => w !== '');
  if (parts.length > 0) parts[parts.length - 1] += word.slice(close + 1);
  return parts;
}

const FLAG = /^(?:-{1,2}[a-z0-9]|\/[a-z?]$|\/[a-z]+$)/i;
const PATHLIKE = /[/\\]|^[~.]|^[a-z]:/i;
const ADDRESS = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[a-z][\w+.-]*:\/\/|(?:[a-z0-9-]+\.)+[a-z]{2,}(?::\d+)?$|localhost)/i;
const NUMBER = /^\d+(?:\.\d+)?[smhd]?$/;

/** Plain-word arguments that make a program's usual reconnaissance or change. */
const SUBCOMMANDS: Readonly<Record<string, readonly string[]>> = {
  ps: ['aux', 'ax', 'ef', 'axu', 'faux'],
  ip: ['addr', 'a', 'link', 'route', 'r', 'neigh'],
  net: ['user', 'users', 'localgroup', 'group', 'view', 'share', 'accounts', 'session', 'start', 'stop', 'use'],
  reg: ['query', 'add', 'delete', 'save', 'export'],
  sc: ['query', 'create', 'config', 'start', 'stop', 'qc'],
  wmic: ['process', 'os', 'useraccount', 'service', 'computersystem', 'qfe', 'logicaldisk'],
  systemctl: ['status', 'start', 'stop', 'restart', 'list-units'],
  netsh: ['firewall', 'advfirewall', 'wlan', 'interface'],
  which: ['python', 'perl', 'curl', 'wget', 'nc', 'netcat', 'bash', 'gcc', 'php', 'ruby'],
};

function judge(cmd: Command, scan: Scan): void {
  if (!cmd.injected || scan.rule !== undefined) return;
  // `ping+-c+5+host`: a form-encoded command line that reached us without its `+` decoded.
  if (cmd.words[0]?.includes('+') && COMMANDS.has(programName(cmd.words[0].split('+')[0]!))) {
    const words = cmd.words.flatMap((w) => w.split('+').filter((x) => x !== ''));
    cmd = { ...cmd, words, marked: words.map(() => false) };
  }
  let k = 0;
  while (k < cmd.words.length - 1 && (PREFIXES.has(cmd.words[k]!.toLowerCase()) || /^\w+=/.test(cmd.words[k]!))) k++;
  const first = cmd.words[k];
  if (first === undefined) return;
  const name = programName(first);
  if (!COMMANDS.has(name)) return;
  const args = cmd.words.slice(k + 1);
  const marks = cmd.marked.slice(k + 1);
  if (scan.relaxed || plausible(name, args, marks, cmd)) scan.rule = 'cmdi.command';
}

/** The program a word runs: `/usr/bin/cat` → cat, `C:\Windows\System32\cmd.exe` → cmd. */
function programName(word: string): string {
  let w = word.toLowerCase();
  const slash = Math.max(w.lastIndexOf('/'), w.lastIndexOf('\\'));
  if (slash !== -1) w = w.slice(slash + 1);
  if (w.endsWith('.exe') || w.endsWith('.com')) w = w.slice(0, -4);
  return w;
}

/** Whether the arguments read as a command's rather than a sentence's. */
function plausible(name: string, args: readonly string[], marks: readonly boolean[], cmd: Command): boolean {
  if (cmd.redirect) return true;
  if (args.length === 0) return BARE.has(name);
  if (SUBCOMMANDS[name]?.includes(args[0]!.toLowerCase())) return true;
  for (let a = 0; a < args.length; a++) {
    const w = args[a]!;
    if (marks[a] || FLAG.test(w) || PATHLIKE.test(w) || ADDRESS.test(w)) return true;
    if (NUMBER.test(w) && (name === 'sleep' || name === 'timeout' || name === 'ping' || name === 'kill' || name === 'expr')) return true;
  }
  // `echo TOKEN` probes: one or two bare words, nothing after them.
  return (name === 'echo' || name === 'printf') && args.length <= 2 && args.every((w) => /^[A-Z0-9]{4,}$/.test(w));
}
