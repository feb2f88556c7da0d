import type { SchemaObject } from 'ajv';
import type { ErrorCode } from '../errors/app-error';
import type { ResponseDoc } from './declaration';

/*
 * Response schema fragments for route declarations. Written in the JSON Schema 2020-12 subset
 * OpenAPI 3.1 uses (nullable is `type: [..., 'null']`); objects are closed, so a field added to a
 * response without its declaration fails the response check in the test suite.
 */

export const str: SchemaObject = { type: 'string' };
export const int: SchemaObject = { type: 'integer' };
export const bool: SchemaObject = { type: 'boolean' };
export const num: SchemaObject = { type: 'number' };
export const dateTime: SchemaObject = { type: 'string', format: 'date-time' };
export const uuid: SchemaObject = { type: 'string', format: 'uuid' };
export const anyObject: SchemaObject = { type: 'object' };

export const nullable = (s: SchemaObject): SchemaObject => ({ ...s, type: [s.type as string, 'null'] });
export const arrayOf = (items: SchemaObject): SchemaObject => ({ type: 'array', items });

/** A closed object: every listed property required unless named in `optional`. */
export function obj(properties: Record<string, SchemaObject>, optional: readonly string[] = []): SchemaObject {
  return { type: 'object', additionalProperties: false, required: Object.keys(properties).filter((k) => !optional.includes(k)), properties };
}

export const json = (schema: SchemaObject, example?: unknown): ResponseDoc['content'] => ({
  'application/json': { schema, ...(example === undefined ? {} : { examples: { example: { summary: 'Example', value: example } } }) },
});

/** Status of each error code (src/platform/errors/app-error.ts); a test pins it against the classes. */
export const ERROR_STATUS: Readonly<Record<ErrorCode, number>> = {
  VALIDATION_ERROR: 400,
  BAD_REQUEST: 400,
  AUTHENTICATION_ERROR: 401,
  AUTHORIZATION_ERROR: 403,
  SECURITY_VIOLATION: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMIT_EXCEEDED: 429,
  INTERNAL_ERROR: 500,
  DATABASE_ERROR: 500,
  ENCRYPTION_KEY_UNAVAILABLE: 500,
  EXTERNAL_SERVICE_ERROR: 503,
  SERVICE_UNAVAILABLE: 503,
  TIMEOUT: 504,
};

/** The one error envelope (src/platform/http/envelope.ts), narrowed to the codes a response may carry. */
export function errorEnvelopeSchema(codes: readonly ErrorCode[]): SchemaObject {
  return obj({
    error: obj(
      {
        code: { type: 'string', enum: [...codes] },
        message: { type: 'string', description: 'For people: may change between versions. Branch on `code`.' },
        requestId: { type: 'string', description: 'Also sent as the `x-request-id` header; quote it when reporting a problem.' },
        timestamp: dateTime,
        details: {
          type: 'array',
          description: 'VALIDATION_ERROR: every problem found, as a JSON pointer into the request and a message.',
          items: obj({ path: str, message: str }),
        },
        retryAfter: { type: 'integer', minimum: 1, description: 'RATE_LIMIT_EXCEEDED: seconds to wait (also the `Retry-After` header).' },
      },
      ['details', 'retryAfter'],
    ),
  });
}

/** Errors any request can meet on its way through the middleware (src/app.ts), whatever the route. */
export const EVERY_REQUEST: readonly ErrorCode[] = [
  'BAD_REQUEST',
  'VALIDATION_ERROR',
  'SECURITY_VIOLATION',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'INTERNAL_ERROR',
  'TIMEOUT',
];
/** A route that reads or writes the database. */
export const DATABASE: readonly ErrorCode[] = ['DATABASE_ERROR', 'SERVICE_UNAVAILABLE', 'TIMEOUT'];
