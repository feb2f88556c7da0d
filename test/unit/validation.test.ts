/**
 * Every product validator's edge cases, in process, through the real compiled checker
 * (compileInput: the same code validate() runs per request). The defects listed for the earlier
 * backend (../shared/reference/caly-origin.md §2.3, §3.4) each have a row here.
 */
import type { JSONSchemaType, SchemaObject } from 'ajv';
import { expect } from 'chai';
import type { FieldError } from '../../src/platform/errors/app-error';
import { compileInput, findForbiddenKeys, normalizePhone, schemas, type RawInput } from '../../src/platform/validation';

/** A body schema `{ v: <field> }` (required), checked as a JSON body. */
function bodyField(field: SchemaObject) {
  const check = compileInput<{ body: { v: unknown } }>({
    body: { type: 'object', properties: { v: field }, required: ['v'] } as unknown as JSONSchemaType<{ v: unknown }>,
  });
  return (v: unknown): { ok: true; value: unknown } | { ok: false; errors: FieldError[] } => {
    const r = check({ body: { v } });
    return r.ok ? { ok: true, value: (r.input.body as { v: unknown }).v } : { ok: false, errors: r.errors };
  };
}

/** A query schema `{ v: <field> }`, checked against a query string value (as Koa parses it). */
function queryField(field: SchemaObject) {
  const check = compileInput<{ query: { v?: unknown } }>({
    query: { type: 'object', properties: { v: field } } as unknown as JSONSchemaType<{ v?: unknown }>,
  });
  return (v: string | string[]) => {
    const r = check({ query: { v } });
    return r.ok ? { ok: true as const, value: (r.input.query as { v: unknown }).v } : { ok: false as const, errors: r.errors };
  };
}

function expectAccepts(check: (v: never) => { ok: boolean }, values: unknown[]): void {
  for (const v of values) expect(check(v as never).ok, `should accept ${JSON.stringify(v)}`).to.equal(true);
}
function expectRejects(check: (v: never) => { ok: boolean; errors?: FieldError[] }, values: unknown[], message?: string): void {
  for (const v of values) {
    const r = check(v as never);
    expect(r.ok, `should reject ${JSON.stringify(v)}`).to.equal(false);
    if (message) expect(r.errors?.[0]?.message).to.equal(message);
  }
}

describe('validation: product validators', () => {
  describe('email', () => {
    const email = bodyField({ type: 'string', format: 'email' });
    it('accepts ordinary addresses and refuses the shapes the old validator let through', () => {
      expectAccepts(email, ['a@b.co', 'first.last+tag@sub.example.in', "o'brien@example.com", `${'a'.repeat(64)}@example.com`]);
      expectRejects(email, [
        '',
        'plain',
        '<script>@x.y',
        'a@b',
        'a@@b.co',
        'a @b.co',
        'a@b.co ',
        '.a@b.co',
        'a..b@c.co',
        `${'a'.repeat(65)}@example.com`,
        `a@${'b'.repeat(64)}.com`,
        `a@${'b.'.repeat(126)}co`,
        5,
        null,
      ]);
      expect((email('nope') as { errors: FieldError[] }).errors).to.deep.equal([{ path: '/body/v', message: 'must be a valid email address' }]);
    });
    it('the fragment trims and lower-cases before checking', () => {
      const f = bodyField(schemas.email);
      expect(f('  Ravi.K@Example.COM ')).to.deep.equal({ ok: true, value: 'ravi.k@example.com' });
    });
  });

  describe('phone', () => {
    const spellings: Array<[string, string]> = [
      ['09876543210', '+919876543210'],
      ['9876543210', '+919876543210'],
      ['+91 98765 43210', '+919876543210'],
      ['+91-98765-43210', '+919876543210'],
      ['(+91) 98765 43210', '+919876543210'],
      ['+91 (0) 98765 43210', '+919876543210'],
      ['0091 98765 43210', '+919876543210'],
      ['919876543210', '+919876543210'],
      [' 919876543210', '+919876543210'], // a query-string `+` that arrived as a space
      ['022 2345 6789', '+912223456789'], // landline with the trunk 0
      ['+1 (415) 555-2671', '+14155552671'],
      ['+44 20 7946 0958', '+442079460958'],
      ['+919876543210', '+919876543210'],
    ];
    it('normalises every accepted spelling to E.164, idempotently', () => {
      for (const [raw, e164] of spellings) {
        expect(normalizePhone(raw), raw).to.equal(e164);
        expect(normalizePhone(e164), e164).to.equal(e164);
      }
    });
    it('the fragment hands the handler E.164', () => {
      const f = bodyField(schemas.phone);
      for (const [raw, e164] of spellings) expect(f(raw), raw).to.deep.equal({ ok: true, value: e164 });
    });
    it('counts digits, not characters, and refuses what it cannot place', () => {
      const f = bodyField(schemas.phone);
      const message = 'must be a valid phone number in international form, e.g. +919876543210';
      expectRejects(
        f,
        [
          '----------',
          '',
          '12345',
          '+91 98765 4321',
          '+91 98765 432100',
          '5876543210',
          '+0123456789',
          '+1234567890123456',
          'abc',
          '+91 98765 43210 ext 5',
          'tel:+919876543210',
          '+91 98765 4321O',
        ],
        message,
      );
      // A number, not a string: a type error, never a thrown exception
      expect(f(9876543210)).to.deep.equal({ ok: false, errors: [{ path: '/body/v', message: 'must be a string' }] });
    });
    it('format phone alone (without normalizePhone) accepts only E.164', () => {
      const f = bodyField({ type: 'string', format: 'phone' });
      expectAccepts(f, ['+919876543210', '+14155552671']);
      expectRejects(f, ['09876543210', '+91 98765 43210', '+91123']);
    });
  });

  describe('url', () => {
    const url = bodyField({ type: 'string', format: 'url' });
    it('accepts http and https only', () => {
      expectAccepts(url, ['https://caly.ai', 'http://localhost:3000/x?y=1#z', 'HTTPS://EXAMPLE.COM/path', 'https://xn--d1acufc.xn--p1ai/']);
      expectRejects(
        url,
        [
          'javascript:alert(1)',
          'JaVaScRiPt:alert(1)',
          'java\tscript:alert(1)',
          'data:text/html,<script>alert(1)</script>',
          'mailto:a@b.co',
          'ftp://files.example.com',
          'file:///etc/passwd',
          '//evil.example',
          'https://',
          'http:/x.example',
          'https://bank.example@evil.example',
          'https://user:pw@x.example',
          ' https://x.example',
          'https://x.example/\nSet-Cookie:a',
          `https://x.example/${'a'.repeat(2048)}`,
        ],
        'must be an http or https URL',
      );
    });
  });

  describe('string lengths', () => {
    it('honours min and max, 0 included, counted in characters not UTF-16 units', () => {
      const empty = bodyField({ type: 'string', minLength: 0, maxLength: 0 });
      expectAccepts(empty, ['']);
      expectRejects(empty, ['a'], 'must be empty');
      const oneToThree = bodyField({ type: 'string', minLength: 1, maxLength: 3 });
      expectAccepts(oneToThree, ['a', 'abc', '👍👍👍', 'कि']);
      expectRejects(oneToThree, [''], 'must be at least 1 character long');
      expectRejects(oneToThree, ['abcd'], 'must be at most 3 characters long');
    });
    it('trim runs before minLength: blanks do not satisfy a required name', () => {
      const f = bodyField({ type: 'string', trim: true, minLength: 1 });
      expectRejects(f, ['   ', '\t\n'], 'must be at least 1 character long');
      expect(f('  x  ')).to.deep.equal({ ok: true, value: 'x' });
    });
  });

  describe('number', () => {
    it('a JSON body is never coerced: "", true, [], "0x10", "Infinity", " 1", "1" are not numbers', () => {
      const n = bodyField({ type: 'number' });
      expectAccepts(n, [0, -1.5, 1e3, Number.MAX_SAFE_INTEGER]);
      expectRejects(n, ['', true, false, [], {}, null, '0x10', 'Infinity', ' 1', '1', 'NaN'], 'must be a number');
    });
    it('minimum 0 is honoured (the old validator ignored falsy limits)', () => {
      const n = bodyField({ type: 'number', minimum: 0, maximum: 0 });
      expectAccepts(n, [0]);
      expectRejects(n, [-1], 'must be greater than or equal to 0');
      expectRejects(n, [0.5], 'must be less than or equal to 0');
    });
    it('integer refuses fractions', () => {
      expectRejects(bodyField({ type: 'integer' }), [1.5, '1'], 'must be an integer');
    });
    it('a query string is converted only where the schema says number, integer or boolean, strictly', () => {
      const int = queryField({ type: 'integer' });
      expect(int('5')).to.deep.equal({ ok: true, value: 5 });
      expect(int('-3')).to.deep.equal({ ok: true, value: -3 });
      for (const bad of ['', ' 1', '1 ', '0x10', 'Infinity', '1e3', '1.5', '01', '+1', '9007199254740993', 'NaN'])
        expect(int(bad), bad).to.deep.equal({ ok: false, errors: [{ path: '/query/v', message: 'must be an integer' }] });
      const num = queryField({ type: 'number' });
      expect(num('1.5')).to.deep.equal({ ok: true, value: 1.5 });
      expect(num('-2e3')).to.deep.equal({ ok: true, value: -2000 });
      for (const bad of ['', '.5', '1.', '0x10', 'Infinity', '-Infinity', '1e999', ' 1', 'true']) expect(num(bad).ok, bad).to.equal(false);
      const bool = queryField({ type: 'boolean' });
      expect(bool('true')).to.deep.equal({ ok: true, value: true });
      expect(bool('false')).to.deep.equal({ ok: true, value: false });
      for (const bad of ['1', '0', 'TRUE', 'yes', ''])
        expect(bool(bad), bad).to.deep.equal({ ok: false, errors: [{ path: '/query/v', message: 'must be true or false' }] });
      // A string-typed parameter stays text: leading zeros survive.
      expect(queryField({ type: 'string' })('007')).to.deep.equal({ ok: true, value: '007' });
    });
    it('query arrays: one value or many, each item converted', () => {
      const tags = queryField({ type: 'array', items: { type: 'integer' }, maxItems: 3 });
      expect(tags('1')).to.deep.equal({ ok: true, value: [1] });
      expect(tags(['1', '2'])).to.deep.equal({ ok: true, value: [1, 2] });
      expect(tags(['1', 'x'])).to.deep.equal({ ok: false, errors: [{ path: '/query/v/1', message: 'must be an integer' }] });
      // A scalar schema given a repeated parameter reports it instead of picking one.
      expect(queryField({ type: 'integer' })(['1', '2']).ok).to.equal(false);
    });
    it("Koa's query object is never modified", () => {
      const check = compileInput<{ query: schemas.Pagination }>({ query: schemas.pagination });
      const koaQuery = Object.freeze({ limit: '5' });
      const r = check({ query: koaQuery });
      expect(r).to.deep.equal({ ok: true, input: { query: { limit: 5 } } });
      expect(koaQuery).to.deep.equal({ limit: '5' });
    });
  });

  describe('enum', () => {
    it('is strict, lists the allowed values, and sees the sanitised value', () => {
      const plain = bodyField({ type: 'string', enum: ['open', 'closed'] });
      expectAccepts(plain, ['open', 'closed']);
      expectRejects(plain, ['Open', ' open', ''], 'must be one of: "open", "closed"');
      expectRejects(plain, [null, 1]);
      const folded = bodyField({ type: 'string', trim: true, lowercase: true, enum: ['open', 'closed'] });
      expect(folded(' OPEN ')).to.deep.equal({ ok: true, value: 'open' });
    });
  });

  describe('array', () => {
    it('honours minItems/maxItems (0 included), item schemas and uniqueness, with item paths', () => {
      const f = bodyField({ type: 'array', items: { type: 'string', format: 'email' }, minItems: 0, maxItems: 2, uniqueItems: true });
      expectAccepts(f, [[], ['a@b.co'], ['a@b.co', 'c@d.co']]);
      expectRejects(f, [['a@b.co', 'c@d.co', 'e@f.co']], 'must have at most 2 items');
      expectRejects(f, [['a@b.co', 'a@b.co']], 'must not contain duplicate items');
      expectRejects(f, ['a@b.co', { 0: 'a@b.co' }], 'must be an array');
      expect(f(['a@b.co', 'nope'])).to.deep.equal({ ok: false, errors: [{ path: '/body/v/1', message: 'must be a valid email address' }] });
      expectRejects(bodyField({ type: 'array', minItems: 1 }), [[]], 'must have at least 1 item');
    });
  });

  describe('date and date-time', () => {
    it('date: strict YYYY-MM-DD that exists on the calendar', () => {
      const f = bodyField({ type: 'string', format: 'date' });
      expectAccepts(f, ['2024-02-29', '2000-02-29', '1999-12-31', '2024-04-30']);
      expectRejects(
        f,
        [
          '2024-02-31',
          '2023-02-29',
          '1900-02-29',
          '2024-04-31',
          '2024-13-01',
          '2024-00-10',
          '2024-01-00',
          '2024-1-01',
          '20240101',
          '2024/01/01',
          '2024-02-29T00:00:00Z',
          ' 2024-01-01',
          '0',
          '1',
          '',
        ],
        'must be a real calendar date in the form YYYY-MM-DD',
      );
      expectRejects(f, [null, 0, true], 'must be a string');
    });
    it('date-time: strict ISO 8601 with a time zone', () => {
      const f = bodyField({ type: 'string', format: 'date-time' });
      expectAccepts(f, ['2024-02-29T10:30:00Z', '2024-02-29T10:30:00.123+05:30', '2024-12-31T23:59:59.999999-08:00']);
      expectRejects(f, [
        '2024-02-29T10:30:00',
        '2024-02-29t10:30:00z',
        '2024-02-29 10:30:00Z',
        '2024-02-31T10:30:00Z',
        '2024-02-29T24:00:00Z',
        '2024-02-29T23:60:00Z',
        '2016-12-31T23:59:60Z',
        '2024-02-29T10:30:00+24:00',
        '2024-02-29T10:30Z',
        '2024-02-29',
      ]);
    });
  });

  describe('uuid', () => {
    it('RFC 9562 versions 1-8 with the RFC variant; the fragment lower-cases', () => {
      const f = bodyField({ type: 'string', format: 'uuid' });
      expectAccepts(f, ['0f8fad5b-d9cb-469f-a165-70867728950e', '01890a5d-ac96-774b-bcce-b302099a8057', '0F8FAD5B-D9CB-469F-A165-70867728950E']);
      expectRejects(
        f,
        [
          '00000000-0000-0000-0000-000000000000',
          'urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e',
          '0f8fad5b-d9cb-469f-c165-70867728950e',
          '0f8fad5b-d9cb-069f-a165-70867728950e',
          '0f8fad5bd9cb469fa16570867728950e',
          '0f8fad5b-d9cb-469f-a165-70867728950',
        ],
        'must be a UUID',
      );
      expect(bodyField(schemas.uuid)('0F8FAD5B-D9CB-469F-A165-70867728950E')).to.deep.equal({ ok: true, value: '0f8fad5b-d9cb-469f-a165-70867728950e' });
    });
  });

  describe('alphanumeric and noSpecialChars', () => {
    it('alphanumeric: ASCII letters and digits only (codes and identifiers)', () => {
      const f = bodyField({ type: 'string', format: 'alphanumeric' });
      expectAccepts(f, ['abc123', 'EXO42', '']);
      expectRejects(f, ['abc-123', 'abc 1', 'José', 'a_b', 'ab\u0000'], 'must contain only the letters A-Z and digits');
    });
    it('noSpecialChars: names in any script welcome, markup and control characters not', () => {
      const f = bodyField({ type: 'string', format: 'noSpecialChars' });
      expectAccepts(f, ['José', "O'Brien", 'O’Brien', 'देवनागरी', 'श्री राम', 'Jean-Luc', 'St. John, Jr.', 'நன்றி', 'ਪੰਜਾਬੀ', 'ক্\u200Cষ', 'Müller 2', '张伟', '']);
      expectRejects(
        f,
        [
          'a<b',
          'a>b',
          'a;b',
          'a&b',
          'a"b',
          'a/b',
          'a\\b',
          'a=b',
          'a(b)',
          'a_b',
          'a@b',
          'tab\there',
          'new\nline',
          'nul\u0000',
          'del\u007f',
          'rtl\u202eoverride',
          'emoji 😀',
          '<script>',
        ],
        "must contain only letters, digits, spaces and ' - . ,",
      );
    });
  });

  describe('unknown properties', () => {
    it('are rejected in bodies at every level, each named', () => {
      const check = compileInput<{ body: { name: string; address: { city: string } } }>({
        body: {
          type: 'object',
          properties: { name: { type: 'string' }, address: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
          required: ['name', 'address'],
        },
      });
      const r = check({ body: { name: 'a', role: 'admin', address: { city: 'Pune', zip: '411001' } } });
      expect(r).to.deep.equal({
        ok: false,
        errors: [
          { path: '/body/role', message: 'is not an allowed field' },
          { path: '/body/address/zip', message: 'is not an allowed field' },
        ],
      });
    });
    it('a schema that wants extra fields says so explicitly', () => {
      const check = compileInput<{ body: { meta: Record<string, string> } }>({
        body: { type: 'object', properties: { meta: { type: 'object', additionalProperties: { type: 'string' }, required: [] } }, required: ['meta'] },
      });
      expect(check({ body: { meta: { anything: 'x' } } }).ok).to.equal(true);
      expect(check({ body: { meta: { anything: 1 } } }).ok).to.equal(false);
    });
    it('an object composed with allOf must decide explicitly, at registration', () => {
      const composed = { type: 'object', allOf: [{ properties: { a: { type: 'string' } } }] } as unknown as JSONSchemaType<object>;
      expect(() => compileInput<{ body: object }>({ body: composed })).to.throw(/state additionalProperties explicitly/);
    });
  });

  describe('schemas are compiled at registration', () => {
    it('a misspelt keyword fails when the route is declared, not on the first request', () => {
      const typo = { type: 'object', properties: { a: { type: 'string', fromat: 'email' } } } as unknown as JSONSchemaType<{ a?: string }>;
      expect(() => compileInput<{ body: { a?: string } }>({ body: typo })).to.throw(/unknown keyword: "fromat"/);
    });
  });

  describe('errors', () => {
    const check = compileInput<{ params: { id: string }; query: schemas.Pagination; body: { email: string; phone: string; age: number } }>({
      params: { type: 'object', properties: { id: schemas.uuid }, required: ['id'] },
      query: schemas.pagination,
      body: {
        type: 'object',
        properties: { email: schemas.email, phone: schemas.phone, age: { type: 'integer', minimum: 0 } },
        required: ['email', 'phone', 'age'],
      },
    });
    it('reports every problem of every part at once, with JSON-pointer paths prefixed by the part', () => {
      const r = check({ params: { id: 'nope' }, query: { limit: '0' }, body: { email: 'x', age: -1 } });
      expect(r).to.deep.equal({
        ok: false,
        errors: [
          { path: '/params/id', message: 'must be a UUID' },
          { path: '/query/limit', message: 'must be greater than or equal to 1' },
          { path: '/body/phone', message: 'is required' },
          { path: '/body/email', message: 'must be a valid email address' },
          { path: '/body/age', message: 'must be greater than or equal to 0' },
        ],
      });
    });
    it('escapes / and ~ in paths (RFC 6901)', () => {
      const c = compileInput<{ body: { 'a/b': string; 'c~d'?: number } }>({
        body: { type: 'object', properties: { 'a/b': { type: 'string' }, 'c~d': { type: 'number', nullable: true } }, required: ['a/b'] },
      });
      expect(c({ body: { 'c~d': 'x' } })).to.deep.equal({
        ok: false,
        errors: [
          { path: '/body/a~1b', message: 'is required' },
          { path: '/body/c~0d', message: 'must be a number' },
        ],
      });
    });
    it('caps the list so a huge bad array cannot produce a huge response', () => {
      const c = compileInput<{ body: number[] }>({ body: { type: 'array', items: { type: 'number' } } });
      const r = c({ body: Array.from({ length: 1000 }, () => 'x') });
      expect(r.ok).to.equal(false);
      const errors = (r as { errors: FieldError[] }).errors;
      expect(errors).to.have.length(50);
      expect(errors[49]).to.deep.equal({ path: '', message: 'and 951 more errors' });
    });
    it('anyOf reports one readable error, not every branch', () => {
      const c = compileInput<{ body: { contact: string } }>({
        body: { type: 'object', properties: { contact: { type: 'string', anyOf: [{ format: 'email' }, { format: 'phone' }] } }, required: ['contact'] },
      });
      expect(c({ body: { contact: 'nope' } })).to.deep.equal({
        ok: false,
        errors: [{ path: '/body/contact', message: 'must match exactly one of the allowed forms' }],
      });
      expect(c({ body: { contact: '+919876543210' } }).ok).to.equal(true);
    });
    it('a missing body against a body schema is a 400 detail, not a crash', () => {
      expect(check({ params: { id: '0f8fad5b-d9cb-469f-a165-70867728950e' }, query: {} } as RawInput)).to.deep.equal({
        ok: false,
        errors: [{ path: '/body', message: 'must be an object' }],
      });
    });
  });

  describe('prototype-pollution keys', () => {
    it('finds __proto__, constructor and prototype at any depth, including JSON.parse own __proto__', () => {
      expect(findForbiddenKeys(JSON.parse('{"__proto__":{"admin":true}}'), '/body')).to.deep.equal([
        { path: '/body/__proto__', message: 'is a reserved key and not allowed' },
      ]);
      const nested = JSON.parse('{"a":[1,{"b":{"constructor":{"prototype":{"x":1}}}}],"c":{"prototype":1}}');
      expect(findForbiddenKeys(nested, '/body').map((e) => e.path)).to.deep.equal(['/body/a/1/b/constructor', '/body/c/prototype']);
      expect(findForbiddenKeys({ name: 'constructor', proto: '__proto__', list: ['prototype'] }, '/body')).to.deep.equal([]);
      expect(({} as Record<string, unknown>).admin).to.equal(undefined);
    });
    it('survives a body nested far deeper than the call stack would', () => {
      const deep = JSON.parse(`${'['.repeat(20000)}{"__proto__":1}${']'.repeat(20000)}`);
      expect(findForbiddenKeys(deep, '/body')).to.have.length(1);
    });
    it('are refused in query and params too, before anything is copied', () => {
      const check = compileInput<{ query: schemas.Pagination }>({ query: schemas.pagination });
      const q = Object.create(null) as Record<string, unknown>;
      q.__proto__ = 'x';
      expect(check({ query: q })).to.deep.equal({ ok: false, errors: [{ path: '/query/__proto__', message: 'is a reserved key and not allowed' }] });
    });
  });
});
