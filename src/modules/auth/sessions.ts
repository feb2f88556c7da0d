import { randomUUID } from 'node:crypto';
import type { Database, Queryable } from '../../platform/db/pool';
import { hashToken, newRefreshToken } from './tokens';

/**
 * Login sessions as families of rotating refresh tokens. Every refresh replaces the presented
 * token with a new one in the same family; a token that was already replaced coming back means
 * two parties hold the family (one of them stole it), so the whole family is revoked.
 */
export type RevokeReason = 'rotated' | 'reuse' | 'logout' | 'password_change' | 'user_disabled';

export interface IssuedRefresh {
  token: string;
  sessionId: string;
  expiresAt: Date;
}

export type RotateResult =
  | { kind: 'rotated'; userId: string; issued: IssuedRefresh }
  /** A revoked token came back; `revokedReason` says why it was revoked, which decides how alarming that is. */
  | { kind: 'reuse'; userId: string; tenantId: string; sessionId: string; revokedReason: RevokeReason }
  | { kind: 'invalid' };

async function insertToken(q: Queryable, userId: string, familyId: string, ttlSeconds: number): Promise<{ id: string; issued: IssuedRefresh }> {
  const token = newRefreshToken();
  const { rows } = await q.query<{ id: string; expires_at: Date }>(
    `INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)
     VALUES ($1, $2, $3, now() + make_interval(secs => $4)) RETURNING id, expires_at`,
    [userId, familyId, hashToken(token), ttlSeconds],
  );
  const row = rows[0]!;
  return { id: row.id, issued: { token, sessionId: familyId, expiresAt: row.expires_at } };
}

export async function startSession(q: Queryable, userId: string, ttlSeconds: number): Promise<IssuedRefresh> {
  return (await insertToken(q, userId, randomUUID(), ttlSeconds)).issued;
}

export async function rotateSession(db: Database, presented: string, ttlSeconds: number): Promise<RotateResult> {
  return db.transaction(async (tx) => {
    // FOR UPDATE: two concurrent refreshes with one token serialise here; the second one sees the
    // token revoked and is treated as reuse, which is the safe reading.
    const { rows } = await tx.query<{
      id: string;
      user_id: string;
      tenant_id: string;
      family_id: string;
      revoked_at: Date | null;
      revoked_reason: RevokeReason | null;
      expired: boolean;
      usable: boolean;
    }>(
      `SELECT r.id, r.user_id, u.tenant_id, r.family_id, r.revoked_at, r.revoked_reason, r.expires_at <= now() AS expired, (u.active AND t.active) AS usable
         FROM refresh_tokens r JOIN users u ON u.id = r.user_id JOIN tenants t ON t.id = u.tenant_id
        WHERE r.token_hash = $1 FOR UPDATE OF r`,
      [hashToken(presented)],
    );
    const row = rows[0];
    if (!row) return { kind: 'invalid' } as const;
    if (row.revoked_at !== null) {
      // Only a token that was rotated away means two holders; after logout or a password change
      // the family is already revoked and there is nothing more to revoke.
      if (row.revoked_reason === 'rotated') await revokeFamily(tx, row.family_id, 'reuse');
      return { kind: 'reuse', userId: row.user_id, tenantId: row.tenant_id, sessionId: row.family_id, revokedReason: row.revoked_reason ?? 'rotated' } as const;
    }
    if (row.expired || !row.usable) return { kind: 'invalid' } as const;
    const next = await insertToken(tx, row.user_id, row.family_id, ttlSeconds);
    await tx.query(`UPDATE refresh_tokens SET revoked_at = now(), revoked_reason = 'rotated', replaced_by = $2 WHERE id = $1`, [row.id, next.id]);
    return { kind: 'rotated', userId: row.user_id, issued: next.issued } as const;
  });
}

export async function revokeFamily(q: Queryable, familyId: string, reason: RevokeReason): Promise<number> {
  const res = await q.query(`UPDATE refresh_tokens SET revoked_at = now(), revoked_reason = $2 WHERE family_id = $1 AND revoked_at IS NULL`, [
    familyId,
    reason,
  ]);
  return res.rowCount ?? 0;
}

/** Every session of a user except `keep` (password change keeps the session that made it). */
export async function revokeOtherSessions(q: Queryable, userId: string, keep: string | undefined, reason: RevokeReason): Promise<number> {
  const res = await q.query(
    `UPDATE refresh_tokens SET revoked_at = now(), revoked_reason = $3
      WHERE user_id = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR family_id <> $2::uuid)`,
    [userId, keep ?? null, reason],
  );
  return res.rowCount ?? 0;
}

/**
 * The live state of an access token's session, checked on every authenticated request so that
 * logout, password change and reuse detection take effect at once rather than at token expiry.
 * The role comes from the row, not the token: a demotion applies immediately too.
 */
export async function liveSession(q: Queryable, userId: string, sessionId: string): Promise<{ tenantId: string; role: string } | null> {
  const { rows } = await q.query<{ tenant_id: string; role: string }>(
    `SELECT u.tenant_id, u.role FROM users u JOIN tenants t ON t.id = u.tenant_id
      WHERE u.id = $1 AND u.active AND t.active
        AND EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.family_id = $2 AND r.user_id = u.id AND r.revoked_at IS NULL AND r.expires_at > now())`,
    [userId, sessionId],
  );
  const r = rows[0];
  return r ? { tenantId: r.tenant_id, role: r.role } : null;
}
