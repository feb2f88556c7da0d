import type { SchemaObject } from 'ajv';
import { declare, type MediaDoc } from '../../platform/api/declaration';
import { DATABASE, json, obj } from '../../platform/api/schemas';

/*
 * Exotel's webhooks as Exotel sends them (docs/domain.md). The handlers read these payloads
 * leniently (payload.ts), so the schemas here document rather than validate: unknown fields are
 * allowed, and only CallSid is required.
 */

const TAG = 'Exotel webhooks';
const s = (description: string): SchemaObject => ({ type: 'string', description });

const credential: SchemaObject = {
  type: 'object',
  properties: {
    credential: s(
      'The tenant webhook credential printed by `npm run tenant:create` (or `tenant:rotate-webhook`). It is the only authentication Exotel can carry.',
    ),
  },
  required: ['credential'],
};

const passthruFields: Record<string, SchemaObject> = {
  CallSid: s('Exotel call id (required).'),
  From: s('Caller (older applet revisions).'),
  To: s('The ExoPhone called (older applet revisions).'),
  CallFrom: s('Caller (current applet).'),
  CallTo: s('The ExoPhone called (current applet).'),
  Direction: s('`incoming`, `inbound`, `outbound-dial` …'),
  CallType: s('`call-attempt`, `completed`, `client-hangup`, `incomplete`, `voicemail`.'),
  CallStatus: s('Connect applet family: `queued`, `ringing`, `in-progress`, `completed` …'),
  StartTime: s('`YYYY-MM-DD HH:mm:ss`, Indian Standard Time.'),
  CurrentTime: s('`YYYY-MM-DD HH:mm:ss`.'),
  DialCallDuration: s('Seconds.'),
  digits: s('Digits gathered earlier, wrapped in double quotes by Exotel: `"3"`.'),
  RecordingUrl: s('After a Connect, Voicemail or Greeting applet.'),
  flow_id: s('AgentStream passthru.'),
  'Stream[StreamUrl]': s('AgentStream: `wss://` URL (bracketed keys, or one JSON string in `Stream`).'),
};

const passthruQuery: SchemaObject = { type: 'object', additionalProperties: true, required: ['CallSid'], properties: passthruFields };

const passthruExample = {
  CallSid: 'b6a4c1d2e3f40a9b8c7d6e5f4a3b2c1d',
  CallFrom: '09876543210',
  CallTo: '08012345678',
  Direction: 'incoming',
  CallType: 'call-attempt',
  StartTime: '2026-12-01 15:30:00',
  digits: '"3"',
};

const statusFields: Record<string, SchemaObject> = {
  CallSid: s('Exotel call id (required).'),
  Status: s('`completed`, `failed`, `busy` or `no-answer`.'),
  DateUpdated: s('`YYYY-MM-DD HH:mm:ss`.'),
  RecordingUrl: { type: ['string', 'null'], description: 'Empty or null without a recording.' },
  EventType: s('`terminal` or `answered` (with StatusCallbackEvents).'),
  From: s('The number called first.'),
  To: s('The customer number.'),
  PhoneNumberSid: s('The ExoPhone.'),
  Direction: s('`inbound`, `outbound-dial`, `outbound-api`.'),
  StartTime: s('`YYYY-MM-DD HH:mm:ss`.'),
  EndTime: s('`YYYY-MM-DD HH:mm:ss`.'),
  ConversationDuration: { type: ['string', 'integer'], description: 'Seconds both parties were connected.' },
  CustomField: s('Echoed from the call request.'),
  Legs: { type: ['array', 'string'], description: 'One entry per leg attempt (`OnCallDuration`, `Status`, `AnsweredBy`); a JSON string in form encodings.' },
};
const statusSchema: SchemaObject = { type: 'object', additionalProperties: true, required: ['CallSid'], properties: statusFields };
const statusJson = {
  CallSid: 'b6a4c1d2e3f40a9b8c7d6e5f4a3b2c1d',
  Status: 'completed',
  DateUpdated: '2026-12-01 15:33:12',
  RecordingUrl: 'https://recordings.exotel.com/exotelrecordings/acme/b6a4c1d2.mp3',
  EventType: 'terminal',
  From: '09876543210',
  To: '08012345678',
  Direction: 'inbound',
  StartTime: '2026-12-01 15:30:00',
  EndTime: '2026-12-01 15:33:12',
  ConversationDuration: 180,
  Legs: [{ OnCallDuration: 180, Status: 'completed', AnsweredBy: 'HUMAN' }],
};
const statusForm = { ...statusJson, ConversationDuration: '180', Legs: JSON.stringify(statusJson.Legs) };
const ex = (summary: string, value: unknown): MediaDoc['examples'] => ({ example: { summary, value } });

const errors = ['AUTHENTICATION_ERROR', 'AUTHORIZATION_ERROR', 'NOT_FOUND', 'RATE_LIMIT_EXCEEDED', ...DATABASE] as const;
const branch = {
  200: {
    description: "Recorded; choice A of the sync Passthru applet (the tenant's passthru response is 200)",
    content: { 'text/plain': { schema: { const: 'OK' } } },
  },
  302: {
    description: "Recorded; choice B of the sync Passthru applet (the tenant's passthru response is 302)",
    content: { 'text/plain': { schema: { const: 'OK' } } },
  },
};
const passthruDescription =
  'Exotel sends the Passthru applet as a **GET with URL-encoded query parameters** and no body. The answer picks the next applet in a sync Passthru: 200 is choice A, 302 choice B (set per tenant). A retry of the same notification is recognised and not counted twice.\n\n' +
  'Example: `GET /webhooks/exotel/<credential>/passthru?CallSid=b6a4c1d2e3f40a9b8c7d6e5f4a3b2c1d&CallFrom=09876543210&CallTo=08012345678&Direction=incoming&digits=%223%22`';

export const passthruGetRoute = declare({
  method: 'GET',
  path: '/webhooks/exotel/:credential/passthru',
  tag: TAG,
  summary: 'Passthru applet (GET query, as Exotel sends it)',
  description: passthruDescription,
  security: ['webhookCredential'],
  limiters: ['webhook'],
  params: credential,
  query: passthruQuery,
  responses: branch,
  errors: [...errors, 'VALIDATION_ERROR'],
});

export const passthruPostRoute = declare({
  method: 'POST',
  path: '/webhooks/exotel/:credential/passthru',
  tag: TAG,
  summary: 'Passthru applet, posted (form or JSON body, merged over the query)',
  description: 'Accepted for integrations that forward the Passthru call as a POST; Exotel itself sends GET.',
  security: ['webhookCredential'],
  limiters: ['webhook'],
  params: credential,
  query: passthruQuery,
  body: {
    required: false,
    content: {
      'application/x-www-form-urlencoded': { schema: passthruQuery, examples: ex('Form', passthruExample) },
      'application/json': { schema: passthruQuery, examples: ex('JSON', passthruExample) },
    },
  },
  responses: branch,
  errors: [...errors, 'VALIDATION_ERROR'],
});

export const statusCallbackRoute = declare({
  method: 'POST',
  path: '/webhooks/exotel/:credential/status',
  tag: TAG,
  summary: 'StatusCallback: the call reached a terminal state',
  description:
    'Exotel posts the StatusCallback as JSON (`StatusCallbackContentType=application/json`), URL-encoded form or multipart form; all three are read the same way. Answer within 15 s: Exotel retries a missing or non-2xx answer up to twice, and a retry is recognised and not counted twice.',
  security: ['webhookCredential'],
  limiters: ['webhook'],
  params: credential,
  body: {
    required: true,
    content: {
      'application/json': { schema: statusSchema, examples: ex('JSON (Legs as an array)', statusJson) },
      'application/x-www-form-urlencoded': { schema: statusSchema, examples: ex('Form (Legs as a JSON string)', statusForm) },
      'multipart/form-data': { schema: statusSchema, examples: ex('Multipart form', statusForm) },
    },
  },
  responses: { 200: { description: 'Recorded', content: json(obj({ received: { const: true } }), { received: true }) } },
  errors: [...errors, 'VALIDATION_ERROR'],
});

export const EXOTEL_ROUTES = [passthruGetRoute, passthruPostRoute, statusCallbackRoute];
