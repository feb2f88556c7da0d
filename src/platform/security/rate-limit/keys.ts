import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { type AppContext, callerTenant } from '../../context/state';

/**
 * Bucket keys. Each is namespaced (`ip:`, `t:`, `e:`, `c:`) so a tenant id can never collide with
 * an address. Emails and webhook credentials are hashed: store keys (Redis, MONITOR, dumps) must
 * not hold personal data or secrets.
 */

const digest = (s: string) => createHash('sha256').update(s).digest('base64url');

/** `  Foo@Example.COM ` and `foo@example.com` are one person: one bucket. */
export const normaliseEmail = (email: string): string => email.trim().toLowerCase();

/**
 * Login lockout bucket: one client address trying one account. Per email alone, six wrong
 * passwords from anywhere locked the real user out everywhere: lockout as a denial-of-service
 * tool. Per pair, a guesser locks out only itself; guessing one account from many addresses is
 * slowed by argon2 per attempt and the per-address bucket, and is visible in LOGIN_FAILURE events
 * (which name the user and tenant and are never throttled).
 */
export const addressEmailKey = (ctx: AppContext, email: string): string => `p:${digest(`${ipKey(ctx)}|${normaliseEmail(email)}`)}`;

export const credentialKey = (credential: string): string => `c:${digest(credential)}`;

export const tenantKey = (tenantId: string): string => `t:${tenantId}`;

/**
 * The client address as a bucket. `ctx.ip` honours X-Forwarded-For only when app.proxy
 * (TRUST_PROXY) is on. IPv4-mapped IPv6 is folded to IPv4, and IPv6 is bucketed per /64: one
 * subscriber usually holds a whole /64, so per-address buckets would let it rotate freely.
 */
export function ipKey(ctx: AppContext): string {
  let ip = ctx.ip || 'unknown';
  if (ip.startsWith('::ffff:') && ip.includes('.')) ip = ip.slice(7);
  // An IPv4 address has no colon: skip net.isIPv6's long pattern for it (it ran on every request).
  else if (ip.includes(':') && isIPv6(ip)) ip = `${ipv6Prefix64(ip)}::/64`;
  return `ip:${ip}`;
}

/** The first four hextets of an IPv6 address, expanded (`2001:db8::1` → `2001:db8:0:0`). */
export function ipv6Prefix64(ip: string): string {
  const bare = ip.split('%')[0]!; // drop a zone id
  const [head = '', tail] = bare.split('::');
  const headParts = head ? head.split(':') : [];
  const tailParts = tail ? tail.split(':') : [];
  const missing = 8 - headParts.length - tailParts.length;
  const parts = tail === undefined ? headParts : [...headParts, ...Array<string>(Math.max(0, missing)).fill('0'), ...tailParts];
  return parts
    .slice(0, 4)
    .map((h) => (h.replace(/^0+(?=.)/, '') || '0').toLowerCase())
    .join(':');
}

/** API budget: per tenant once authentication has set one, else per client address. */
export const tenantOrIpKey = (ctx: AppContext): string => {
  const tenantId = callerTenant(ctx.state);
  return tenantId ? tenantKey(tenantId) : ipKey(ctx);
};
