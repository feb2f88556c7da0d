import { randomBytes } from 'node:crypto';
import type * as Jose from 'jose' with { 'resolution-mode': 'import' };
import { secretDigest } from '../../platform/crypto/secret-digest';
import { isRole, type Role } from '../tenants';

/**
 * Access tokens: HS256 JWTs (jose), 15 minutes by default, claims sub (user), tid (tenant), role,
 * sid (session = refresh-token family). The signing key is derived from ENCRYPTION_KEY with HKDF
 * (crypto/keys.ts), so there is no extra secret to provision; during a key rotation tokens signed
 * under the previous key still verify until they expire.
 *
 * Refresh tokens: 32 random bytes, base64url, opaque. Only their SHA-256 is stored: a stolen
 * database yields no usable token, and a hash of 256 random bits needs no salt or slow KDF.
 */
export interface AccessClaims {
  userId: string;
  tenantId: string;
  role: Role;
  sessionId: string;
}

const ISSUER = 'caly-api';
const AUDIENCE = 'caly-api';

export interface AccessTokens {
  sign(claims: AccessClaims): Promise<string>;
  /** The claims of a valid token, or null (bad signature, expired, wrong shape: all the same). */
  verify(token: string): Promise<AccessClaims | null>;
  readonly ttlSeconds: number;
}

let jose: Promise<typeof Jose> | undefined;
/**
 * jose is ESM-only; this CommonJS build loads it once with a dynamic import. Evaluating it blocks
 * the event loop for tens of milliseconds, so server.ts calls this before the event-loop monitor
 * starts (a startup blip would otherwise read as a degraded loop for the first minute).
 */
export const loadJose = (): Promise<typeof Jose> => (jose ??= import('jose') as Promise<typeof Jose>);

export async function createAccessTokens(keys: readonly Uint8Array[], ttlSeconds: number): Promise<AccessTokens> {
  const { errors, jwtVerify, SignJWT } = await loadJose();
  const [signingKey] = keys;
  if (!signingKey) throw new Error('no access-token key');
  return {
    ttlSeconds,
    sign: (c) =>
      new SignJWT({ tid: c.tenantId, role: c.role, sid: c.sessionId })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(c.userId)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(signingKey),
    async verify(token) {
      for (const key of keys) {
        try {
          const { payload } = await jwtVerify(token, key, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'], requiredClaims: ['exp', 'iat', 'sub'] });
          const { sub, tid, role, sid } = payload;
          if (typeof sub !== 'string' || typeof tid !== 'string' || typeof sid !== 'string' || !isRole(role)) return null;
          return { userId: sub, tenantId: tid, role, sessionId: sid };
        } catch (err) {
          // A token without `exp` never expires: refused (requiredClaims). Only a signature
          // mismatch is worth trying the next (older) key for.
          if (!(err instanceof errors.JWSSignatureVerificationFailed)) return null;
        }
      }
      return null;
    },
  };
}

export const newRefreshToken = (): string => randomBytes(32).toString('base64url');
/** Refresh tokens are stored, and looked up, by digest only. */
export const hashToken: (token: string) => Buffer = secretDigest;
/** Shape check before any lookup: 32 bytes base64url is exactly 43 characters. */
export const REFRESH_TOKEN_PATTERN = '^[A-Za-z0-9_-]{43}$';
