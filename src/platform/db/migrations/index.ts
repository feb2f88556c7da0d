/**
 * Versioned migrations, applied in order and exactly once (db/migrate.ts). A migration is never
 * edited after it ships: its checksum is stored, and a changed one stops startup. Each concern
 * appends its own file here.
 */
import type { Migration } from './migration';
import { m001 } from './001_app_meta';
import { m002 } from './002_audit_logs';
import { m003 } from './003_domain';
import { m010 } from './010_webhook_raw_and_dead_letters';
import { m011 } from './011_recording_keys';

export type { Migration } from './migration';

export const MIGRATIONS: readonly Migration[] = [m001, m002, m003, m010, m011];
