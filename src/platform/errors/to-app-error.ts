import { DecryptionError } from './decryption-error';
import {
  AppError,
  BadRequestError,
  ConflictError,
  KeyUnavailableError,
  DatabaseError,
  PayloadTooLargeError,
  ServiceUnavailableError,
  TimeoutError,
  UnsupportedMediaTypeError,
  ValidationError,
} from './app-error';

/** Errors thrown by body parsers (raw-body / http-errors) carry these fields. */
interface HttpLikeError {
  status?: number;
  statusCode?: number;
  type?: string;
  limit?: number;
  expose?: boolean;
}

/** SQLSTATE classes that mean "the database is not there right now", not "your query is wrong". */
const UNAVAILABLE_SQLSTATE = /^(08|57P0|53)/;
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

function isPgError(err: unknown): err is Error & { code: string; severity?: string } {
  return (
    err instanceof Error &&
    typeof (err as { code?: unknown }).code === 'string' &&
    /^[0-9A-Z]{5}$/.test((err as unknown as { code: string }).code) &&
    'severity' in err
  );
}

/**
 * Maps anything thrown inside a request to an AppError. Unknown errors become a 500 whose message
 * is never shown to clients (`expose: false`): driver text and stack traces stay in logs and spans.
 */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof DecryptionError) return new KeyUnavailableError(err);
  const e = (err ?? {}) as HttpLikeError & { code?: string; message?: string };

  // Body parsing (co-body / raw-body through @koa/bodyparser)
  if (e.type === 'entity.too.large' || e.status === 413) return new PayloadTooLargeError(e.limit ?? 0);
  if (e.type === 'entity.parse.failed' || e.type === 'encoding.unsupported' || e.type === 'request.aborted') {
    return new BadRequestError(e.type === 'entity.parse.failed' ? 'Malformed JSON body' : 'Unreadable request body', err);
  }
  if (e.status === 415 || e.type === 'charset.unsupported') return new UnsupportedMediaTypeError();
  // co-body marks JSON.parse failures (and non-object JSON in strict mode) as a 400 SyntaxError.
  // Its parser (@hapi/bourne) also refuses `__proto__` keys: that is a validation finding, not bad JSON.
  if (err instanceof SyntaxError && e.status === 400) {
    if (/forbidden prototype property/.test(err.message)) {
      return new ValidationError('Request validation failed', [{ path: '/body', message: 'must not contain the key "__proto__"' }]);
    }
    return new BadRequestError('Malformed JSON body', err);
  }

  if (isPgError(err)) {
    if (err.code === '57014') return new TimeoutError('The database query took too long');
    // Constraint and input errors are the client's to fix; the messages name no table, column
    // or value (the driver text stays in logs and spans as the cause).
    if (err.code === '23505') return new ConflictError('Resource already exists');
    if (err.code === '23503') return new BadRequestError('A referenced resource does not exist or is still in use', err);
    // 22021/22P05: NUL or an untranslatable character; 22009: a time zone displacement out of range.
    if (['22P02', '22007', '22008', '22003', '22009', '22021', '22P05'].includes(err.code)) return new BadRequestError('Invalid value in request', err);
    if (err.code === '22001' || err.code === '23514' || err.code === '23502')
      return new BadRequestError('A value does not meet the constraints of its field', err);
    // Still failing after db.transaction's bounded retries: a transient conflict, worth retrying later.
    if (err.code === '40001' || err.code === '40P01') return new ServiceUnavailableError('The database is busy; retry the request', 1);
    if (UNAVAILABLE_SQLSTATE.test(err.code)) return new ServiceUnavailableError('Database unavailable', 5);
    return new DatabaseError('Database operation failed', err);
  }
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) {
    return new ServiceUnavailableError('A backing service is unavailable', 5);
  }
  // pg's words for a connection lost mid-query (no SQLSTATE: the server never answered)
  if (err instanceof Error && /connection terminated|terminated unexpectedly|Client has encountered a connection error/i.test(err.message)) {
    return new ServiceUnavailableError('Database unavailable', 5);
  }
  if (err instanceof Error && /timeout exceeded when trying to connect/i.test(err.message)) {
    // pg-pool's wording when no connection frees up within DB_CONNECTION_TIMEOUT
    return new ServiceUnavailableError('Database unavailable', 5);
  }
  // A client error that some library raised with an explicit 4xx status and a safe message
  const status = e.status ?? e.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500 && e.expose) {
    return new BadRequestError(e.message ?? 'Bad request', err);
  }
  return new AppError(500, 'INTERNAL_ERROR', err instanceof Error ? err.message : String(err), {
    cause: err,
    expose: false,
  });
}
