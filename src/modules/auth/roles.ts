import type { Role } from '../tenants';

/** Who a caller is to the authorisation rules: a tenant role, or the platform (ADMIN_TOKEN). */
export type CallerRole = Role | 'platform';

/** Who may do what, named once so routes say `CAN.deleteCalls` rather than repeat role lists. */
export const CAN = {
  readCalls: ['owner', 'admin', 'agent', 'viewer'],
  editCalls: ['owner', 'admin', 'agent'],
  deleteCalls: ['owner', 'admin'],
  uploadRecordings: ['owner', 'admin', 'agent'],
  readTenantAudit: ['owner', 'admin', 'platform'],
  platformOnly: ['platform'],
} as const satisfies Record<string, readonly CallerRole[]>;
