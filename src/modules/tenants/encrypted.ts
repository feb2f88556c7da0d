import type { EncryptedTable } from '../../platform/crypto/reencrypt';
import { tenantSecretAad } from './repository';

/** The tenants table's encrypted columns (Exotel credentials), for key rotation. */
export const TENANT_ENCRYPTED: readonly EncryptedTable[] = [
  {
    table: 'tenants',
    context: [],
    columns: [
      { name: 'exotel_api_key_enc', aad: (r) => tenantSecretAad(r.id!, 'exotel_api_key') },
      { name: 'exotel_api_token_enc', aad: (r) => tenantSecretAad(r.id!, 'exotel_api_token') },
    ],
  },
];
