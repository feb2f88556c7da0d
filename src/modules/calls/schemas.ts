import type { JSONSchemaType } from 'ajv';
import { decodeCursor } from '../../platform/api/cursor';
import { schemas } from '../../platform/validation';
import { CALL_STATUSES, DIRECTIONS, type CallStatus, type Direction } from './model';

export interface CallIdParams {
  id: string;
}
export const callIdParams: JSONSchemaType<CallIdParams> = { type: 'object', properties: { id: schemas.uuid }, required: ['id'] };

export interface ListCallsQuery {
  status?: CallStatus;
  direction?: Direction;
  since?: string;
  until?: string;
  phone?: string;
  resolved?: boolean;
  q?: string;
  cursor?: string;
  limit: number;
}
export const listCallsQuery = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: [...CALL_STATUSES] },
    direction: { type: 'string', enum: [...DIRECTIONS] },
    since: { type: 'string', format: 'date-time' },
    until: { type: 'string', format: 'date-time' },
    phone: schemas.phone,
    resolved: { type: 'boolean' },
    q: { type: 'string', trim: true, minLength: 1, maxLength: 200 },
    cursor: schemas.cursor,
    limit: schemas.limit,
  },
  required: ['limit'],
} as unknown as JSONSchemaType<ListCallsQuery>;

export interface PatchCallBody {
  notes?: string;
  tags?: string[];
  resolved?: boolean;
}
export const patchCallBody = {
  type: 'object',
  minProperties: 1,
  properties: {
    notes: { type: 'string', maxLength: 10000 },
    tags: { type: 'array', maxItems: 20, uniqueItems: true, items: { type: 'string', trim: true, minLength: 1, maxLength: 50, format: 'noSpecialChars' } },
    resolved: { type: 'boolean' },
  },
} as unknown as JSONSchemaType<PatchCallBody>;

/** Cursor: the last row's (created_at at full precision, id). */
export function decodeCallCursor(s: string): { createdAt: string; id: string } | undefined {
  return decodeCursor(s, (at, id) => {
    if (typeof at !== 'string' || !/^\d{4}-\d\d-\d\d[ T][\d:.]+([+-]\d\d(:\d\d)?|Z)$/.test(at)) return undefined;
    if (typeof id !== 'string' || !/^[0-9a-f-]{36}$/.test(id)) return undefined;
    return { createdAt: at, id };
  });
}
