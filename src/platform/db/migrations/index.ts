/**
 * The platform's versioned migrations (the audit trail, app facts), applied with every module's
 * own (src/modules/index.ts composes the list) in version order, exactly once (db/migrate.ts). A
 * migration is never edited after it ships: its checksum is stored, and a changed one stops
 * startup. 003 is the domain's first schema, written before modules carried their migrations: it
 * stays here, unchanged, because deployed databases hold its checksum.
 */
import type { Migration } from './migration';
import { m001 } from './001_app_meta';
import { m002 } from './002_audit_logs';
import { m003 } from './003_domain';

export type { Migration } from './migration';

export const PLATFORM_MIGRATIONS: readonly Migration[] = [m001, m002, m003];
