import type { Migration } from './migration';

/**
 * The Caly domain (docs/domain.md): tenants and their ExoPhones, users and refresh tokens, calls,
 * and the processed-webhook ledger that makes Exotel's retries harmless. Secrets and phone numbers
 * are stored encrypted (`*_enc`, AES-256-GCM tokens from crypto/encryption.ts); phone numbers also
 * as HMAC-SHA256 (`*_hash`) so exact search still works without decrypting.
 */
export const m003: Migration = {
  version: 3,
  name: 'domain',
  sql: `
    CREATE TABLE IF NOT EXISTS tenants (
      id                       uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
      name                     text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
      sector                   text        NOT NULL DEFAULT 'ecommerce' CHECK (sector IN (
                                 'ecommerce', 'healthcare', 'realestate', 'logistics', 'fintech', 'support',
                                 'telecom', 'government', 'education', 'saas', 'travel', 'custom')),
      -- Exotel API credentials (our calls to Exotel): encrypted, never returned unmasked.
      exotel_account_sid       text        CHECK (exotel_account_sid ~ '^[A-Za-z0-9_-]{1,64}$'),
      exotel_api_key_enc       text,
      exotel_api_token_enc     text,
      -- Exotel's calls to us: a random 32-byte credential in the webhook URL, stored as SHA-256 only.
      webhook_credential_hash  bytea       NOT NULL UNIQUE CHECK (octet_length(webhook_credential_hash) = 32),
      webhook_credential_set_at timestamptz NOT NULL DEFAULT now(),
      webhook_ip_allowlist     cidr[],
      -- Sync Passthru branches on the answer: 200 selects choice A, 302 choice B.
      passthru_response        smallint    NOT NULL DEFAULT 200 CHECK (passthru_response IN (200, 302)),
      active                   boolean     NOT NULL DEFAULT true,
      created_at               timestamptz NOT NULL DEFAULT now(),
      updated_at               timestamptz NOT NULL DEFAULT now()
    );

    -- One ExoPhone belongs to one tenant: the primary key is the E.164 number itself.
    CREATE TABLE IF NOT EXISTS tenant_exophones (
      number     text        PRIMARY KEY CHECK (number ~ '^\\+[1-9][0-9]{6,14}$'),
      tenant_id  uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX IF NOT EXISTS tenant_exophones_tenant_idx ON tenant_exophones (tenant_id);

    CREATE TABLE IF NOT EXISTS users (
      id                  uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id           uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      email               text        NOT NULL UNIQUE CHECK (email = lower(btrim(email)) AND char_length(email) BETWEEN 3 AND 254),
      password_hash       text        NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
      role                text        NOT NULL CHECK (role IN ('owner', 'admin', 'agent', 'viewer')),
      active              boolean     NOT NULL DEFAULT true,
      password_changed_at timestamptz NOT NULL DEFAULT now(),
      last_login_at       timestamptz,
      created_at          timestamptz NOT NULL DEFAULT now(),
      updated_at          timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX IF NOT EXISTS users_tenant_idx ON users (tenant_id);

    -- Rotating refresh tokens: SHA-256 of the opaque token only. A family is one login session;
    -- presenting a token that was already rotated revokes the whole family (theft detection).
    CREATE TABLE IF NOT EXISTS refresh_tokens (
      id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id        uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      family_id      uuid        NOT NULL,
      token_hash     bytea       NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
      expires_at     timestamptz NOT NULL,
      created_at     timestamptz NOT NULL DEFAULT now(),
      revoked_at     timestamptz,
      revoked_reason text        CHECK (revoked_reason IN ('rotated', 'reuse', 'logout', 'password_change', 'user_disabled')),
      replaced_by    uuid        REFERENCES refresh_tokens (id) ON DELETE SET NULL
    );
    CREATE INDEX IF NOT EXISTS refresh_tokens_family_idx ON refresh_tokens (family_id);
    CREATE INDEX IF NOT EXISTS refresh_tokens_live_idx ON refresh_tokens (user_id) WHERE revoked_at IS NULL;

    CREATE TABLE IF NOT EXISTS calls (
      id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id         uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      call_sid          text        NOT NULL CHECK (call_sid ~ '^[A-Za-z0-9_-]{1,64}$'),
      direction         text        CHECK (direction IN ('inbound', 'outbound-dial', 'outbound-api')),
      exophone          text,
      from_enc          text,
      from_hash         bytea       CHECK (octet_length(from_hash) = 32),
      to_enc            text,
      to_hash           bytea       CHECK (octet_length(to_hash) = 32),
      status            text        NOT NULL CHECK (status IN ('queued', 'ringing', 'in-progress', 'completed', 'busy', 'failed', 'no-answer', 'canceled')),
      started_at        timestamptz,
      ended_at          timestamptz,
      duration_s        integer     CHECK (duration_s >= 0),
      -- Exotel's recording URL may carry access parameters: encrypted like a secret.
      recording_url_enc text,
      -- An uploaded recording: generated relative path under RECORDINGS_DIR, never a client name.
      recording_path    text        CHECK (recording_path ~ '^[0-9a-f-]{36}/[0-9a-f-]{36}\\.(wav|mp3|ogg|flac)$'),
      recording_mime    text,
      recording_bytes   bigint      CHECK (recording_bytes >= 0),
      resolved          boolean     NOT NULL DEFAULT false,
      notes             text        NOT NULL DEFAULT '' CHECK (char_length(notes) <= 10000),
      tags              text[]      NOT NULL DEFAULT '{}',
      exotel            jsonb       NOT NULL DEFAULT '{}'::jsonb,
      created_at        timestamptz NOT NULL DEFAULT now(),
      updated_at        timestamptz NOT NULL DEFAULT now(),
      UNIQUE (tenant_id, call_sid)
    );
    CREATE INDEX IF NOT EXISTS calls_tenant_created_idx ON calls (tenant_id, created_at DESC, id DESC);
    CREATE INDEX IF NOT EXISTS calls_tenant_from_idx    ON calls (tenant_id, from_hash);
    CREATE INDEX IF NOT EXISTS calls_tenant_to_idx      ON calls (tenant_id, to_hash);
    CREATE INDEX IF NOT EXISTS calls_tenant_status_idx  ON calls (tenant_id, status, created_at DESC);

    -- Exotel retries a webhook it thinks failed; each distinct event is processed once.
    CREATE TABLE IF NOT EXISTS webhook_events (
      tenant_id   uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      call_sid    text        NOT NULL,
      event_key   text        NOT NULL,
      received_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant_id, call_sid, event_key)
    );
  `,
};
