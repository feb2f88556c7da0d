import { bodyParser } from '@koa/bodyparser';

/**
 * JSON and urlencoded bodies up to BODY_LIMIT_BYTES. Parse failures and oversize bodies are thrown
 * as they are and mapped to 400 / 413 by errors/to-app-error.ts. Multipart (uploads) is parsed
 * by the routes that accept it, with their own streaming limits.
 */
export function parseBody(limitBytes: number) {
  return bodyParser({
    enableTypes: ['json', 'form'],
    jsonLimit: limitBytes,
    formLimit: limitBytes,
    jsonStrict: true,
    encoding: 'utf-8',
  });
}
