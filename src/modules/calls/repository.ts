import { Conditions } from '../../platform/db/conditions';
import type { Queryable } from '../../platform/db/pool';
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
  const c = new Conditions().add('tenant_id = ?', tenantId); // tenant isolation: always the first condition
  if (f.status) c.add('status = ?', f.status);
  if (f.direction) c.add('direction = ?', f.direction);
  if (f.since) c.add('created_at >= ?::timestamptz', f.since);
  if (f.until) c.add('created_at <= ?::timestamptz', f.until);
  if (f.phoneHashes) c.add('(from_hash = ANY(?::bytea[]) OR to_hash = ANY(?::bytea[]))', f.phoneHashes);
  if (f.resolved !== undefined) c.add('resolved = ?', f.resolved);
  if (f.text) c.add(`notes ILIKE ? ESCAPE '\\'`, `%${likeEscape(f.text)}%`);
  if (f.cursor) c.where(`(created_at, id) < (${c.param(f.cursor.createdAt)}::timestamptz, ${c.param(f.cursor.id)}::uuid)`);
  const { rows } = await q.query<CallRow & Record<string, unknown>>(
    `SELECT ${CALL_COLUMNS} FROM calls ${c.toSql()} ORDER BY created_at DESC, id DESC LIMIT ${c.param(f.limit + 1)}`,
    c.values,
  );
  return { rows: rows.slice(0, f.limit), more: rows.length > f.limit };
}

export async function getCall(q: Queryable, tenantId: string, id: string, lock = false): Promise<CallRow | null> {
  const { rows } = await q.query<CallRow & Record<string, unknown>>(
    `SELECT ${CALL_COLUMNS} FROM calls WHERE tenant_id = $1 AND id = $2${lock ? ' FOR UPDATE' : ''}`,
    [tenantId, id],
  );
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
  const { rows } = await q.query<{ recording_path: string | null }>('DELETE FROM calls WHERE tenant_id = $1 AND id = $2 RETURNING recording_path', [
    tenantId,
    id,
  ]);
  return rows[0] ?? null;
}

/** The tenant that owns a call id, whoever asks: only to audit probes of other tenants' ids. */
export async function callOwner(q: Queryable, id: string): Promise<string | null> {
  const { rows } = await q.query<{ tenant_id: string }>('SELECT tenant_id FROM calls WHERE id = $1', [id]);
  return rows[0]?.tenant_id ?? null;
}
