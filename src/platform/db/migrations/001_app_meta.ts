import type { Migration } from './migration';

export const m001: Migration = {
  version: 1,
  name: 'app_meta',
  sql: `
    -- Small key/value facts about this database (installation id, first start). Also the table
    -- the readiness probe and the database benchmark read by primary key.
    CREATE TABLE IF NOT EXISTS app_meta (
      key        text PRIMARY KEY,
      value      text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    INSERT INTO app_meta (key, value) VALUES ('installation_id', gen_random_uuid()::text)
      ON CONFLICT (key) DO NOTHING;
  `,
};
