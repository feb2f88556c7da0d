import { AUDIT_ROUTES } from '../platform/audit/contract';
import { AUTH_ROUTES } from './auth/contract';
import { CALL_ROUTES } from './calls/contract';
import { HEALTH_ROUTES } from '../platform/health/contract';
import { RECORDING_ROUTES } from './calls/recordings/contract';
import { INFO_ROUTES } from '../platform/health/info-contract';
import { dependencyReportRoute } from './scanner/contract';
import { EXOTEL_ROUTES } from './exotel/contract';
import type { RouteDeclaration } from '../platform/api/declaration';
import { DOCS_ROUTES } from '../platform/docs/contract';

/**
 * Every route the service registers, for the document. A test checks this list against the
 * router of a fully wired service, both ways.
 */
export const ALL_ROUTES: readonly RouteDeclaration[] = [
  ...HEALTH_ROUTES,
  ...INFO_ROUTES,
  ...AUTH_ROUTES,
  ...CALL_ROUTES,
  ...RECORDING_ROUTES,
  ...EXOTEL_ROUTES,
  ...AUDIT_ROUTES,
  dependencyReportRoute,
  ...DOCS_ROUTES,
] as readonly RouteDeclaration[];
