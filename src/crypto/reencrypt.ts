import { phoneAad, recordingUrlAad, streamUrlsAad, webhookRawAad } from '../calls/pii';
import { recordingKeyAad } from '../recordings/sealed';
import type { Queryable } from '../db/pool';
import { tenantSecretAad } from '../tenants/repository';
import type { ServiceKeys } from './keys';

/**
 * Every encrypted column, with the AAD its values were sealed with. A new encrypted column must be
 * listed here, or a key rotation would leave it readable only with the old key.
 */
interface EncryptedTable {
  table: 'tenants' | 'calls' | 'webhook_events' | 'webhook_dead_letters';
  columns: ReadonlyArray<{ name: string; aad(row: Record<string, string>): string; hashColumn?: string }>;
  /** Columns the AAD needs besides id. */
  context: readonly string[];
}

const TABLES: readonly EncryptedTable[] = [
  {
    table: 'tenants',
    context: [],
    columns: [
      { name: 'exotel_api_key_enc', aad: (r) => tenantSecretAad(r.id!, 'exotel_api_key') },
      { name: 'exotel_api_token_enc', aad: (r) => tenantSecretAad(r.id!, 'exotel_api_token') },
    ],
  },
  {
    table: 'calls',
    context: ['tenant_id'],
    columns: [
      { name: 'from_enc', aad: (r) => phoneAad(r.tenant_id!, 'from'), hashColumn: 'from_hash' },
      { name: 'to_enc', aad: (r) => phoneAad(r.tenant_id!, 'to'), hashColumn: 'to_hash' },
      { name: 'recording_url_enc', aad: (r) => recordingUrlAad(r.tenant_id!) },
      { name: 'stream_urls_enc', aad: (r) => streamUrlsAad(r.tenant_id!) },
      { name: 'recording_key_enc', aad: (r) => recordingKeyAad(r.tenant_id!) },
    ],
  },
  {
    table: 'webhook_events',
    context: ['tenant_id'],
    columns: [{ name: 'raw_payload_enc', aad: (r) => webhookRawAad(r.tenant_id!) }],
  },
  {
    table: 'webhook_dead_letters',
    context: ['tenant_id'],
    columns: [{ name: 'raw_payload_enc', aad: (r) => webhookRawAad(r.tenant_id!) }],
  },
];

export interface ReencryptReport {
  keyId: string;
  rewritten: Record<string, number>;
  /** Values no configured key could decrypt (a key was dropped too early). */
  unreadable: Record<string, number>;
}

/**
 * Rewrites every value sealed under an older key with the current one, and recomputes phone
 * hashes under the current hash key. Batches of `batchSize` rows, each in its own transaction with
 * the rows locked, so the service can keep running. Idempotent: a second run rewrites nothing.
 */
export async function reencryptAll(db: { transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> }, keys: ServiceKeys, batchSize = 500): Promise<ReencryptReport> {
  const report: ReencryptReport = { keyId: keys.keyring.currentKeyId, rewritten: {}, unreadable: {} };
  for (const t of TABLES) {
    const cols = t.columns.flatMap((c) => [c.name, ...(c.hashColumn ? [`encode(${c.hashColumn}, 'hex') AS ${c.hashColumn}`] : [])]);
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const last = await db.transaction(async (tx) => {
        const { rows } = await tx.query<Record<string, string>>(
          `SELECT id, ${[...t.context, ...cols].join(', ')} FROM ${t.table} WHERE id > $1 ORDER BY id LIMIT $2 FOR UPDATE`,
          [after, batchSize],
        );
        for (const row of rows) {
          const sets: string[] = [];
          const values: unknown[] = [row.id];
          for (const c of t.columns) {
            const token = row[c.name];
            if (!token) continue;
            const key = `${t.table}.${c.name}`;
            let plain: string;
            try {
              plain = keys.keyring.decrypt(token, c.aad(row));
            } catch {
              report.unreadable[key] = (report.unreadable[key] ?? 0) + 1;
              continue;
            }
            const hash = c.hashColumn ? keys.phoneHash.hash(plain) : undefined;
            const staleHash = hash !== undefined && row[c.hashColumn!] !== hash.toString('hex');
            if (!keys.keyring.needsRotation(token) && !staleHash) continue;
            values.push(keys.keyring.encrypt(plain, c.aad(row)));
            sets.push(`${c.name} = $${values.length}`);
            if (hash) {
              values.push(hash);
              sets.push(`${c.hashColumn} = $${values.length}`);
            }
            report.rewritten[key] = (report.rewritten[key] ?? 0) + 1;
          }
          if (sets.length > 0) await tx.query(`UPDATE ${t.table} SET ${sets.join(', ')} WHERE id = $1`, values);
        }
        return rows.at(-1)?.id;
      });
      if (!last) break;
      after = last;
    }
  }
  await sealLegacyStreamUrls(db, keys, report, batchSize);
  return report;
}

/**
 * Stream URLs stored in clear in calls.exotel (before they were encrypted) are sealed into
 * stream_urls_enc, unless newer ones are already there, and removed from the readable document.
 */
async function sealLegacyStreamUrls(db: { transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> }, keys: ServiceKeys, report: ReencryptReport, batchSize: number): Promise<void> {
  for (;;) {
    const n = await db.transaction(async (tx) => {
      const { rows } = await tx.query<{ id: string; tenant_id: string; stream: Record<string, unknown>; sealed: boolean }>(
        `SELECT id, tenant_id, exotel->'stream' AS stream, stream_urls_enc IS NOT NULL AS sealed FROM calls
          WHERE exotel->'stream' ?| array['StreamUrl', 'RecordingUrl'] LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [batchSize],
      );
      for (const r of rows) {
        const urls = Object.fromEntries(['StreamUrl', 'RecordingUrl'].filter((k) => typeof r.stream[k] === 'string').map((k) => [k, r.stream[k]]));
        const enc = r.sealed ? null : keys.keyring.encrypt(JSON.stringify(urls), streamUrlsAad(r.tenant_id));
        await tx.query(`UPDATE calls SET stream_urls_enc = COALESCE(stream_urls_enc, $2), exotel = exotel #- '{stream,StreamUrl}' #- '{stream,RecordingUrl}' WHERE id = $1`, [r.id, enc]);
      }
      return rows.length;
    });
    if (n > 0) report.rewritten['calls.exotel.stream'] = (report.rewritten['calls.exotel.stream'] ?? 0) + n;
    if (n < batchSize) return;
  }
}
