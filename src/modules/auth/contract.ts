import { declare } from '../../platform/api/declaration';
import { DATABASE, arrayOf, dateTime, int, json, nullable, obj, str, uuid } from '../../platform/api/schemas';
import { loginBody, passwordBody, refreshBody, type LoginBody, type PasswordBody, type RefreshBody } from './schemas';

const TAG = 'Auth';
const role = { type: 'string', enum: ['owner', 'admin', 'agent', 'viewer'] };

const tokenPair = obj({
  accessToken: { type: 'string', description: 'Send as `Authorization: Bearer <accessToken>`.' },
  tokenType: { const: 'Bearer' },
  expiresIn: { type: 'integer', description: 'Seconds until the access token expires.' },
  refreshToken: { type: 'string', description: 'Single use: each refresh returns a new one. Keep it out of script-readable storage.' },
  refreshTokenExpiresAt: dateTime,
  user: obj({ id: uuid, email: str, role, tenantId: uuid }),
});
const tokenExample = {
  accessToken: 'eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9…',
  tokenType: 'Bearer',
  expiresIn: 900,
  refreshToken: 'rt_…',
  refreshTokenExpiresAt: '2026-12-31T10:00:00.000Z',
  user: { id: '6f1c2b1e-8d7a-4c1e-9a51-3c2f0e6d9b10', email: 'owner@example.com', role: 'owner', tenantId: '0b6c3a1e-2f4d-4e55-8a0b-9d1e7c3f5a22' },
};

export const loginRoute = declare<{ body: LoginBody }>({
  method: 'POST',
  path: '/api/auth/login',
  tag: TAG,
  summary: 'Log in with email and password',
  description: 'Answers an access token and a refresh token. A wrong email and a wrong password get the same answer, in the same time.',
  security: [],
  limiters: ['api', 'login'],
  input: { body: loginBody },
  responses: { 200: { description: 'Logged in', content: json(tokenPair, tokenExample) } },
  errors: ['AUTHENTICATION_ERROR', 'RATE_LIMIT_EXCEEDED', ...DATABASE],
});

export const refreshRoute = declare<{ body: RefreshBody }>({
  method: 'POST',
  path: '/api/auth/refresh',
  tag: TAG,
  summary: 'Trade a refresh token for a new token pair',
  description: 'Rotation with reuse detection: presenting an already-used refresh token revokes the whole session.',
  security: [],
  limiters: ['api'],
  input: { body: refreshBody },
  responses: { 200: { description: 'A new token pair', content: json(tokenPair, tokenExample) } },
  errors: ['AUTHENTICATION_ERROR', ...DATABASE],
});

export const logoutRoute = declare({
  method: 'POST',
  path: '/api/auth/logout',
  tag: TAG,
  summary: 'End this session (its refresh tokens are revoked)',
  security: ['bearer'],
  limiters: ['api'],
  responses: { 204: { description: 'Logged out' } },
  errors: ['AUTHENTICATION_ERROR', ...DATABASE],
});

const masked = nullable({ type: 'string', description: 'Masked: only the last characters are shown.' });

export const meRoute = declare({
  method: 'GET',
  path: '/api/auth/me',
  tag: TAG,
  summary: 'The caller and their tenant',
  security: ['bearer'],
  limiters: ['api'],
  responses: {
    200: {
      description: 'The signed-in user and their tenant profile',
      content: json(
        obj({
          user: obj({ id: uuid, email: str, role }),
          tenant: obj({
            id: uuid,
            name: str,
            sector: str,
            exophones: arrayOf(str),
            passthruResponse: { type: 'integer', enum: [200, 302] },
            webhookCredentialSetAt: dateTime,
            webhookIpAllowlist: nullable(arrayOf(str)),
            exotel: obj({ accountSid: nullable(str), apiKey: masked, apiToken: masked }),
          }),
        }),
      ),
    },
  },
  errors: ['AUTHENTICATION_ERROR', 'ENCRYPTION_KEY_UNAVAILABLE', ...DATABASE],
});

export const passwordRoute = declare<{ body: PasswordBody }>({
  method: 'POST',
  path: '/api/auth/password',
  tag: TAG,
  summary: 'Change the password (other sessions are revoked)',
  security: ['bearer'],
  limiters: ['api', 'login'],
  input: { body: passwordBody },
  responses: { 200: { description: 'Changed', content: json(obj({ revokedSessions: int }), { revokedSessions: 1 }) } },
  errors: ['AUTHENTICATION_ERROR', 'RATE_LIMIT_EXCEEDED', ...DATABASE],
});

export const AUTH_ROUTES = [loginRoute, refreshRoute, logoutRoute, meRoute, passwordRoute];
