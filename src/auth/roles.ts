/** Tenant roles, most to least privileged. `platform` (ADMIN_TOKEN) is not a tenant role. */
export const ROLES = ['owner', 'admin', 'agent', 'viewer'] as const;
export type Role = (typeof ROLES)[number];
export type CallerRole = Role | 'platform';

export const isRole = (v: unknown): v is Role => typeof v === 'string' && (ROLES as readonly string[]).includes(v);

/** Who may do what, named once so routes say `CAN.deleteCalls` rather than repeat role lists. */
export const CAN = {
  readCalls: ['owner', 'admin', 'agent', 'viewer'],
  editCalls: ['owner', 'admin', 'agent'],
  deleteCalls: ['owner', 'admin'],
  uploadRecordings: ['owner', 'admin', 'agent'],
  readTenantAudit: ['owner', 'admin', 'platform'],
  platformOnly: ['platform'],
} as const satisfies Record<string, readonly CallerRole[]>;
