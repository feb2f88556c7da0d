import { declare } from '../../../platform/api/declaration';
import { DATABASE, int, json, obj, str, uuid } from '../../../platform/api/schemas';
import { callIdParams, type CallIdParams } from '../schemas';

const TAG = 'Recordings';

export const uploadRecordingRoute = declare<{ params: CallIdParams }>({
  method: 'POST',
  path: '/api/calls/:id/recording',
  tag: TAG,
  summary: "Upload a call's recording (replaces an earlier one)",
  description: 'multipart/form-data with one part named `file`: WAV, MP3, OGG or FLAC, recognised by its content, up to RECORDING_MAX_BYTES.',
  security: ['bearer'],
  limiters: ['api', 'upload'],
  input: { params: callIdParams },
  body: {
    required: true,
    content: {
      'multipart/form-data': {
        schema: { type: 'object', required: ['file'], properties: { file: { type: 'string', contentMediaType: 'application/octet-stream' } } },
      },
    },
  },
  responses: {
    201: {
      description: 'Stored',
      content: json(obj({ callId: uuid, recording: obj({ mimeType: str, bytes: int }) }), {
        callId: '7d4f2c1a-0b9e-4e8f-8a3d-2c6b1f0e9a55',
        recording: { mimeType: 'audio/wav', bytes: 48044 },
      }),
    },
  },
  errors: ['AUTHENTICATION_ERROR', 'AUTHORIZATION_ERROR', 'NOT_FOUND', 'RATE_LIMIT_EXCEEDED', ...DATABASE],
});

export const downloadRecordingRoute = declare<{ params: CallIdParams }>({
  method: 'GET',
  path: '/api/calls/:id/recording',
  tag: TAG,
  summary: "Download a call's uploaded recording",
  security: ['bearer'],
  limiters: ['api'],
  input: { params: callIdParams },
  responses: {
    200: {
      description: 'The audio file, as an attachment',
      content: { 'audio/*': { schema: { type: 'string', contentMediaType: 'audio/*' } }, 'application/octet-stream': { schema: { type: 'string' } } },
      headers: { 'Content-Disposition': { description: '`attachment; filename="<call id>.<ext>"`', schema: { type: 'string' } } },
    },
  },
  errors: ['AUTHENTICATION_ERROR', 'AUTHORIZATION_ERROR', 'NOT_FOUND', ...DATABASE],
});

export const RECORDING_ROUTES = [uploadRecordingRoute, downloadRecordingRoute];
