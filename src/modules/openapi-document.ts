import { ALL_ROUTES } from './catalogue';
import { buildOpenApi } from '../platform/api/openapi';

/** The contract's own version: it changes when the API does, not with each build of the service. */
export const CONTRACT_VERSION = '0.1.0';

/** The service's OpenAPI document, as served at /openapi.json and checked in as docs/openapi.json. */
export function serviceDocument(): Record<string, unknown> {
  return buildOpenApi(ALL_ROUTES, CONTRACT_VERSION);
}
