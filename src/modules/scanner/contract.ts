import { declare } from '../../platform/api/declaration';
import { anyObject, json, nullable, obj } from '../../platform/api/schemas';

export const dependencyReportRoute = declare({
  method: 'GET',
  path: '/api/security/dependencies',
  tag: 'Security',
  summary: 'The latest dependency scan report (npm audit and outdated)',
  description: 'docs/dependency-scanner.md describes the report. 404 until the first scan of this installation finished.',
  security: ['adminToken'],
  limiters: ['api'],
  responses: {
    200: { description: 'The latest and the last successful report', content: json(obj({ latest: anyObject, lastSuccessful: nullable(anyObject) })) },
  },
  errors: ['AUTHENTICATION_ERROR', 'AUTHORIZATION_ERROR', 'NOT_FOUND'],
});
