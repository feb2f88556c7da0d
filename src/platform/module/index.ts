import type Router from '@koa/router';
import type { AppState } from '../context/state';
import type { Check } from '../health/checks';

/**
 * One concern of the service as one object (the Fastify plugin idea): the routes it adds (each
 * with its declaration beside the handler), what it reports on /health/detailed, and how it starts
 * and stops. server.ts registers every module's routes, then starts them in list order and stops
 * them in reverse order on shutdown; adding a concern is its own folder plus one line in
 * src/modules/index.ts.
 */
export interface ServiceModule {
  readonly name: string;
  registerRoutes?(router: Router<AppState>): void;
  readonly healthChecks?: Readonly<Record<string, Check>>;
  start?(): void | Promise<void>;
  stop?(): void | Promise<void>;
}
