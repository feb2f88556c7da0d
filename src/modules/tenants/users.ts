import type { Queryable } from '../../platform/db/pool';
import type { Role } from './roles';

export interface UserRow {
  id: string;
  tenant_id: string;
  email: string;
  password_hash: string;
  role: Role;
  /** user and tenant both active */
  usable: boolean;
}

async function findUser(q: Queryable, by: 'email' | 'id', value: string): Promise<UserRow | null> {
  const { rows } = await q.query<UserRow & Record<string, unknown>>(
    `SELECT u.id, u.tenant_id, u.email, u.password_hash, u.role, (u.active AND t.active) AS usable
       FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.${by} = $1`,
    [value],
  );
  return rows[0] ?? null;
}

export const findUserByEmail = (q: Queryable, email: string) => findUser(q, 'email', email);
export const findUserById = (q: Queryable, id: string) => findUser(q, 'id', id);

export async function insertUser(q: Queryable, u: { tenantId: string; email: string; passwordHash: string; role: Role }): Promise<string> {
  const { rows } = await q.query<{ id: string }>(`INSERT INTO users (tenant_id, email, password_hash, role) VALUES ($1, $2, $3, $4) RETURNING id`, [
    u.tenantId,
    u.email,
    u.passwordHash,
    u.role,
  ]);
  return rows[0]!.id;
}
