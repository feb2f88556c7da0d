/**
 * Property-based tests (fast-check), one or more per product validator. Each property states what
 * must hold for every generated input; fast-check shrinks any counter-example to a minimal one.
 */
import type { JSONSchemaType, SchemaObject } from 'ajv';
import { expect } from 'chai';
import fc from 'fast-check';
import {
  compileInput,
  findForbiddenKeys,
  isAlphanumeric,
  isEmail,
  isHttpUrl,
  isIsoDate,
  isIsoDateTime,
  isNoSpecialChars,
  isPhone,
  isUuid,
  normalizePhone,
} from '../../src/platform/validation';

const RUNS = { numRuns: 500 };

const compiled = new Map<string, ReturnType<typeof compileBodyField>>();
/** Compiling is the costly part (as it is at route registration), so equal schemas share one checker. */
function bodyField(field: SchemaObject) {
  const key = JSON.stringify(field);
  let f = compiled.get(key);
  if (f === undefined) compiled.set(key, (f = compileBodyField(field)));
  return f;
}
function compileBodyField(field: SchemaObject) {
  const check = compileInput<{ body: { v: unknown } }>({
    body: { type: 'object', properties: { v: field }, required: ['v'] } as unknown as JSONSchemaType<{ v: unknown }>,
  });
  return (v: unknown) => {
    const r = check({ body: { v } });
    return r.ok ? { ok: true as const, value: (r.input.body as { v: unknown }).v } : { ok: false as const };
  };
}
function queryField(field: SchemaObject) {
  const check = compileInput<{ query: { v?: unknown } }>({
    query: { type: 'object', properties: { v: field } } as unknown as JSONSchemaType<{ v?: unknown }>,
  });
  return (v: string) => {
    const r = check({ query: { v } });
    return r.ok ? { ok: true as const, value: (r.input.query as { v: unknown }).v } : { ok: false as const };
  };
}

const digits = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
/** Characters no identifier, name or number may contain. */
const controlChar = fc
  .integer({ min: 0, max: 0x9f })
  .filter((c) => c < 0x20 || c >= 0x7f)
  .map((c) => String.fromCharCode(c));
/** Inserts `piece` at a random position of `s`. */
const withInserted = (base: fc.Arbitrary<string>, piece: fc.Arbitrary<string>) =>
  fc.tuple(base, piece, fc.nat()).map(([s, p, i]) => {
    const at = s.length === 0 ? 0 : i % (s.length + 1);
    return s.slice(0, at) + p + s.slice(at);
  });

describe('validation: properties (fast-check)', () => {
  it('email: every generated RFC address within RFC 5321 lengths passes; anything with <, > or whitespace fails', () => {
    fc.assert(
      fc.property(fc.emailAddress(), (e) => {
        const [local = '', domain = ''] = [e.slice(0, e.lastIndexOf('@')), e.slice(e.lastIndexOf('@') + 1)];
        const withinLimits = e.length <= 254 && local.length <= 64 && domain.split('.').every((l) => l.length <= 63);
        expect(isEmail(e)).to.equal(withinLimits);
      }),
      RUNS,
    );
    fc.assert(
      fc.property(withInserted(fc.emailAddress(), fc.constantFrom('<', '>', ' ', '\t', '\n', '"', '(', ',')), (e) => !isEmail(e)),
      RUNS,
    );
  });

  it('email fragment: lower-casing and trimming are idempotent', () => {
    const f = bodyField({ type: 'string', trim: true, lowercase: true, format: 'email' });
    fc.assert(
      fc.property(fc.emailAddress(), fc.constantFrom('', ' ', '  '), (e, pad) => {
        const once = f(pad + e.toUpperCase() + pad);
        if (!once.ok) return isEmail(e.toLowerCase()) === false;
        return once.value === e.toLowerCase() && f(once.value).ok && (f(once.value) as { value: unknown }).value === once.value;
      }),
      RUNS,
    );
  });

  const e164 = fc.oneof(
    digits(9, 9).chain((rest) => fc.constantFrom(...'123456789').map((first) => `+91${first}${rest}`)),
    fc
      .tuple(fc.constantFrom(...'123456789'), digits(6, 14))
      .map(([a, b]) => `+${a}${b}`)
      .filter((n) => !n.startsWith('+91')),
  );

  it('phone: every generated E.164 number passes and normalises to itself (idempotent)', () => {
    fc.assert(
      fc.property(e164, (n) => {
        expect(isPhone(n), n).to.equal(true);
        expect(normalizePhone(n)).to.equal(n);
      }),
      RUNS,
    );
  });

  it('phone: every spelling of an Indian mobile number normalises to +91 and the ten digits', () => {
    const mobile = fc.tuple(fc.constantFrom(...'6789'), digits(9, 9)).map(([a, b]) => a + b);
    const separator = fc.constantFrom('', ' ', '-', '.', '  ');
    fc.assert(
      fc.property(mobile, fc.constantFrom('', '0', '+91', '+91 ', '91', '0091', '+91 (0) ', ' 91'), separator, (m, prefix, sep) => {
        const spelled = prefix + [m.slice(0, 5), m.slice(5)].join(sep);
        expect(normalizePhone(spelled), spelled).to.equal(`+91${m}`);
      }),
      RUNS,
    );
  });

  it('phone: for any string at all, normalisation gives null or valid E.164, and is idempotent', () => {
    const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 30 }), fc.string({ unit: fc.constantFrom(...'0123456789+ -()'), maxLength: 20 }));
    fc.assert(
      fc.property(anyText, (s) => {
        const n = normalizePhone(s);
        if (n === null) return true;
        return isPhone(n) && normalizePhone(n) === n;
      }),
      { numRuns: 2000 },
    );
  });

  it('phone: a letter or a control character anywhere makes the number invalid', () => {
    fc.assert(
      fc.property(withInserted(e164, fc.oneof(controlChar, fc.constantFrom(...'abcxyzO#*;'))), (s) => normalizePhone(s) === null),
      RUNS,
    );
  });

  it('url: every generated http(s) URL passes; any other scheme fails whatever its case or padding', () => {
    fc.assert(
      fc.property(fc.webUrl({ validSchemes: ['http', 'https'], withQueryParameters: true, withFragments: true }), (u) => isHttpUrl(u)),
      RUNS,
    );
    const scheme = fc.constantFrom('javascript', 'data', 'mailto', 'ftp', 'file', 'vbscript', 'blob', 'ws');
    const mixedCase = scheme.chain((s) =>
      fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }).map((up) => [...s].map((c, i) => (up[i] ? c.toUpperCase() : c)).join('')),
    );
    fc.assert(
      fc.property(mixedCase, fc.string({ maxLength: 40 }), fc.constantFrom('', '//'), (s, rest, slashes) => !isHttpUrl(`${s}:${slashes}${rest}`)),
      RUNS,
    );
    fc.assert(
      fc.property(withInserted(fc.constant('javascript:alert(1)'), fc.oneof(controlChar, fc.constant(' '))), (u) => !isHttpUrl(u)),
      RUNS,
    );
  });

  it('string: minLength/maxLength accept exactly the lengths in range, 0 included (counted in code points)', () => {
    fc.assert(
      fc.property(fc.nat(8), fc.nat(8), fc.string({ unit: 'grapheme-composite', maxLength: 12 }), (a, b, s) => {
        const [min, max] = a <= b ? [a, b] : [b, a];
        const length = [...s].length;
        return bodyField({ type: 'string', minLength: min, maxLength: max })(s).ok === (length >= min && length <= max);
      }),
      { numRuns: 300 },
    );
  });

  it('number: every finite number passes in a body; numbers written as strings (and other types) never do', () => {
    const n = bodyField({ type: 'number' });
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => n(x).ok && (n(x) as { value: unknown }).value === x),
      RUNS,
    );
    const notNumber = fc.oneof(
      fc.double({ noNaN: true }).map(String),
      fc.integer().map(String),
      fc.string(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.integer()),
      fc.object(),
    );
    fc.assert(
      fc.property(notNumber, (v) => !n(v).ok),
      RUNS,
    );
  });

  it('number in a query: converted exactly when the text is a JSON number, to that number', () => {
    const q = queryField({ type: 'number' });
    const jsonNumber = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
    fc.assert(
      fc.property(
        fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => JSON.stringify(x)),
        (s) => {
          const r = q(s);
          return r.ok && r.value === Number(s);
        },
      ),
      RUNS,
    );
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 8 }), fc.string({ unit: fc.constantFrom(...'0123456789.eE+-x '), maxLength: 8 })), (s) => {
        const r = q(s);
        return r.ok === (jsonNumber.test(s) && Number.isFinite(Number(s)));
      }),
      { numRuns: 2000 },
    );
    const i = queryField({ type: 'integer' });
    fc.assert(
      fc.property(fc.maxSafeInteger(), (x) => {
        const r = i(String(x));
        return r.ok && r.value === x;
      }),
      RUNS,
    );
  });

  it('enum: accepts exactly the listed values', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ maxLength: 6 }), { minLength: 1, maxLength: 6 }), fc.string({ maxLength: 6 }), (values, v) => {
        return bodyField({ type: 'string', enum: values })(v).ok === values.includes(v);
      }),
      { numRuns: 100 }, // each run compiles a new schema,
    );
  });

  it('array: accepts exactly the lengths in range and checks every item', () => {
    fc.assert(
      fc.property(fc.nat(5), fc.nat(5), fc.array(fc.oneof(fc.integer(), fc.string()), { maxLength: 8 }), (a, b, arr) => {
        const [min, max] = a <= b ? [a, b] : [b, a];
        const ok = arr.length >= min && arr.length <= max && arr.every((x) => typeof x === 'number');
        return bodyField({ type: 'array', items: { type: 'integer' }, minItems: min, maxItems: max })(arr).ok === ok;
      }),
      { numRuns: 300 },
    );
  });

  it('date: every real date round-trips through Date; impossible days never pass', () => {
    const dates = fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true });
    fc.assert(
      fc.property(dates, (d) => {
        const iso = d.toISOString();
        const day = iso.slice(0, 10);
        expect(isIsoDate(day), day).to.equal(true);
        expect(new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10)).to.equal(day);
        expect(isIsoDateTime(iso), iso).to.equal(true);
        expect(Date.parse(iso)).to.equal(d.getTime());
      }),
      RUNS,
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 31 }), (y, m, d) => {
        const s = `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
        const real = new Date(0);
        real.setUTCFullYear(y, m - 1, d); // (Date.UTC would map years 0-99 to 1900-1999)
        return isIsoDate(s) === (real.getUTCMonth() === m - 1 && real.getUTCDate() === d);
      }),
      { numRuns: 2000 },
    );
  });

  it('uuid: every generated RFC UUID passes in any case; a wrong variant or version never does', () => {
    fc.assert(
      fc.property(fc.uuid({ version: [1, 2, 3, 4, 5, 6, 7, 8] }), (u) => isUuid(u) && isUuid(u.toUpperCase())),
      RUNS,
    );
    fc.assert(
      fc.property(fc.uuid({ version: 4 }), fc.constantFrom(...'01234567cdef'), (u, variant) => !isUuid(u.slice(0, 19) + variant + u.slice(20))),
      RUNS,
    );
    fc.assert(
      fc.property(fc.uuid({ version: 4 }), fc.constantFrom(...'09abcdef'), (u, version) => !isUuid(u.slice(0, 14) + version + u.slice(15))),
      RUNS,
    );
  });

  it('alphanumeric: ASCII letters/digits pass; one other character anywhere fails', () => {
    const ascii = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'), maxLength: 20 });
    fc.assert(
      fc.property(ascii, (s) => isAlphanumeric(s)),
      RUNS,
    );
    const other = fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).filter((c) => !/^[A-Za-z0-9]$/.test(c));
    fc.assert(
      fc.property(withInserted(ascii, other), (s) => !isAlphanumeric(s)),
      RUNS,
    );
  });

  it('noSpecialChars: names from every script pass; any control character or markup character fails', () => {
    const letters = [...'abcXYZéñüçøßÅ', ...'देवनागरीकि्', ...'தமிழ்', ...'ਪੰਜਾਬੀ', ...'বাংলা', ...'漢字', ..."0123456789 '’-.,"];
    const name = fc.string({ unit: fc.constantFrom(...letters), maxLength: 30 });
    fc.assert(
      fc.property(name, (s) => isNoSpecialChars(s)),
      RUNS,
    );
    fc.assert(
      fc.property(withInserted(name, controlChar), (s) => !isNoSpecialChars(s)),
      RUNS,
    );
    fc.assert(
      fc.property(withInserted(name, fc.constantFrom(...'<>;&"/\\=()[]{}$%@#*_|`~^+!?')), (s) => !isNoSpecialChars(s)),
      RUNS,
    );
  });

  it('prototype keys: found wherever generated JSON hides them; never reported in JSON without them', () => {
    const forbidden = new Set(['__proto__', 'constructor', 'prototype']);
    const clean = fc.jsonValue({ maxDepth: 4 }).filter((v) => !/"(__proto__|constructor|prototype)":/.test(JSON.stringify(v)));
    fc.assert(
      fc.property(clean, (v) => findForbiddenKeys(v, '/body').length === 0),
      RUNS,
    );
    // Wrap a clean value in a path of objects/arrays, place a forbidden key at its bottom, and go
    // through JSON text so that __proto__ arrives as JSON.parse makes it: an own property.
    const step = fc.oneof(
      fc
        .string({ maxLength: 5 })
        .filter((k) => !forbidden.has(k))
        .map((k) => ({ key: k })),
      fc.constant({ index: true as const }),
    );
    fc.assert(
      fc.property(clean, fc.array(step, { maxLength: 6 }), fc.constantFrom(...forbidden), (inner, path, key) => {
        let text = `{${JSON.stringify(key)}:${JSON.stringify(inner)}}`;
        for (const s of [...path].reverse()) text = 'index' in s ? `[1,${text}]` : `{${JSON.stringify(s.key)}:${text}}`;
        const found = findForbiddenKeys(JSON.parse(text), '/body');
        return found.length >= 1 && found.some((f) => f.path.endsWith(`/${key}`));
      }),
      RUNS,
    );
  });
});
