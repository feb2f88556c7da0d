import type { Queryable } from '../db/pool';
import { CALL_COLUMNS, type CallRow, type CallStatus, type Direction } from './model';

/**
 * Every query here takes the tenant id and filters on it: a call of another tenant is
 * indistinguishable from a call that does not exist.
 */
export interface ListFilter {
  status?: CallStatus;
  direction?: Direction;
  since?: string;
  until?: string;
  /** HMACs of the searched number under every known hash key. */
  phoneHashes?: Buffer[];
  resolved?: boolean;
  text?: string;
  cursor?: { createdAt: string; id: string };
  limit: number;
}

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export async function listCalls(q: Queryable, tenantId: string, f: ListFilter): Promise<{ rows: CallRow[]; more: boolean }> {
  const values: unknown[] = [tenantId];
  const where = ['tenant_id = $1'];
  const add = (sql: string, v: unknown) => {
    values.push(v);
    where.push(sql.replaceAll('?', `$${values.length}`));
  };
  if (f.status) add('status = ?', f.status);
  if (f.direction) add('direction = ?', f.direction);
  if (f.since) add('created_at >= ?::timestamptz', f.since);
  if (f.until) add('created_at <= ?::timestamptz', f.until);
  if (f.phoneHashes) add('(from_hash = ANY(?::bytea[]) OR to_hash = ANY(?::bytea[]))', f.phoneHashes);
  if (f.resolved !== undefined) add('resolved = ?', f.resolved);
  if (f.text) add(`notes ILIKE ? ESCAPE '\\'`, `%${likeEscape(f.text)}%`);
  if (f.cursor) {
    values.push(f.cursor.createdAt, f.cursor.id);
    where.push(`(created_at, id) < ($${values.length - 1}::timestamptz, $${values.length}::uuid)`);
  }
  values.push(f.limit + 1);
  const { rows } = await q.query<CallRow & Record<string, unknown>>(
    `SELECT ${CALL_COLUMNS} FROM calls WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT $${values.length}`,
    values,
  );
  return { rows: rows.slice(0, f.limit), more: rows.length > f.limit };
}

export async function getCall(q: Queryable, tenantId: string, id: string, lock = false): Promise<CallRow | null> {
  const { rows } = await q.query<CallRow & Record<string, unknown>>(`SELECT ${CALL_COLUMNS} FROM calls WHERE tenant_id = $1 AND id = $2${lock ? ' FOR UPDATE' : ''}`, [tenantId, id]);
  return rows[0] ?? null;
}

export interface CallPatch {
  notes?: string;
  tags?: string[];
  resolved?: boolean;
}

export async function updateCall(q: Queryable, tenantId: string, id: string, p: CallPatch): Promise<CallRow | null> {
  const { rows } = await q.query<CallRow & Record<string, unknown>>(
    `UPDATE calls SET notes = COALESCE($3, notes), tags = COALESCE($4::text[], tags), resolved = COALESCE($5, resolved), updated_at = now()
      WHERE tenant_id = $1 AND id = $2 RETURNING ${CALL_COLUMNS}`,
    [tenantId, id, p.notes ?? null, p.tags ?? null, p.resolved ?? null],
  );
  return rows[0] ?? null;
}

export async function deleteCall(q: Queryable, tenantId: string, id: string): Promise<{ recording_path: string | null } | null> {
  const { rows } = await q.query<{ recording_path: string | null }>('DELETE FROM calls WHERE tenant_id = $1 AND id = $2 RETURNING recording_path', [tenantId, id]);
  return rows[0] ?? null;
}
