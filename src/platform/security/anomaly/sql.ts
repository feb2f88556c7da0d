import { lexLower, type Token } from './sql-lexer';

/**
 * SQL injection by structure. The value is lexed in each context it may be pasted into (as is,
 * as a number or column would be; right after a single quote; right after a double quote), and the
 * token sequence is judged against what benign text cannot produce: an input that closes its
 * string and continues with an operator, a boolean connective over a comparison, a comment to the
 * end, a clause or a second statement; a UNION that reaches a SELECT with a column list; a
 * sub-select; a function only an attacker calls (time delays, out-of-band, error-based extraction,
 * file access); a system catalog.
 *
 * Prose has the same words ("select", "union", "drop", "order by", "and", "or") but not the same
 * token sequence: after an apostrophe English continues with letters (`O'Brien`, `it's`), and a
 * sentence does not put a comparison between literals right after its first word.
 */

export type SqlRule = 'sqli.union_select' | 'sqli.stacked_query' | 'sqli.subquery' | 'sqli.function' | 'sqli.catalog' | 'sqli.breakout' | 'sqli.tautology';

/** Values are judged on their first characters only: a bound on work, and attacks start early. */
export const SQL_SCAN_CHARS = 2048;

/** Functions whose only use in a request value is an attack: delays, out-of-band, error-based reads, files. */
const DANGER_FUNCS = new Set([
  'sleep',
  'pg_sleep',
  'benchmark',
  'extractvalue',
  'updatexml',
  'load_file',
  'dbms_pipe.receive_message',
  'dbms_lock.sleep',
  'user_lock.sleep',
  'utl_inaddr.get_host_address',
  'utl_inaddr.get_host_name',
  'utl_http.request',
  'ctxsys.drithsx.sn',
  'dbms_xmlgen.getxml',
  'xp_cmdshell',
  'master..xp_cmdshell',
  'master.dbo.xp_cmdshell',
  'randomblob',
  'sys_eval',
  'sys_exec',
  'pg_read_file',
  'pg_ls_dir',
  'lo_import',
  'json_keys',
  'gtid_subset',
  'geometrycollection',
  'polygon',
  'multipoint',
  'exp',
  'floor',
  'make_set',
  'elt',
  'iif',
  'dbms_utility.sqlid_to_sqlhash',
  'sys.fn_varbintohexstr',
  'convert',
  'cast',
  'current_setting',
  'pg_sleep_for',
  'dbms_session.sleep',
]);
/** Time and out-of-band functions need a literal argument to count (`sleep(5)`, not "sleep (ten hours)"). */
const NEEDS_LITERAL_ARG = new Set([
  'sleep',
  'pg_sleep',
  'benchmark',
  'randomblob',
  'exp',
  'floor',
  'convert',
  'cast',
  'elt',
  'make_set',
  'iif',
  'polygon',
  'multipoint',
  'geometrycollection',
  'json_keys',
  'gtid_subset',
]);

/** Functions of the dialects' own libraries, used to tell SQL calls from prose in parentheses. */
const SQL_FUNCS = new Set([
  ...DANGER_FUNCS,
  'ascii',
  'substring',
  'substr',
  'mid',
  'length',
  'len',
  'ord',
  'char',
  'chr',
  'if',
  'ifnull',
  'isnull',
  'nvl',
  'coalesce',
  'case',
  'exists',
  'count',
  'user',
  'database',
  'version',
  'current_user',
  'system_user',
  'session_user',
  'hex',
  'unhex',
  'bin',
  'unicode',
  'instr',
  'rand',
  'concat',
  'concat_ws',
  'group_concat',
  'string_agg',
  'listagg',
  'lower',
  'upper',
  'db_name',
  'schema_name',
  'object_name',
  'row',
  'regexp_substr',
  'reverse',
  'md5',
  'sha1',
  'char_length',
  'bit_length',
  'generate_series',
  'parse_data_size',
  'chr',
  'nchar',
  'quotename',
  'typeof',
  'sqlite_version',
  'zeroblob',
  'xmltype',
  'to_char',
  'to_number',
  'dbms_random.value',
  'sys_context',
  'uuid',
  'replace',
  'trim',
  'ltrim',
  'rtrim',
  'left',
  'right',
  'char_length',
  'waitfor',
  'abs',
  'sum',
  'max',
  'min',
  'avg',
  'least',
  'greatest',
  'strcmp',
  'position',
  'locate',
]);

const CATALOG =
  /^(?:information_schema\.|(?:master\.+(?:dbo\.)?)?xp_(?:cmdshell|regread|dirtree|fileexist)|sp_(?:oacreate|executesql|makewebtask|addlogin|addsrvrolemember)|sysobjects$|syscolumns$|sys\.(?:objects|tables|columns|databases|user_summary|sql_logins)|pg_catalog|pg_shadow|pg_user$|pg_database|sqlite_master|sqlite_schema|mysql\.(?:user|db)|all_tables|all_tab_columns|user_tables|user_tab_columns|sysibm\.|syscat\.|rdb\$|msysobjects|master\.\.sys|dba_users)/;
const SYSTEM_VARIABLES = /^@@(?:version|datadir|hostname|basedir|servername|language|spid|tmpdir)/;

const COMPARISONS = new Set([
  '=',
  '<',
  '>',
  '<=',
  '>=',
  '<>',
  '!=',
  '<=>',
  'like',
  'rlike',
  'regexp',
  'is',
  'in',
  'between',
  'sounds',
  'glob',
  'not',
  '!<',
  '!>',
]);

// An open string counts: the page's own closing quote completes it (`' or '1'='1`).
const isOperand = (t: Token | undefined) =>
  t !== undefined && (t.cls === 'n' || t.cls === 's' || t.cls === 'u' || t.cls === 'w' || t.cls === 'b' || t.cls === 'v');
const isSqlCall = (t: Token | undefined) => t !== undefined && t.cls === 'f' && SQL_FUNCS.has(t.text);

/** Judges one value; returns the first rule that holds, or undefined. */
export function detectSql(value: string, hasQuote: boolean, lower = value.toLowerCase()): SqlRule | undefined {
  const s = lower.length > SQL_SCAN_CHARS ? lower.slice(0, SQL_SCAN_CHARS) : lower;
  const raw = lexLower(s);
  const rule = anywhere(raw) ?? rawContinuation(raw) ?? afterOperand(raw);
  if (rule !== undefined || !hasQuote) return rule;
  for (const q of ["'", '"', '`'] as const) {
    if (!s.includes(q)) continue;
    // A peek first: nothing closed the string (the value stays data), or a plain word follows the
    // closing quote (`O'Brien`, `she'd`: an apostrophe, a syntax error to SQL), and the context is done.
    const peek = lexLower(s, q, 2);
    if (peek[0]?.cls !== 's' || peek[1] === undefined || peek[1].cls === 'w') continue;
    const toks = lexLower(s, q);
    const r = anywhere(toks) ?? afterQuote(toks);
    if (r !== undefined) return r;
  }
  return undefined;
}

/** Structures that are SQL wherever they appear. */
function anywhere(t: readonly Token[]): SqlRule | undefined {
  for (let i = 0; i < t.length; i++) {
    const k = t[i]!;
    if (k.cls === 'U' && reachesSelect(t, i + 1)) return 'sqli.union_select';
    if (k.cls === ';' && startsStatement(t, i + 1)) return 'sqli.stacked_query';
    if (k.cls === '(' && t[i + 1]?.cls === 'S' && selectsSomething(t, i + 2)) return 'sqli.subquery';
    if (k.cls === 'f' && DANGER_FUNCS.has(k.text) && (!NEEDS_LITERAL_ARG.has(k.text) || literalArgument(t, i + 1))) return 'sqli.function';
    if (k.cls === 'X' && k.text === 'waitfor' && t[i + 1]?.cls === 'k' && (t[i + 1]!.text === 'delay' || t[i + 1]!.text === 'time') && t[i + 2]?.cls === 's')
      return 'sqli.function';
    if ((k.cls === 'w' || k.cls === 'f') && CATALOG.test(k.text)) return 'sqli.catalog';
    if (k.cls === 'v' && SYSTEM_VARIABLES.test(k.text)) return 'sqli.catalog';
    // A library function applied to a tautology: MAKE_SET(5=5,5), IF(1=1,…); CASE WHEN 5=5; AND 5=5.
    if (isSqlCall(k) && t[i + 1]?.cls === '(' && tautology(t, i + 2)) return 'sqli.tautology';
    if (k.cls === 'k' && k.text === 'when' && tautology(t, i + 1)) return 'sqli.tautology';
    if (k.cls === '&' && tautology(t, t[i + 1]?.text === 'not' ? i + 2 : i + 1, true)) return 'sqli.tautology';
  }
  return undefined;
}

function reachesSelect(t: readonly Token[], i: number): boolean {
  if (t[i]?.cls === 'k' && (t[i]!.text === 'all' || t[i]!.text === 'distinct')) i++;
  while (t[i]?.cls === '(') i++;
  return t[i]?.cls === 'S' && selectsSomething(t, i + 1);
}

/** What follows SELECT in a query and not in prose: a column list, a literal, a call, `*`. */
function selectsSomething(t: readonly Token[], i: number): boolean {
  const a = t[i];
  if (a === undefined) return false;
  if (a.cls === 'k' && (a.text === 'all' || a.text === 'distinct' || a.text === 'top')) return selectsSomething(t, i + 1);
  if (a.cls === 'n' || a.cls === 's' || a.cls === 'b' || a.cls === 'v' || a.cls === 'f' || a.cls === '(' || a.cls === 'S') return true;
  if (a.cls === 'o' && a.text === '*') return true;
  if (a.cls === 'k' && a.text === 'case') return true;
  if (a.cls === 'w' || a.cls === 'k') {
    const b = t[i + 1];
    return b === undefined || b.cls === ',' || b.cls === 'c' || b.cls === ')' || b.cls === ';' || (b.cls === 'k' && (b.text === 'from' || b.text === 'into'));
  }
  return false;
}

/** A select list as only a query writes it: a literal, a call, `*`, or names separated by commas or ending in FROM. */
function selectList(t: readonly Token[], i: number): boolean {
  const a = t[i];
  if (a === undefined) return false;
  if (a.cls === 'k' && (a.text === 'all' || a.text === 'distinct' || a.text === 'top')) return selectList(t, i + 1);
  if (a.cls === 'n' || a.cls === 'b' || a.cls === 'v' || a.cls === 'f' || a.cls === '(') return true;
  if (a.cls === 'o' && a.text === '*') return endsItem(t[i + 1]);
  if (a.cls === 'w' || a.cls === 's') {
    const b = t[i + 1];
    return (
      b !== undefined && (b.cls === ',' || (b.cls === 'k' && b.text === 'from') || (b.cls === '&' && b.text === '||') || (b.cls === 'o' && b.text !== 'in'))
    );
  }
  return false;
}

/** What may follow a select-list item: another item, FROM, the end, a comment. */
function endsItem(b: Token | undefined): boolean {
  return b === undefined || b.cls === ',' || b.cls === 'c' || b.cls === ';' || b.cls === ')' || (b.cls === 'k' && (b.text === 'from' || b.text === 'into'));
}

function startsStatement(t: readonly Token[], i: number): boolean {
  const a = t[i];
  const b = t[i + 1];
  if (a === undefined) return false;
  if (a.cls === 'S') return selectsSomething(t, i + 1);
  if (a.cls === 'k' && (a.text === 'begin' || a.text === 'declare' || a.text === 'if' || a.text === 'while'))
    return b !== undefined && (b.cls === 'f' || b.cls === 'v' || b.cls === 'X' || b.cls === '(');
  if (a.cls === 'f' && (a.text === 'if' || a.text === 'while')) return true;
  if (a.cls !== 'X') return false;
  switch (a.text) {
    case 'drop':
    case 'create':
    case 'alter':
    case 'truncate':
      return b !== undefined && (b.cls === 'k' || (a.text === 'truncate' && b.cls === 'w'));
    case 'insert':
    case 'replace':
      return b?.cls === 'k' && b.text === 'into';
    case 'delete':
      return b?.cls === 'k' && b.text === 'from';
    case 'update':
      return b?.cls === 'w' && t[i + 2]?.cls === 'k' && t[i + 2]!.text === 'set';
    case 'exec':
    case 'execute':
    case 'call':
      return b !== undefined && (b.cls === 'w' || b.cls === 'v' || b.cls === 'f' || b.cls === '(' || b.cls === 's');
    case 'declare':
      return b?.cls === 'v';
    case 'waitfor':
      return b?.cls === 'k';
    case 'shutdown':
      return b === undefined || b.cls === 'c' || b.cls === ';' || b.text === 'with';
    case 'grant':
    case 'revoke':
      return (
        b !== undefined &&
        (b.cls === 'k' || b.cls === 'S' || b.cls === 'X' || b.cls === 'w') &&
        t.slice(i, i + 6).some((x) => x.text === 'to' || x.text === 'on' || x.text === 'from')
      );
    case 'copy':
    case 'load':
      return b !== undefined && (b.cls === 'w' || b.cls === 'k');
    default:
      return false;
  }
}

function literalArgument(t: readonly Token[], i: number): boolean {
  if (t[i]?.cls !== '(') return false;
  const a = t[i + 1];
  if (a === undefined) return false;
  if (a.cls === 'n' || a.cls === 'v' || a.cls === 'S' || a.cls === 'f' || a.cls === '(' || a.cls === 's') {
    const b = t[i + 2];
    return b === undefined || b.cls === ')' || b.cls === ',' || b.cls === 'o' || b.cls === '(' || b.cls === 'k' || a.cls !== 'n';
  }
  return a.cls === 'o' && (a.text === '~' || a.text === '-');
}

/** `x = x`, `5 = 5`, `'a' = 'a'` at `i`: true whatever the data, the shape of a boolean probe. */
function tautology(t: readonly Token[], i: number, literalsOnly = false): boolean {
  while (t[i]?.cls === '(') i++;
  const a = t[i];
  const op = t[i + 1];
  const b = t[i + 2];
  if (!isOperand(a) || op?.cls !== 'o' || !isOperand(b)) return false;
  if (op.text !== '=' && op.text !== 'like' && op.text !== '<=>') return false;
  if (literalsOnly) return a!.cls === b!.cls && a!.cls !== 'w' && (a!.cls !== 'n' || a!.text === b!.text);
  return a!.cls === 'w' || b!.cls === 'w' ? a!.text === b!.text : a!.cls === b!.cls;
}

/**
 * After an operand (a value pasted as a number or column), what makes it a query fragment: a
 * connective over a comparison or a call, an operator applied to a sub-select or call, a clause.
 */
function rawContinuation(t: readonly Token[]): SqlRule | undefined {
  let i = 0;
  if (t[0]?.cls === 'S') return selectList(t, 1) ? 'sqli.breakout' : undefined;
  if (t[0]?.cls === 'o' && t[0].text === '-') i++;
  if (!isOperand(t[i])) {
    return undefined;
  }
  i++;
  while (t[i]?.cls === ')') i++;
  i = skipAlias(t, i);
  const c = t[i];
  if (c === undefined) return undefined;
  if (c.cls === '&') return predicate(t, i + 1, false) ? 'sqli.tautology' : undefined;
  if (c.cls === 'o' && (t[i + 1]?.cls === 'S' || (t[i + 1]?.cls === '(' && t[i + 2]?.cls === 'S') || isSqlCall(t[i + 1]))) return 'sqli.breakout';
  if (c.cls === 'k' && clause(t, i)) return 'sqli.breakout';
  if (c.cls === ',' && (t[i + 1]?.cls === 'S' || (t[i + 1]?.cls === '(' && t[i + 2]?.cls === 'S'))) return 'sqli.breakout';
  if (c.cls === 'X' && startsStatement(t, i)) return 'sqli.stacked_query';
  return undefined;
}

/**
 * The value appended right after the page's own operand (`WHERE id = 5` + value): it starts with
 * what would continue an expression: a connective, a closing parenthesis, a clause keyword.
 */
function afterOperand(t: readonly Token[]): SqlRule | undefined {
  const first = t[0];
  if (
    first === undefined ||
    !(
      first.cls === '&' ||
      first.cls === ')' ||
      (first.cls === 'k' &&
        (first.text === 'as' ||
          first.text === 'where' ||
          first.text === 'order' ||
          first.text === 'group' ||
          first.text === 'having' ||
          first.text === 'limit' ||
          first.text === 'procedure'))
    )
  )
    return undefined;
  return rawContinuation([NUMBER_OPERAND, ...t]);
}
const NUMBER_OPERAND: Token = { cls: 'n', text: '1' };

/** After a closed string: anything but more text is the value speaking SQL. */
function afterQuote(t: readonly Token[]): SqlRule | undefined {
  let i = 1;
  while (t[i]?.cls === ')') i++;
  const closedParens = i > 1;
  i = skipAlias(t, i);
  const c = t[i];
  if (c === undefined) return undefined;
  switch (c.cls) {
    case '&':
      // `' or 'x`: the page's own closing quote completes a one-word string, true to MySQL and SQLite.
      if (t[i + 1]?.cls === 'u' && t[i + 2] === undefined && !/\s/.test(t[i + 1]!.text)) return 'sqli.tautology';
      return predicate(t, i + 1, true) ? 'sqli.tautology' : undefined;
    case 'o':
      // "status "in transit"": after a word operator, prose goes on with a word.
      if (/^[a-z]/.test(c.text) && (t[i + 1]?.cls === 'w' || t[i + 1] === undefined)) return undefined;
      return isOperand(t[i + 1]) || t[i + 1]?.cls === '(' || t[i + 1]?.cls === 'f' || t[i + 1]?.cls === 'S' ? 'sqli.breakout' : undefined;
    case 'c':
      // `admin'--`: the comment must run to the end, so the rest of the query is cut off.
      return t.slice(i).every((x) => x.cls === 'c') ? 'sqli.breakout' : undefined;
    case ';':
      return t[i + 1] === undefined || t[i + 1]!.cls === 'c' || startsStatement(t, i + 1) ? 'sqli.stacked_query' : undefined;
    case 'U':
      return reachesSelect(t, i + 1) ? 'sqli.union_select' : undefined;
    case 'S':
      return selectList(t, i + 1) ? 'sqli.breakout' : undefined;
    case 'X':
      return startsStatement(t, i) ? 'sqli.stacked_query' : undefined;
    case 'k':
      return clause(t, i) ? 'sqli.breakout' : undefined;
    case ',':
      return t[i + 1]?.cls === 'S' || t[i + 1]?.cls === '(' || isSqlCall(t[i + 1]) ? 'sqli.breakout' : undefined;
    case 'f':
      return closedParens && isSqlCall(c) ? 'sqli.breakout' : undefined;
    default:
      return undefined;
  }
}

/** `AS alias` right after the breakout (`1')) AS x WHERE …`). */
function skipAlias(t: readonly Token[], i: number): number {
  return t[i]?.cls === 'k' && t[i]!.text === 'as' && t[i + 1]?.cls === 'w' ? i + 2 : i;
}

function clause(t: readonly Token[], i: number): boolean {
  const k = t[i]!.text;
  const a = t[i + 1];
  const b = t[i + 2];
  switch (k) {
    case 'order':
    case 'group':
      return a?.text === 'by' && (b?.cls === 'n' || (b?.cls === 'w' && (t[i + 3] === undefined || t[i + 3]!.cls === 'c' || t[i + 3]!.cls === 'k')));
    case 'having':
    case 'where':
      return predicate(t, i + 1, true);
    case 'limit':
    case 'offset':
      return a?.cls === 'n' && (b === undefined || b.cls === ',' || b.cls === 'c' || b.cls === 'k');
    case 'procedure':
      return a?.cls === 'f';
    case 'into':
      return a?.cls === 'k' && (a.text === 'outfile' || a.text === 'dumpfile');
    case 'from':
      return a?.cls === 'w' && (b === undefined || b.cls === 'c' || b.cls === 'k' || b.cls === ';');
    default:
      return false;
  }
}

/**
 * A boolean term at `i`: a comparison between operands, a call, a sub-select, EXISTS, or a bare
 * literal that ends the input or meets a comment (`' or 1--`, `' or true#`).
 */
function predicate(t: readonly Token[], i: number, afterString: boolean): boolean {
  let j = i;
  if (t[j]?.cls === 'o' && t[j]!.text === 'not') j++;
  while (t[j]?.cls === '(') j++;
  const a = t[j];
  if (a === undefined) return false;
  if (a.cls === 'S' || isSqlCall(a) || (a.cls === 'f' && DANGER_FUNCS.has(a.text))) return true;
  if (a.cls === 'k' && (a.text === 'exists' || a.text === 'case')) return true;
  if (!isOperand(a)) return false;
  const op = t[j + 1];
  if (op === undefined || op.cls === 'c') return (afterString || op !== undefined) && (a.cls === 'n' || a.cls === 'b');
  if (op.cls === ';' || op.cls === ')') return a.cls === 'n' || a.cls === 'b';
  if (op.cls !== 'o' || !COMPARISONS.has(op.text)) return false;
  const b = op.text === 'is' && t[j + 2]?.text === 'not' ? t[j + 3] : t[j + 2];
  if (b === undefined) return false;
  if (b.cls === 'S' || b.cls === 'f' || b.cls === '(' || b.cls === 'b' || b.cls === 'v') return true;
  if (!isOperand(b)) return false;
  // Two bare words compared ("price and tax = total") is prose unless they are the same word.
  if (a.cls === 'w' && b.cls === 'w') return a.text === b.text;
  return true;
}
