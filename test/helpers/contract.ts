import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { ROOT } from './service';

/**
 * Checks responses of the running service against the checked-in OpenAPI document
 * (docs/openapi.json, itself pinned to the route declarations by test/openapi.test.ts): the
 * operation exists, the status is declared for it, the body matches the declared schema, and every
 * error is in the one envelope. Unknown paths (404) and known paths with another method (405)
 * must answer the envelope with NOT_FOUND / METHOD_NOT_ALLOWED.
 */

type Doc = { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>> };

const DOC_ID = 'caly-openapi';
const doc = JSON.parse(readFileSync(join(ROOT, 'docs', 'openapi.json'), 'utf8')) as Doc;
const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
addFormats.default(ajv);
ajv.addSchema(doc as object, DOC_ID);

const escape = (s: string) => s.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
// Literal segments win over parameters: fewest parameters first.
const templates = Object.keys(doc.paths)
  .sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0))
  .map((t) => ({ t, re: new RegExp(`^${t.split('/').map((seg) => (seg.startsWith('{') ? '[^/]+' : escape(seg))).join('/')}$`) }));
const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
const compiled = new Map<string, ReturnType<typeof ajv.compile>>();

function validatorFor(ref: string) {
  let v = compiled.get(ref);
  if (!v) compiled.set(ref, (v = ajv.getSchema(`${DOC_ID}#/${ref}`) ?? ajv.compile({ $ref: `${DOC_ID}#/${ref}` })));
  return v;
}

export interface Observed {
  method: string;
  path: string;
  status: number;
  contentType: string | null;
  text: string;
}

/** Problems with one response; empty when it honours the document. */
export function contractProblems(r: Observed): string[] {
  const pathname = new URL(r.path, 'http://x').pathname;
  const where = `${r.method} ${pathname} → ${r.status}`;
  const json = () => {
    try {
      return { ok: true as const, value: JSON.parse(r.text) as unknown };
    } catch {
      return { ok: false as const };
    }
  };
  const match = templates.find(({ re }) => re.test(pathname));
  const method = r.method.toLowerCase() === 'head' ? 'get' : r.method.toLowerCase();
  const op = match ? doc.paths[match.t]![method] : undefined;
  if (!op) {
    const expected = match ? 'METHOD_NOT_ALLOWED' : 'NOT_FOUND';
    const body = json();
    const code = body.ok ? (body.value as { error?: { code?: string } }).error?.code : undefined;
    return code === expected && r.status === (match ? 405 : 404) ? [] : [`${where}: not a documented operation, and not a ${expected} envelope`];
  }
  const declared = op.responses[String(r.status)];
  if (!declared) return [`${where}: status ${r.status} is not declared (declared: ${Object.keys(op.responses).join(', ')})`];
  if (r.method === 'HEAD' || !declared.content) return r.text === '' || r.method === 'HEAD' ? [] : [`${where}: declared without a body, got one`];
  const type = (r.contentType ?? '').split(';')[0]!.trim();
  const media = Object.keys(declared.content).find((m) => m === type || (m.endsWith('/*') && type.startsWith(m.slice(0, -1))));
  if (!media) return [`${where}: content type ${type || '(none)'} is not declared (declared: ${Object.keys(declared.content).join(', ')})`];
  if (media !== 'application/json') return [];
  const body = json();
  if (!body.ok) return [`${where}: body is not JSON`];
  const check = validatorFor(pointer('paths', match!.t, method, 'responses', String(r.status), 'content', media, 'schema'));
  return check(body.value) ? [] : [`${where}: body does not match the document: ${ajv.errorsText(check.errors)} in ${r.text.slice(0, 300)}`];
}

/** Reads a copy of the response (the caller keeps the original) and throws on any problem. */
export async function assertHonoursContract(method: string, path: string, res: Response): Promise<void> {
  const text = await res.clone().text();
  const problems = contractProblems({ method, path, status: res.status, contentType: res.headers.get('content-type'), text });
  if (problems.length > 0) throw new Error(`response outside the API contract (docs/openapi.json): ${problems.join('; ')}`);
}
