import type { RouterMiddleware } from '@koa/router';
import type { AppContext, AppState } from '../context/state';
import { validate, type InputShape, type SchemasFor, type ValidatedState } from '.';

/**
 * validate() typed for the shared Router<AppState>: validate() declares its own state type
 * (ctx.state.input), which a chain of AppState middleware cannot carry; handlers read the
 * validated input back through inputOf<I>(ctx), with the same I.
 */
export function validated<I extends InputShape>(schemas: SchemasFor<I>): RouterMiddleware<AppState> {
  return validate<I>(schemas) as unknown as RouterMiddleware<AppState>;
}

export const inputOf = <I extends InputShape>(ctx: AppContext) => (ctx.state as ValidatedState<I>).input;
