import { declare } from '../../platform/api/declaration';
import { DATABASE, anyObject, arrayOf, bool, dateTime, int, json, nullable, obj, str, uuid } from '../../platform/api/schemas';
import { CALL_STATUSES, DIRECTIONS } from './model';
import { callIdParams, listCallsQuery, patchCallBody, type CallIdParams, type ListCallsQuery, type PatchCallBody } from './schemas';

const TAG = 'Calls';

/** src/modules/calls/view.ts: the API shape of a call. */
export const callSchema = obj({
  id: uuid,
  callSid: str,
  direction: { enum: [...DIRECTIONS, null] },
  status: { type: 'string', enum: [...CALL_STATUSES] },
  from: nullable({ type: 'string', description: 'E.164' }),
  to: nullable({ type: 'string', description: 'E.164' }),
  exophone: nullable(str),
  startedAt: nullable(dateTime),
  endedAt: nullable(dateTime),
  durationSeconds: nullable(int),
  resolved: bool,
  notes: str,
  tags: arrayOf(str),
  recording: obj({
    exotel: { type: 'boolean', description: 'Exotel reported a recording (its URL is kept encrypted and never returned).' },
    stream: { type: 'boolean', description: 'Exotel reported stream URLs (kept encrypted and never returned).' },
    uploaded: nullable(obj({ mimeType: nullable(str), bytes: int })),
  }),
  exotel: { ...anyObject, description: 'Exotel fields kept as received (bounded), for support.' },
  createdAt: dateTime,
  updatedAt: dateTime,
});

const callExample = {
  id: '7d4f2c1a-0b9e-4e8f-8a3d-2c6b1f0e9a55',
  callSid: 'b6a4c1d2e3f40a9b8c7d6e5f4a3b2c1d',
  direction: 'inbound',
  status: 'completed',
  from: '+919876543210',
  to: '+918012345678',
  exophone: '+918012345678',
  startedAt: '2026-12-01T10:00:00.000Z',
  endedAt: '2026-12-01T10:03:12.000Z',
  durationSeconds: 192,
  resolved: false,
  notes: '',
  tags: [],
  recording: { exotel: true, stream: false, uploaded: null },
  exotel: { CallType: 'completed' },
  createdAt: '2026-12-01T10:00:00.120Z',
  updatedAt: '2026-12-01T10:03:12.400Z',
};

const READ = ['AUTHENTICATION_ERROR', 'AUTHORIZATION_ERROR', 'ENCRYPTION_KEY_UNAVAILABLE', ...DATABASE] as const;

export const listCallsRoute = declare<{ query: ListCallsQuery }>({
  method: 'GET',
  path: '/api/calls',
  tag: TAG,
  summary: "List the tenant's calls, newest first",
  description: 'Filters combine with AND. Page with the `nextCursor` of the previous answer.',
  security: ['bearer'],
  limiters: ['api'],
  input: { query: listCallsQuery },
  responses: {
    200: {
      description: 'A page of calls',
      content: json(obj({ data: arrayOf(callSchema), nextCursor: nullable(str) }), { data: [callExample], nextCursor: null }),
    },
  },
  errors: READ,
});

export const getCallRoute = declare<{ params: CallIdParams }>({
  method: 'GET',
  path: '/api/calls/:id',
  tag: TAG,
  summary: 'One call',
  description: "Another tenant's call is a 404, exactly like a missing one.",
  security: ['bearer'],
  limiters: ['api'],
  input: { params: callIdParams },
  responses: { 200: { description: 'The call', content: json(callSchema, callExample) } },
  errors: [...READ, 'NOT_FOUND'],
});

export const patchCallRoute = declare<{ params: CallIdParams; body: PatchCallBody }>({
  method: 'PATCH',
  path: '/api/calls/:id',
  tag: TAG,
  summary: 'Update notes, tags or the resolved flag',
  security: ['bearer'],
  limiters: ['api'],
  input: { params: callIdParams, body: patchCallBody },
  responses: { 200: { description: 'The updated call', content: json(callSchema, { ...callExample, resolved: true, tags: ['refund'] }) } },
  errors: [...READ, 'NOT_FOUND'],
});

export const deleteCallRoute = declare<{ params: CallIdParams }>({
  method: 'DELETE',
  path: '/api/calls/:id',
  tag: TAG,
  summary: 'Delete a call and its uploaded recording',
  security: ['bearer'],
  limiters: ['api'],
  input: { params: callIdParams },
  responses: { 204: { description: 'Deleted' } },
  errors: ['AUTHENTICATION_ERROR', 'AUTHORIZATION_ERROR', 'NOT_FOUND', ...DATABASE],
});

export const CALL_ROUTES = [listCallsRoute, getCallRoute, patchCallRoute, deleteCallRoute];
