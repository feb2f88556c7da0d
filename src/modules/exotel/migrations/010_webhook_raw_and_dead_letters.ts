import type { Migration } from '../../../platform/db/migrations/migration';

/**
 * Exotel events are never lost to odd input. Each processed event keeps the payload exactly as
 * received (query string and raw body), encrypted because it holds phone numbers and recording
 * URLs, so fields sanitised on the way in can still be read verbatim. An event PostgreSQL refuses
 * to store as a call is kept whole in the dead-letter table instead; Exotel's retries of it land
 * on the same row (attempts counts them) and are answered 2xx.
 */
export const m010: Migration = {
  version: 10,
  name: 'webhook_raw_and_dead_letters',
  sql: `
    ALTER TABLE webhook_events ADD COLUMN IF NOT EXISTS raw_payload_enc text;
    -- A surrogate key, so that secrets:reencrypt can walk the ledger in batches like other tables.
    ALTER TABLE webhook_events ADD COLUMN IF NOT EXISTS id uuid NOT NULL DEFAULT gen_random_uuid();
    CREATE UNIQUE INDEX IF NOT EXISTS webhook_events_id_idx ON webhook_events (id);

    CREATE TABLE IF NOT EXISTS webhook_dead_letters (
      id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id       uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      kind            text        NOT NULL CHECK (kind IN ('passthru', 'status')),
      call_sid        text,
      event_key       text        NOT NULL,
      raw_payload_enc text        NOT NULL,
      error_code      text        NOT NULL,
      attempts        integer     NOT NULL DEFAULT 1,
      first_seen_at   timestamptz NOT NULL DEFAULT now(),
      last_seen_at    timestamptz NOT NULL DEFAULT now(),
      UNIQUE (tenant_id, event_key)
    );

    -- Stream URLs (Stream[StreamUrl], Stream[RecordingUrl]) are access URLs like the recording URL:
    -- encrypted, never kept in the readable calls.exotel document.
    ALTER TABLE calls ADD COLUMN IF NOT EXISTS stream_urls_enc text;
  `,
};
