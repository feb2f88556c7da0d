import type { Migration } from './migration';

export const m002: Migration = {
  version: 2,
  name: 'audit_logs',
  sql: `
    -- The audit trail (docs/audit.md). One global hash chain ordered by seq: each row's hash is
    -- sha256(prev_hash || canonical row content), computed by the writer under an advisory lock.
    CREATE TABLE IF NOT EXISTS audit_logs (
      id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      -- Client-generated at emit time; makes journal replay idempotent.
      event_id      uuid        NOT NULL UNIQUE,
      -- Position in the chain: gap-free, assigned in commit order by the single chain writer lock.
      seq           bigint      NOT NULL UNIQUE CHECK (seq > 0),
      occurred_at   timestamptz NOT NULL,
      stored_at     timestamptz NOT NULL DEFAULT now(),
      event_type    text        NOT NULL CHECK (event_type ~ '^[A-Z][A-Z_]{0,63}$'),
      severity      text        NOT NULL CHECK (severity IN ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL')),
      outcome       text        NOT NULL CHECK (outcome IN ('SUCCESS', 'FAILURE', 'SECURITY_ALERT')),
      tenant_id     text,
      user_id       text,
      client_ip     inet,
      user_agent    text,
      request_id    text,
      trace_id      text,
      resource_type text,
      resource_id   text,
      description   text        NOT NULL,
      changes       jsonb,
      metadata      jsonb,
      prev_hash     bytea       NOT NULL CHECK (octet_length(prev_hash) = 32),
      hash          bytea       NOT NULL CHECK (octet_length(hash) = 32)
    );
    -- Newest-first listing (platform view, and per tenant), with seq as the cursor tie-breaker.
    CREATE INDEX IF NOT EXISTS audit_logs_occurred_idx ON audit_logs (occurred_at DESC, seq DESC);
    CREATE INDEX IF NOT EXISTS audit_logs_tenant_idx   ON audit_logs (tenant_id, occurred_at DESC, seq DESC);
    CREATE INDEX IF NOT EXISTS audit_logs_type_idx     ON audit_logs (event_type, occurred_at DESC);
    CREATE INDEX IF NOT EXISTS audit_logs_actor_idx    ON audit_logs (user_id, occurred_at DESC) WHERE user_id IS NOT NULL;
    CREATE INDEX IF NOT EXISTS audit_logs_resource_idx ON audit_logs (resource_type, resource_id, occurred_at DESC) WHERE resource_type IS NOT NULL;
    CREATE INDEX IF NOT EXISTS audit_logs_sev_out_idx  ON audit_logs (severity, outcome, occurred_at DESC);
    CREATE INDEX IF NOT EXISTS audit_logs_request_idx  ON audit_logs (request_id) WHERE request_id IS NOT NULL;

    -- After a retention purge: the seq and hash of the last purged row. The first remaining row
    -- must continue from it, so the chain stays verifiable. One row (id = 1) for the global chain.
    CREATE TABLE IF NOT EXISTS audit_chain_anchor (
      id         smallint    PRIMARY KEY CHECK (id = 1),
      seq        bigint      NOT NULL,
      hash       bytea       NOT NULL CHECK (octet_length(hash) = 32),
      purged_at  timestamptz NOT NULL DEFAULT now()
    );
  `,
};
