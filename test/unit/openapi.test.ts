import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Router from '@koa/router';
import { expect } from 'chai';
import { ALL_ROUTES } from '../../src/modules/catalogue';
import { declarationsOf, routeKey, undeclaredRoutes } from '../../src/platform/api/declaration';
import { serviceDocument } from '../../src/modules/openapi-document';
import { ERROR_STATUS } from '../../src/platform/api/schemas';
import { createApp, routerOf } from '../../src/app';
import { noopAuditSink } from '../../src/platform/audit/catalogue';
import { loadConfig } from '../../src/platform/config';
import { createServiceKeys } from '../../src/platform/crypto/keys';
import { createDatabase } from '../../src/platform/db/pool';
import { createModules, MIGRATIONS } from '../../src/modules';
import * as errors from '../../src/platform/errors/app-error';
import { EventLoopMonitor } from '../../src/platform/health/checks';
import type { AppState } from '../../src/platform/context/state';
import { createLogger } from '../../src/platform/logging/logger';
import { createLimiters } from '../../src/platform/security/rate-limit';
import { contractProblems } from '../helpers/contract';
import { K1 } from '../helpers/domain';
import { ROOT } from '../helpers/service';
import { telemetry } from '../setup/telemetry';

/** The service's router wired as src/server.ts wires it (every module included). */
async function productionRouter() {
  const { config } = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
    ENCRYPTION_KEY: K1,
    ADMIN_TOKEN: 'a'.repeat(32),
  });
  const log = createLogger({ level: 'error', service: 'contract-test', environment: 'test', stream: new Writable({ write: (_c, _e, cb) => cb() }) });
  // The pool connects lazily: registering routes runs no query.
  const db = createDatabase(
    {
      connectionString: config.DATABASE_URL!,
      max: 1,
      min: 0,
      idleTimeoutMillis: 1000,
      connectionTimeoutMillis: 1000,
      statementTimeoutMillis: 1000,
      applicationName: 'contract-test',
      slowQueryMs: 1000,
      preparedStatements: 500,
    },
    log.logger,
    telemetry.instruments,
  );
  const keys = createServiceKeys(config);
  const limiters = createLimiters({ config, store: { kind: 'memory' }, logger: log.logger, instruments: telemetry.instruments, audit: noopAuditSink });
  const modules = await createModules({ config, db, keys, audit: noopAuditSink, limiters, instruments: telemetry.instruments, logger: log.logger });
  const app = createApp({
    config,
    log,
    instruments: telemetry.instruments,
    db,
    keyring: keys.keyring,
    eventLoop: new EventLoopMonitor(),
    audit: noopAuditSink,
    limiters,
    modules: modules.list,
    auth: modules.auth.auth,
    staffGuard: modules.auth.staffGuard,
    isShuttingDown: () => false,
    migrations: MIGRATIONS,
  });
  return { router: routerOf(app)!, close: () => db.close() };
}

describe('API contract: route declarations and the OpenAPI document', function () {
  this.timeout(60_000);

  it('every route of the fully wired service is declared, and the catalogue lists exactly those routes', async () => {
    const { router, close } = await productionRouter();
    try {
      expect(undeclaredRoutes(router), 'routes registered without a declaration (use route() from src/platform/api/route.ts)').to.deep.equal([]);
      const registered = declarationsOf(router)
        .map((d) => routeKey(d.method, d.path))
        .sort();
      const catalogued = ALL_ROUTES.map((d) => routeKey(d.method, d.path)).sort();
      expect(registered).to.deep.equal(catalogued);
    } finally {
      await close();
    }
  });

  it('the router walk catches a route registered behind the declarations’ back', () => {
    const router = new Router<AppState>();
    router.get('/api/sneaky', (ctx) => {
      ctx.body = {};
    });
    expect(undeclaredRoutes(router)).to.deep.equal(['GET /api/sneaky']);
  });

  it('the document is valid OpenAPI 3.1', async () => {
    const { Validator } = (await import('@seriousme/openapi-schema-validator')) as typeof import('@seriousme/openapi-schema-validator');
    const validator = new Validator();
    const result = await validator.validate(serviceDocument());
    expect(result.valid, JSON.stringify(result.errors, null, 2)).to.equal(true);
    expect(validator.version).to.equal('3.1');
  });

  it('docs/openapi.json is the generated document (refresh with `npm run openapi:generate`)', () => {
    const checkedIn = JSON.parse(readFileSync(join(ROOT, 'docs', 'openapi.json'), 'utf8')) as unknown;
    expect(checkedIn, 'docs/openapi.json is stale: run `npm run openapi:generate` and commit it').to.deep.equal(JSON.parse(JSON.stringify(serviceDocument())));
  });

  it('every error code maps to the status its error class answers with', () => {
    const made: errors.AppError[] = [
      new errors.ValidationError(),
      new errors.BadRequestError(),
      new errors.AuthenticationError(),
      new errors.AuthorizationError(),
      new errors.SecurityViolationError(),
      new errors.NotFoundError(),
      new errors.MethodNotAllowedError(['GET']),
      new errors.ConflictError(),
      new errors.PayloadTooLargeError(1),
      new errors.UnsupportedMediaTypeError(),
      new errors.RateLimitError(),
      new errors.AppError(500, 'INTERNAL_ERROR', 'x'),
      new errors.DatabaseError(),
      new errors.KeyUnavailableError(),
      new errors.ExternalServiceError('x'),
      new errors.ServiceUnavailableError(),
      new errors.TimeoutError(),
    ];
    expect(Object.fromEntries(made.map((e) => [e.code, e.status]))).to.deep.equal(ERROR_STATUS);
  });

  it('every operation declares its security, a 2xx/3xx answer and the envelope for 400, 413 and 500', () => {
    const doc = serviceDocument() as { paths: Record<string, Record<string, { responses: Record<string, unknown>; security: unknown[]; tags: string[] }>> };
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const statuses = Object.keys(op.responses).map(Number);
        expect(
          statuses.some((s) => s < 400),
          `${method} ${path}`,
        ).to.equal(true);
        expect(statuses, `${method} ${path}`).to.include.members([400, 413, 500]);
        if (path.startsWith('/api/')) expect(statuses, `${method} ${path}: under the API limiter`).to.include(429);
      }
    }
  });

  it('the response checker refuses undeclared statuses, bodies off the schema and bare errors', () => {
    const ok = { method: 'GET', path: '/api/ping', status: 200, contentType: 'application/json', text: JSON.stringify({ ok: true, ts: 1 }) };
    expect(contractProblems(ok)).to.deep.equal([]);
    expect(contractProblems({ ...ok, status: 418 })).to.have.length(1);
    expect(contractProblems({ ...ok, text: JSON.stringify({ ok: true, ts: 1, extra: 1 }) })).to.have.length(1);
    expect(contractProblems({ ...ok, status: 500, text: JSON.stringify({ message: 'boom' }) })).to.have.length(1);
    const envelope = (code: string) => JSON.stringify({ error: { code, message: 'm', requestId: 'r', timestamp: '2026-12-04T10:00:00.000Z' } });
    expect(contractProblems({ ...ok, status: 500, text: envelope('INTERNAL_ERROR') })).to.deep.equal([]);
    expect(contractProblems({ ...ok, status: 500, text: envelope('NOT_FOUND') }), 'code of another status').to.have.length(1);
    expect(contractProblems({ ...ok, method: 'DELETE', status: 405, text: envelope('METHOD_NOT_ALLOWED') })).to.deep.equal([]);
    expect(contractProblems({ ...ok, path: '/nowhere', status: 404, text: envelope('NOT_FOUND') })).to.deep.equal([]);
    expect(contractProblems({ ...ok, path: '/nowhere', status: 200 })).to.have.length(1);
  });
});
