import type { SchemaObject } from 'ajv';
import type { ErrorCode } from '../errors/app-error';
import { closeObjects } from '../validation/close-objects';
import type { InputShape } from '../validation';
import type { MediaDoc, RouteDeclaration, Security } from './declaration';
import { VALIDATED_BODY_TYPES } from './route';
import { ERROR_STATUS, EVERY_REQUEST, errorEnvelopeSchema } from './schemas';

const SANITISERS: Record<string, string> = { trim: 'trimmed', lowercase: 'lower-cased', normalizePhone: 'normalised to E.164' };

/** An Ajv request schema in OpenAPI 3.1's JSON Schema: sanitising keywords become prose, `nullable` a type union. */
export function toOpenApiSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toOpenApiSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  const notes: string[] = [];
  for (const [k, v] of Object.entries(schema as Record<string, unknown>)) {
    if (k in SANITISERS) {
      if (v === true) notes.push(SANITISERS[k]!);
    } else if (k === 'nullable') continue;
    else if (k === 'properties' || k === 'patternProperties')
      out[k] = Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([p, s]) => [p, toOpenApiSchema(s)]));
    else out[k] = toOpenApiSchema(v);
  }
  if ((schema as { nullable?: boolean }).nullable === true && typeof out.type === 'string') out.type = [out.type, 'null'];
  if (notes.length > 0) out.description = [out.description, `Accepted ${notes.join(', ')}.`].filter(Boolean).join(' ');
  return out;
}

const SCHEMES: Record<Exclude<Security, 'webhookCredential'>, string> = { bearer: 'bearerAuth', adminToken: 'adminToken', healthToken: 'healthToken' };

function parameters(where: 'path' | 'query', schema: SchemaObject | undefined): unknown[] {
  if (!schema?.properties) return [];
  const required = new Set<string>((schema.required as string[] | undefined) ?? []);
  return Object.entries(schema.properties as Record<string, SchemaObject>).map(([name, s]) => {
    const { description, ...rest } = toOpenApiSchema(s) as Record<string, unknown>;
    return { name, in: where, required: where === 'path' || required.has(name), ...(description ? { description } : {}), schema: rest };
  });
}

/** The errors a route answers with: its own, those of its guards and limiters, and those of every request. */
export function errorCodesOf(d: RouteDeclaration): ErrorCode[] {
  const codes = new Set<ErrorCode>([...d.errors, ...EVERY_REQUEST]);
  if (d.limiters.length > 0) codes.add('RATE_LIMIT_EXCEEDED');
  if (d.security.length > 0) codes.add('AUTHENTICATION_ERROR');
  return [...codes];
}

function operation(d: RouteDeclaration) {
  const input = (d.input ?? {}) as InputShape & Partial<Record<'body' | 'query' | 'params', SchemaObject>>;
  const query = input.query ? closeObjects(input.query, 'query') : d.query;
  const params = input.params ??
    d.params ?? { type: 'object', properties: Object.fromEntries([...d.path.matchAll(/:(\w+)/g)].map((m) => [m[1]!, { type: 'string' }])) };
  const responses: Record<string, unknown> = {};
  for (const [status, r] of Object.entries(d.responses))
    responses[status] = { description: r.description, ...(r.headers ? { headers: r.headers } : {}), ...(r.content ? { content: r.content } : {}) };
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of errorCodesOf(d)) byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    const schema = { allOf: [{ $ref: '#/components/schemas/ErrorEnvelope' }], properties: { error: { properties: { code: { enum: codes } } } } };
    responses[String(status)] = { description: codes.join(', '), content: { 'application/json': { schema } } };
  }
  let requestBody: unknown;
  if (input.body) {
    const schema = toOpenApiSchema(closeObjects(input.body, 'body')) as SchemaObject;
    requestBody = { required: true, content: Object.fromEntries(VALIDATED_BODY_TYPES.map((t) => [t, { schema } satisfies MediaDoc])) };
  } else if (d.body) requestBody = { required: d.body.required, ...(d.body.description ? { description: d.body.description } : {}), content: d.body.content };
  const credentialNote = d.security.includes('webhookCredential') ? '\n\nAuthenticated by the tenant webhook credential in the path.' : '';
  return {
    tags: [d.tag],
    summary: d.summary,
    ...(d.description || credentialNote ? { description: `${d.description ?? ''}${credentialNote}`.trim() } : {}),
    operationId: `${d.method.toLowerCase()}${d.path.replace(/:(\w+)/g, 'By_$1').replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`,
    parameters: [...parameters('path', params), ...parameters('query', query)],
    ...(requestBody ? { requestBody } : {}),
    responses,
    security: d.security.filter((s): s is keyof typeof SCHEMES => s !== 'webhookCredential').map((s) => ({ [SCHEMES[s]]: [] })),
    'x-rate-limiters': [...d.limiters],
  };
}

export const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

/** The OpenAPI 3.1 document of the given declarations (src/modules/catalogue.ts lists the service's). */
export function buildOpenApi(routes: readonly RouteDeclaration[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const d of routes) (paths[openApiPath(d.path)] ??= {})[d.method.toLowerCase()] = operation(d);
  const tags = [...new Set(routes.map((d) => d.tag))].map((name) => ({ name }));
  return {
    openapi: '3.1.0',
    info: {
      title: 'Caly API',
      version,
      description:
        'Caly answers customer-support calls with an AI voice agent over Exotel. Every error is answered in one envelope, `{ "error": { "code", "message", "requestId", "timestamp", "details"? } }`; branch on `code` (README.md lists them all). A request with the wrong method on a known path gets 405 METHOD_NOT_ALLOWED with an `Allow` header; an unknown path 404 NOT_FOUND; OPTIONS answers with `Allow` (and CORS preflights from allowed origins). Errors raised before routing (malformed body, anomaly block, the API rate limit on `/api/*`) can meet any path.',
    },
    tags,
    paths,
    components: {
      schemas: { ErrorEnvelope: errorEnvelopeSchema(Object.keys(ERROR_STATUS) as ErrorCode[]) },
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Access token from POST /api/auth/login.' },
        adminToken: { type: 'http', scheme: 'bearer', description: 'The ADMIN_TOKEN operator secret (platform role).' },
        healthToken: { type: 'http', scheme: 'bearer', description: 'HEALTH_TOKEN, for the guarded health views.' },
      },
    },
  };
}
