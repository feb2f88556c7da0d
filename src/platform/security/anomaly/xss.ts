import type * as Htmlparser2 from 'htmlparser2' with { 'resolution-mode': 'import' };

// htmlparser2 is ESM-only; Node 20.19+ loads it synchronously through require(esm) (as with
// `entities` in decode.ts). Its tokenizer is the one spec-shaped HTML tokenizer on npm that
// streams tags and attributes to callbacks without building a DOM, which keeps a scan cheap.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Parser } = require('htmlparser2') as typeof Htmlparser2;

/**
 * Cross-site scripting by parsing: the decoded value is tokenized as an HTML fragment in each
 * context it may land in (element content; inside a double-quoted, single-quoted or unquoted
 * attribute value) and judged by what the browser would build from it: a script-capable element,
 * an event-handler attribute, a javascript:/data: URL in an attribute that loads or navigates,
 * `srcdoc`, CSS that runs script; and injected forms and password fields, which phish credentials
 * without any script. Tag and attribute names arrive lower-cased and attribute values
 * entity-decoded from the tokenizer, so case and entity tricks need no special handling here.
 */

export type XssRule =
  | 'xss.form_injection'
  | 'xss.script_element'
  | 'xss.vector_element'
  | 'xss.event_handler'
  | 'xss.script_url'
  | 'xss.srcdoc'
  | 'xss.css_script'
  | 'xss.script_sink';

/** Characters of a value handed to the tokenizer: a bound on work per value. */
export const XSS_SCAN_CHARS = 2048;

/** Elements that run or load script, or re-target the page, whatever their attributes. */
const SCRIPT_ELEMENTS = new Set([
  'script',
  'iframe',
  'frame',
  'frameset',
  'object',
  'embed',
  'applet',
  'base',
  'portal',
  'isindex',
  'xml',
  'import',
  'noembed',
]);
/** SVG and MathML switch the parser into foreign content, where script and events hide in new places. */
const VECTOR_ELEMENTS = new Set([
  'svg',
  'math',
  'animate',
  'set',
  'animatetransform',
  'animatemotion',
  'handler',
  'listener',
  'foreignobject',
  'use',
  'maction',
  'discard',
]);
/** Attributes a browser fetches or navigates to. */
const URL_ATTRIBUTES = new Set([
  'href',
  'src',
  'action',
  'formaction',
  'data',
  'xlink:href',
  'background',
  'poster',
  'lowsrc',
  'dynsrc',
  'codebase',
  'cite',
  'ping',
  'srcset',
  'to',
  'from',
  'values',
  'by',
  'with',
  'content',
  'folder',
  'longdesc',
  'usemap',
  'manifest',
  'icon',
  'archive',
]);

/** The scheme after a browser's clean-up (it ignores tabs and newlines anywhere, leading blanks and controls). */
const SCRIPT_SCHEME =
  /(?:^|[;,\s=])(?:java|vb|live|ecma|j)script:|^data:(?:text\/(?:html|xml|javascript)|image\/svg|application\/(?:x-)?(?:javascript|ecmascript|xhtml|xml))/;
const CSS_SCRIPT = /expression\s*\(|(?:java|vb)script:|behaviou?r\s*:|-moz-binding|@import/;
const BLANKS = /[\x00-\x20\x7f]+/g;

/** Names of JavaScript functions that execute strings, show dialogs or reach the page: sinks. */
const SINK_CALL =
  /(?:^|[^\w$.])(?:alert|prompt|confirm|eval|print|settimeout|setinterval|fetch|import|atob|document\s*\.\s*write(?:ln)?|(?:top|window|self|parent|frames|globalthis)\s*(?:\.\s*\w+|\[[^\]]{1,40}\]))\s*(?:\(|`)|(?:document\s*\.\s*(?:cookie|domain)|\.innerhtml\s*=|location(?:\.href)?\s*=)/;
/** A value that closes a JavaScript string or statement, then continues with code. */
const JS_BREAKOUT = /['"`]\s*[-+*/%;,)|&^}\]]|^\s*[-+*/%;,)|&^}\]]/;
/** A javascript: URL as a whole value: the scheme followed by code, not by prose ("javascript: the good parts"). */
const SCRIPT_URL_VALUE = /^(?:java|vb|live|ecma)script:(?:[\w$.]+(?:\(|`|=|\[)|[/'"(`{[\\%&]|void\b|eval\b|this\b)/;

const ATTRIBUTE_CONTEXT_HINT = /(?:on[a-z]{3,}|href|src|style|action|data|srcdoc|values|background|poster|by|to|from)\s*=/;

export function detectXss(decoded: string, lower: string): XssRule | undefined {
  const s = decoded.length > XSS_SCAN_CHARS ? decoded.slice(0, XSS_SCAN_CHARS) : decoded;
  const l = lower.length > XSS_SCAN_CHARS ? lower.slice(0, XSS_SCAN_CHARS) : lower;
  if (l.includes('<')) {
    const r = scanHtml(s + '>', 0);
    if (r !== undefined) return r;
  }
  if (l.includes('=') && ATTRIBUTE_CONTEXT_HINT.test(l)) {
    // The value as the rest of an attribute value, then whatever the page's markup had after it.
    for (const [open, close] of ATTRIBUTE_CONTEXTS) {
      if (open.endsWith('=') || s.includes(open[open.length - 1]!)) {
        const r = scanHtml(`${open}${s}${close}`, 1);
        if (r !== undefined) return r;
      }
    }
  }
  if (l.includes(':')) {
    // The browser ignores blanks and controls inside the scheme only; after it, spaces are text.
    const colon = l.indexOf(':');
    if (SCRIPT_URL_VALUE.test(l.slice(0, colon + 1).replace(BLANKS, '') + l.slice(colon + 1).trimStart())) return 'xss.script_url';
  }
  if (JS_BREAKOUT.test(l) && SINK_CALL.test(l)) return 'xss.script_sink';
  return undefined;
}

const ATTRIBUTE_CONTEXTS: ReadonlyArray<readonly [string, string]> = [
  ['<x a="', '">'],
  ["<x a='", "'>"],
  ['<x a=', '>'],
];

const CSS_ESCAPE = /\\([0-9a-f]{1,6})\s?|\\(.)/gi;
const CSS_COMMENT = /\/\*[\s\S]*?\*\//g;

/** CSS as its parser reads it: escapes resolved (`expr\65ssion`), comments gone, lower-cased. */
function cssText(css: string): string {
  const t = css.includes('\\')
    ? css.replace(CSS_ESCAPE, (_, hex: string | undefined, ch: string | undefined) =>
        hex ? String.fromCodePoint(Math.min(parseInt(hex, 16), 0x10ffff)) : (ch ?? ''),
      )
    : css;
  return (t.includes('/*') ? t.replace(CSS_COMMENT, '') : t).toLowerCase();
}

/** Tokenizes `html`; `skip` attributes at the start of the first tag are the page's own, not the value's. */
function scanHtml(html: string, skip: number): XssRule | undefined {
  let found: XssRule | undefined;
  let inStyle = false;
  let attrIndex = 0;
  const parser = new Parser(
    {
      onopentagname(name) {
        if (found !== undefined) return;
        if (SCRIPT_ELEMENTS.has(name)) found = 'xss.script_element';
        else if (VECTOR_ELEMENTS.has(name)) found = 'xss.vector_element';
        else if (name === 'style') inStyle = true;
        else if (name === 'form') found = 'xss.form_injection';
      },
      onattribute(name, value, quote) {
        if (found !== undefined || attrIndex++ < skip) return;
        if (name.length > 4 && name.startsWith('on') && quote !== undefined) found = 'xss.event_handler';
        else if (name === 'srcdoc') found = 'xss.srcdoc';
        else if (name === 'style' && CSS_SCRIPT.test(cssText(value))) found = 'xss.css_script';
        else if ((URL_ATTRIBUTES.has(name) || name === 'http-equiv' || name === 'attributename') && SCRIPT_SCHEME.test(value.toLowerCase().replace(BLANKS, '')))
          found = 'xss.script_url';
        else if (name === 'http-equiv' && value.toLowerCase().includes('refresh')) found = 'xss.script_element';
        else if (name === 'rel' && value.toLowerCase().includes('import')) found = 'xss.script_element';
        // A password field the page did not put there: a credential form an attacker reads.
        else if (name === 'type' && value.toLowerCase() === 'password') found = 'xss.form_injection';
      },
      ontext(text) {
        if (found === undefined && inStyle && CSS_SCRIPT.test(cssText(text))) found = 'xss.css_script';
      },
      onclosetag(name) {
        if (name === 'style') inStyle = false;
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();
  return found;
}
