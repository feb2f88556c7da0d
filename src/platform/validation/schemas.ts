import type { JSONSchemaType } from 'ajv';

/**
 * Schema fragments for route authors. Each sanitises as it validates; compose them into route
 * schemas (`properties: { email, phone }`) and type the route with the matching TypeScript type.
 */

/** Trimmed, lower-cased, RFC 5321 lengths. */
export const email: JSONSchemaType<string> = { type: 'string', trim: true, lowercase: true, format: 'email', maxLength: 254 };

/** Any accepted spelling in, E.164 out (`09876543210` → `+919876543210`). */
export const phone: JSONSchemaType<string> = { type: 'string', normalizePhone: true, format: 'phone' };

/** Lower-cased so that ids compare equal whatever case the client used. */
export const uuid: JSONSchemaType<string> = { type: 'string', trim: true, lowercase: true, format: 'uuid' };

/** http(s) only, trimmed. */
export const httpUrl: JSONSchemaType<string> = { type: 'string', trim: true, format: 'url', maxLength: 2048 };

/** A person's or business's name, in any script. */
export const personName: JSONSchemaType<string> = { type: 'string', trim: true, format: 'noSpecialChars', minLength: 1, maxLength: 100 };

/** An opaque base64url pagination cursor, as the service hands them out. */
export const cursor: JSONSchemaType<string> = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,512}$' };

/** Page size 1..100, default 20 (filled in before `required` is checked, so it is always present). */
export const limit: JSONSchemaType<number> = { type: 'integer', minimum: 1, maximum: 100, default: 20 };

export interface Pagination {
  cursor?: string;
  limit: number;
}

/** Query schema of a paginated list: `?cursor=…&limit=…`. Extend its properties for filters. */
export const pagination: JSONSchemaType<Pagination> = {
  type: 'object',
  properties: { cursor: { ...cursor, nullable: true }, limit },
  required: ['limit'],
};
