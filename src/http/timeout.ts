import type { Next } from 'koa';
import { TimeoutError } from '../errors/app-error';
import type { AppContext } from './state';

/**
 * Answers 504 when a handler runs past REQUEST_TIMEOUT_MS. The handler cannot be cancelled and
 * keeps running; its late result is discarded (Koa ignores a body set after we answered).
 */
export function requestTimeout(timeoutMs: number) {
  return async function requestTimeoutMiddleware(ctx: AppContext, next: Next): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError()), timeoutMs);
    });
    try {
      await Promise.race([next(), deadline]);
    } finally {
      clearTimeout(timer);
    }
  };
}
