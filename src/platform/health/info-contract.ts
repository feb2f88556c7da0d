import { declare } from '../api/declaration';
import { DATABASE, int, json, nullable, obj, str } from '../api/schemas';

const TAG = 'Service';

export const pingRoute = declare({
  method: 'GET',
  path: '/api/ping',
  tag: TAG,
  summary: 'Reachability check',
  security: [],
  limiters: ['api'],
  responses: {
    200: {
      description: 'Reachable',
      content: json(obj({ ok: { const: true }, ts: { ...int, description: 'Server time, ms since the epoch.' } }), { ok: true, ts: 1796376000000 }),
    },
  },
  errors: [],
});

export const infoRoute = declare({
  method: 'GET',
  path: '/api/info',
  tag: TAG,
  summary: 'Version and installation id',
  security: [],
  limiters: ['api'],
  responses: {
    200: {
      description: 'About this installation',
      content: json(obj({ version: str, installationId: nullable(str) }), { version: '0.1.0', installationId: '3f0c…' }),
    },
  },
  errors: [...DATABASE],
});

export const INFO_ROUTES = [pingRoute, infoRoute];
