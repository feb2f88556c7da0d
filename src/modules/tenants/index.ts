/** What other modules may use of the tenants module: its declared interface (.dependency-cruiser.cjs). */
export { WEBHOOK_CREDENTIAL_PATTERN, credentialMatches, hashWebhookCredential } from './credentials';
export { loadTenantProfile, tenantByCredential } from './repository';
export { isRole } from './roles';
export type { Role } from './roles';
export { findUserByEmail, findUserById } from './users';
