/**
 * The one error model. Every error the service answers with is an AppError (or is mapped to one by
 * `toAppError`), and every AppError is rendered in the one envelope by `errors/envelope.ts`.
 * `expose` decides whether the message may reach a client: false for anything that may carry
 * driver or internal text.
 */
export type ErrorCode =
  | 'VALIDATION_ERROR'
  | 'BAD_REQUEST'
  | 'AUTHENTICATION_ERROR'
  | 'AUTHORIZATION_ERROR'
  | 'SECURITY_VIOLATION'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'RATE_LIMIT_EXCEEDED'
  | 'INTERNAL_ERROR'
  | 'DATABASE_ERROR'
  | 'EXTERNAL_SERVICE_ERROR'
  | 'SERVICE_UNAVAILABLE'
  | 'ENCRYPTION_KEY_UNAVAILABLE'
  | 'TIMEOUT';

export interface FieldError {
  /** JSON pointer of the offending value, e.g. `/body/email` */
  path: string;
  message: string;
}

export class AppError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly expose: boolean;
  readonly details?: unknown;
  /** Extra response headers (Allow, Retry-After …) the envelope must set. */
  readonly headers?: Readonly<Record<string, string>>;

  constructor(
    status: number,
    code: ErrorCode,
    message: string,
    opts: { details?: unknown; headers?: Record<string, string>; cause?: unknown; expose?: boolean } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.expose = opts.expose ?? status < 500;
    if (opts.details !== undefined) this.details = opts.details;
    if (opts.headers !== undefined) this.headers = opts.headers;
  }
}

export class ValidationError extends AppError {
  constructor(message = 'Request validation failed', details: FieldError[] = []) {
    super(400, 'VALIDATION_ERROR', message, { details });
  }
}

export class BadRequestError extends AppError {
  constructor(message = 'Bad request', cause?: unknown) {
    super(400, 'BAD_REQUEST', message, { cause });
  }
}

export class AuthenticationError extends AppError {
  constructor(message = 'Authentication failed') {
    super(401, 'AUTHENTICATION_ERROR', message);
  }
}

export class AuthorizationError extends AppError {
  constructor(message = 'Access denied') {
    super(403, 'AUTHORIZATION_ERROR', message);
  }
}

/**
 * A request refused by the anomaly detector (ANOMALY_MODE=block). The message names no rule or
 * kind: telling a prober which pattern tripped would help them get past it.
 */
export class SecurityViolationError extends AppError {
  constructor(message = 'The request was refused by the security policy') {
    super(403, 'SECURITY_VIOLATION', message);
  }
}

export class NotFoundError extends AppError {
  constructor(resource = 'Resource') {
    super(404, 'NOT_FOUND', `${resource} not found`);
  }
}

export class MethodNotAllowedError extends AppError {
  constructor(allowed: readonly string[]) {
    super(405, 'METHOD_NOT_ALLOWED', 'Method not allowed', { headers: { Allow: allowed.join(', ') } });
  }
}

export class ConflictError extends AppError {
  constructor(message = 'Resource already exists') {
    super(409, 'CONFLICT', message);
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(limitBytes: number) {
    super(413, 'PAYLOAD_TOO_LARGE', `Request body exceeds the ${limitBytes} byte limit`);
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor(message = 'Unsupported content type') {
    super(415, 'UNSUPPORTED_MEDIA_TYPE', message);
  }
}

export class RateLimitError extends AppError {
  readonly retryAfter: number;
  constructor(retryAfterSeconds = 60, headers: Record<string, string> = {}) {
    const retryAfter = Math.max(1, Math.ceil(retryAfterSeconds));
    super(429, 'RATE_LIMIT_EXCEEDED', 'Too many requests. Please try again later.', {
      headers: { ...headers, 'Retry-After': String(retryAfter) },
    });
    this.retryAfter = retryAfter;
  }
}

export class DatabaseError extends AppError {
  constructor(message = 'Database operation failed', cause?: unknown) {
    super(500, 'DATABASE_ERROR', message, { cause, expose: true });
  }
}

export class ExternalServiceError extends AppError {
  readonly service: string;
  constructor(service: string, message = 'unavailable', cause?: unknown) {
    super(503, 'EXTERNAL_SERVICE_ERROR', `${service} service error: ${message}`, { cause, expose: true });
    this.service = service;
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(message = 'Service unavailable', retryAfterSeconds?: number) {
    super(503, 'SERVICE_UNAVAILABLE', message, {
      expose: true,
      ...(retryAfterSeconds ? { headers: { 'Retry-After': String(retryAfterSeconds) } } : {}),
    });
  }
}

/**
 * A stored value no configured key can decrypt (a key dropped before `secrets:reencrypt` finished,
 * or a tampered row). Named, not generic: the operator has something to fix, and the client learns
 * the data is not lost through its own fault. The key id goes to the log, not to the client.
 */
export class KeyUnavailableError extends AppError {
  constructor(cause?: unknown) {
    super(500, 'ENCRYPTION_KEY_UNAVAILABLE', 'Stored data could not be decrypted: the service does not hold the key it was encrypted with', {
      cause,
      expose: true,
    });
  }
}

export class TimeoutError extends AppError {
  constructor(message = 'The request took too long to complete') {
    super(504, 'TIMEOUT', message, { expose: true });
  }
}
