import type { ServiceKeys } from '../../platform/crypto/keys';
import type { EncryptedTable, ReencryptReport, TransactionRunner } from '../../platform/crypto/reencrypt';
import { recordingKeyAad } from './recordings/sealed';
import { phoneAad, recordingUrlAad, streamUrlsAad, webhookRawAad } from './pii';

/** Encrypted columns of calls and of the Exotel events stored with them, for key rotation. */
export const CALL_ENCRYPTED: readonly EncryptedTable[] = [
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
    afterRewrite: sealLegacyStreamUrls,
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

/**
 * Stream URLs stored in clear in calls.exotel (before they were encrypted) are sealed into
 * stream_urls_enc, unless newer ones are already there, and removed from the readable document.
 */
async function sealLegacyStreamUrls(db: TransactionRunner, keys: ServiceKeys, report: ReencryptReport, batchSize: number): Promise<void> {
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
        await tx.query(
          `UPDATE calls SET stream_urls_enc = COALESCE(stream_urls_enc, $2), exotel = exotel #- '{stream,StreamUrl}' #- '{stream,RecordingUrl}' WHERE id = $1`,
          [r.id, enc],
        );
      }
      return rows.length;
    });
    if (n > 0) report.rewritten['calls.exotel.stream'] = (report.rewritten['calls.exotel.stream'] ?? 0) + n;
    if (n < batchSize) return;
  }
}
