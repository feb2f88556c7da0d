import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { ERROR_STATUS, EVERY_REQUEST } from '../../src/platform/api/schemas';
import type { ErrorCode } from '../../src/platform/errors/app-error';

/**
 * Checks responses of the running service against the checked-in OpenAPI document
 * (docs/openapi.json, itself pinned to the route declarations by test/openapi.test.ts): the
 * operation exists, the status is declared for it, the body matches the declared schema, and every
 * error is in the one envelope. Unknown paths (404) and known paths with another method (405)
 * must answer the envelope with NOT_FOUND / METHOD_NOT_ALLOWED.
 */

type Doc = { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>> };

const DOC_ID = 'caly-openapi';
const ROOT = resolve(__dirname, '..', '..'); // not from ./service: it imports this module
const doc = JSON.parse(readFileSync(join(ROOT, 'docs', 'openapi.json'), 'utf8')) as Doc;
const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
addFormats.default(ajv);
ajv.addSchema(doc as object, DOC_ID);

const escape = (s: string) => s.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
// Literal segments win over parameters: fewest parameters first.
const templates = Object.keys(doc.paths)
  .sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0))
  .map((t) => ({
    t,
    re: new RegExp(
      `^${t
        .split('/')
        .map((seg) => (seg.startsWith('{') ? '[^/]+' : escape(seg)))
        .join('/')}$`,
    ),
  }));
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
  if (!op) return unroutedProblems(r, where, pathname, Boolean(match), json);
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

/**
 * A request no operation answers: a CORS preflight or OPTIONS (200/204, no body), 404 or 405, or
 * an error of the middleware that runs before routing (body parsing, anomaly scan, API limiter …),
 * always in the envelope with a code of its status.
 */
function unroutedProblems(r: Observed, where: string, pathname: string, known: boolean, json: () => { ok: true; value: unknown } | { ok: false }): string[] {
  if (r.method === 'OPTIONS' && (r.status === 200 || r.status === 204) && r.text === '') return [];
  const allowed = new Set<string>([
    known ? 'METHOD_NOT_ALLOWED' : 'NOT_FOUND',
    ...EVERY_REQUEST,
    ...(pathname.startsWith('/api/') ? ['RATE_LIMIT_EXCEEDED'] : []),
  ]);
  const body = json();
  const code = body.ok ? (body.value as { error?: { code?: string } }).error?.code : undefined;
  const envelope = validatorFor('components/schemas/ErrorEnvelope');
  if (!body.ok || !envelope(body.value)) return [`${where}: not a documented operation, and not the error envelope`];
  if (!code || !allowed.has(code) || ERROR_STATUS[code as ErrorCode] !== r.status)
    return [`${where}: not a documented operation; ${code} is not an error a request can meet before routing`];
  return [];
}

/** Reads a copy of the response (the caller keeps the original) and throws on any problem. */
export async function assertHonoursContract(method: string, path: string, res: Response): Promise<void> {
  const text = await res.clone().text();
  const problems = contractProblems({ method, path, status: res.status, contentType: res.headers.get('content-type'), text });
  if (problems.length > 0) throw new Error(`response outside the API contract (docs/openapi.json): ${problems.join('; ')}`);
}

const watched = new Set<string>();
let original: typeof fetch | undefined;

function requestOf(input: Parameters<typeof fetch>[0], init?: RequestInit): { method: string; url: URL } {
  if (input instanceof Request) return { method: (init?.method ?? input.method).toUpperCase(), url: new URL(input.url) };
  return { method: (init?.method ?? 'GET').toUpperCase(), url: new URL(String(input)) };
}

/**
 * From now until unwatch(), every fetch() answered by this service (a child process started by
 * startService) is checked against the document: tests cannot receive an undocumented response.
 */
export function watchService(baseUrl: string): () => void {
  const origin = new URL(baseUrl).origin;
  watched.add(origin);
  if (!original) {
    const real = (original = globalThis.fetch);
    globalThis.fetch = async function contractCheckedFetch(input, init) {
      const res = await real(input, init);
      const { method, url } = requestOf(input, init);
      if (watched.has(url.origin)) await assertHonoursContract(method, `${url.pathname}${url.search}`, res);
      return res;
    };
  }
  return () => watched.delete(origin);
}
