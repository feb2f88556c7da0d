import type { Keyring } from '../../platform/crypto/encryption';
import type { Queryable } from '../../platform/db/pool';
import { hashWebhookCredential, newWebhookCredential } from './credentials';
import type { Sector } from './sectors';

/** AAD binding an encrypted tenant secret to its tenant and column: a ciphertext copied elsewhere fails to decrypt. */
export const tenantSecretAad = (tenantId: string, column: 'exotel_api_key' | 'exotel_api_token') => `tenants.${column}:${tenantId}`;

export interface NewTenant {
  name: string;
  sector: Sector;
  exophones: readonly string[];
  exotel?: { accountSid?: string; apiKey?: string; apiToken?: string };
  webhookIpAllowlist?: readonly string[];
  passthruResponse?: 200 | 302;
}

export async function insertTenant(q: Queryable, keyring: Keyring, t: NewTenant): Promise<{ id: string; webhookCredential: string }> {
  const credential = newWebhookCredential();
  const { rows } = await q.query<{ id: string }>(
    `INSERT INTO tenants (name, sector, exotel_account_sid, webhook_credential_hash, webhook_ip_allowlist, passthru_response)
     VALUES ($1, $2, $3, $4, $5::cidr[], $6) RETURNING id`,
    [
      t.name,
      t.sector,
      t.exotel?.accountSid ?? null,
      hashWebhookCredential(credential),
      t.webhookIpAllowlist?.length ? t.webhookIpAllowlist : null,
      t.passthruResponse ?? 200,
    ],
  );
  const id = rows[0]!.id;
  // Encrypted after the insert: the AAD names the tenant id, which the database generated.
  if (t.exotel?.apiKey || t.exotel?.apiToken) {
    await q.query('UPDATE tenants SET exotel_api_key_enc = $2, exotel_api_token_enc = $3 WHERE id = $1', [
      id,
      t.exotel.apiKey ? keyring.encrypt(t.exotel.apiKey, tenantSecretAad(id, 'exotel_api_key')) : null,
      t.exotel.apiToken ? keyring.encrypt(t.exotel.apiToken, tenantSecretAad(id, 'exotel_api_token')) : null,
    ]);
  }
  for (const number of t.exophones) await q.query('INSERT INTO tenant_exophones (number, tenant_id) VALUES ($1, $2)', [number, id]);
  return { id, webhookCredential: credential };
}

/** Issues a new webhook credential; the old one stops working at once. Returns null for an unknown tenant. */
export async function rotateWebhookCredential(q: Queryable, tenantId: string): Promise<string | null> {
  const credential = newWebhookCredential();
  const res = await q.query('UPDATE tenants SET webhook_credential_hash = $2, webhook_credential_set_at = now(), updated_at = now() WHERE id = $1', [
    tenantId,
    hashWebhookCredential(credential),
  ]);
  return res.rowCount === 1 ? credential : null;
}

export interface TenantProfile {
  id: string;
  name: string;
  sector: Sector;
  exophones: string[];
  passthru_response: 200 | 302;
  webhook_credential_set_at: Date;
  webhook_ip_allowlist: string[] | null;
  exotel_account_sid: string | null;
  exotel_api_key_enc: string | null;
  exotel_api_token_enc: string | null;
}

export async function loadTenantProfile(q: Queryable, tenantId: string): Promise<TenantProfile | null> {
  const { rows } = await q.query<TenantProfile & Record<string, unknown>>(
    `SELECT t.id, t.name, t.sector, t.passthru_response, t.webhook_credential_set_at, t.webhook_ip_allowlist::text[] AS webhook_ip_allowlist,
            t.exotel_account_sid, t.exotel_api_key_enc, t.exotel_api_token_enc,
            COALESCE((SELECT array_agg(e.number ORDER BY e.number) FROM tenant_exophones e WHERE e.tenant_id = t.id), '{}') AS exophones
       FROM tenants t WHERE t.id = $1`,
    [tenantId],
  );
  return rows[0] ?? null;
}

/** The tenant a webhook credential digest belongs to (active tenants only). */
export async function tenantByCredential(
  q: Queryable,
  digest: Buffer,
): Promise<{ id: string; hash: Buffer; allowlist: string[] | null; passthruResponse: 200 | 302 } | null> {
  const { rows } = await q.query<{ id: string; webhook_credential_hash: Buffer; allowlist: string[] | null; passthru_response: 200 | 302 }>(
    `SELECT id, webhook_credential_hash, webhook_ip_allowlist::text[] AS allowlist, passthru_response FROM tenants WHERE webhook_credential_hash = $1 AND active`,
    [digest],
  );
  const r = rows[0];
  return r ? { id: r.id, hash: r.webhook_credential_hash, allowlist: r.allowlist, passthruResponse: r.passthru_response } : null;
}
