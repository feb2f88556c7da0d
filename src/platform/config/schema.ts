/**
 * Every environment variable the service reads, with its type, bounds and default. This schema is
 * the single source of truth: `.env.example` documents the same list and a test keeps them equal.
 */
export const configSchema = {
  type: 'object',
  properties: {
    NODE_ENV: { type: 'string', enum: ['development', 'production', 'test'], default: 'development' },
    HOST: { type: 'string', minLength: 1, default: '0.0.0.0' },
    PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 3000 },
    METRICS_HOST: { type: 'string', minLength: 1, default: '127.0.0.1' },
    METRICS_PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 9464 },
    PUBLIC_BASE_URL: { type: 'string', format: 'http-url' },
    DATABASE_URL: { type: 'string', format: 'postgres-url' },
    DATA_DIR: { type: 'string', minLength: 1, default: './data' },
    DB_POOL_MAX: { type: 'integer', minimum: 1, maximum: 1000, default: 20 },
    DB_POOL_MIN: { type: 'integer', minimum: 0, maximum: 1000, default: 5 },
    DB_IDLE_TIMEOUT: { type: 'integer', minimum: 0, default: 30000 },
    DB_CONNECTION_TIMEOUT: { type: 'integer', minimum: 1, default: 10000 },
    DB_STATEMENT_TIMEOUT: { type: 'integer', minimum: 1, default: 30000 },
    DB_APPLICATION_NAME: { type: 'string', minLength: 1, maxLength: 63, default: 'caly-api' },
    QUERY_CACHE_MAX: { type: 'integer', minimum: 1, default: 1000 },
    QUERY_CACHE_TTL_MS: { type: 'integer', minimum: 1, default: 30000 },
    SLOW_QUERY_MS: { type: 'integer', minimum: 1, default: 500 },
    SLOW_REQUEST_MS: { type: 'integer', minimum: 1, default: 1000 },
    REQUEST_TIMEOUT_MS: { type: 'integer', minimum: 1, default: 30000 },
    BODY_LIMIT_BYTES: { type: 'integer', minimum: 1, maximum: 52428800, default: 102400 },
    LOG_LEVEL: { type: 'string', enum: ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'], default: 'info' },
    ACCESS_LOG: { type: 'string', enum: ['all', 'errors-and-slow'], default: 'all' },
    LOG_REDACT_KEYS: { type: 'string', default: '' },
    ENCRYPTION_KEY: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' },
    ENCRYPTION_KEYS_PREVIOUS: { type: 'string', pattern: '^[0-9a-fA-F]{64}(,[0-9a-fA-F]{64})*$' },
    PHONE_HASH_KEY: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' },
    HEALTH_TOKEN: { type: 'string', minLength: 16 },
    SHUTDOWN_DRAIN_MS: { type: 'integer', minimum: 0, maximum: 120000 },
    SHUTDOWN_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 300000, default: 10000 },
    HEALTH_CHECK_TIMEOUT_MS: { type: 'integer', minimum: 10, maximum: 30000, default: 2000 },
    APP_VERSION: { type: 'string', minLength: 1 },
    ADMIN_TOKEN: { type: 'string', minLength: 16 },

    // security edge
    TRUST_PROXY: { type: 'boolean', default: false },
    HSTS_PRELOAD: { type: 'boolean', default: false },
    CORS_ORIGINS: { type: 'string', default: '' },
    REDIS_URL: { type: 'string', format: 'redis-url' },
    RATE_LIMIT_PREFIX: { type: 'string', pattern: '^[A-Za-z0-9:_.-]{1,64}$', default: 'caly:rl' },
    RATE_LIMIT_LOGIN_POINTS: { type: 'integer', minimum: 1, default: 6 },
    RATE_LIMIT_LOGIN_IP_POINTS: { type: 'integer', minimum: 1, default: 30 },
    RATE_LIMIT_LOGIN_WINDOW_S: { type: 'integer', minimum: 1, default: 900 },
    RATE_LIMIT_API_POINTS: { type: 'integer', minimum: 1, default: 100 },
    RATE_LIMIT_API_WINDOW_S: { type: 'integer', minimum: 1, default: 900 },
    RATE_LIMIT_WEBHOOK_POINTS: { type: 'integer', minimum: 1, default: 1000 },
    RATE_LIMIT_WEBHOOK_WINDOW_S: { type: 'integer', minimum: 1, default: 60 },
    RATE_LIMIT_WEBHOOK_AUTH_POINTS: { type: 'integer', minimum: 1, default: 20 },
    RATE_LIMIT_WEBHOOK_AUTH_WINDOW_S: { type: 'integer', minimum: 1, default: 600 },
    RATE_LIMIT_UPLOAD_POINTS: { type: 'integer', minimum: 1, default: 10 },
    RATE_LIMIT_UPLOAD_WINDOW_S: { type: 'integer', minimum: 1, default: 3600 },
    ANOMALY_MODE: { type: 'string', enum: ['monitor', 'block'], default: 'monitor' },
    ANOMALY_BODY_SCAN_BYTES: { type: 'integer', minimum: 0, maximum: 1048576, default: 65536 },

    // audit trail
    AUDIT_JOURNAL_DIR: { type: 'string', minLength: 1 },
    AUDIT_BATCH_SIZE: { type: 'integer', minimum: 1, maximum: 10000, default: 500 },
    AUDIT_FLUSH_INTERVAL_MS: { type: 'integer', minimum: 10, maximum: 60000, default: 200 },
    AUDIT_MAX_BACKLOG: { type: 'integer', minimum: 100, default: 100000 },
    AUDIT_STALL_MS: { type: 'integer', minimum: 100, maximum: 3600000, default: 30000 },
    AUDIT_RETENTION_DAYS: { type: 'integer', minimum: 1, default: 365 },
    AUDIT_PURGE_INTERVAL_MS: { type: 'integer', minimum: 1000, default: 3600000 },
    AUDIT_THROTTLE_PER_MINUTE: { type: 'integer', minimum: 1, default: 60 },
    AUDIT_THROTTLE_WINDOW_S: { type: 'integer', minimum: 1, maximum: 3600, default: 60 },

    // domain: users, tokens, recordings
    PASSWORD_HASH_MEMORY_KIB: { type: 'integer', minimum: 256, maximum: 1048576, default: 19456 },
    ACCESS_TOKEN_TTL_S: { type: 'integer', minimum: 60, maximum: 3600, default: 900 },
    REFRESH_TOKEN_TTL_S: { type: 'integer', minimum: 300, maximum: 7776000, default: 2592000 },
    RECORDINGS_DIR: { type: 'string', minLength: 1 },
    RECORDING_MAX_BYTES: { type: 'integer', minimum: 1024, maximum: 1073741824, default: 26214400 },

    // dependency scanner
    SECURITY_SCAN_INTERVAL: { type: 'string', pattern: '^(off|[1-9][0-9]*(ms|s|m|h|d))$', default: 'off' },
    SECURITY_SCAN_DIR: { type: 'string', minLength: 1, default: './.security-scan' },
    SECURITY_SCAN_KEEP: { type: 'integer', minimum: 1, maximum: 1000, default: 10 },
    OTEL_SERVICE_NAME: { type: 'string', minLength: 1, default: 'caly-api' },
    OTEL_EXPORTER_OTLP_ENDPOINT: { type: 'string', format: 'http-url' },
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: { type: 'string', format: 'http-url' },
    OTEL_TRACES_SAMPLER: {
      type: 'string',
      enum: ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'],
      default: 'parentbased_always_on',
    },
    OTEL_TRACES_SAMPLER_ARG: { type: 'number', minimum: 0, maximum: 1 },
    OTEL_TRACES_EXPORTER: { type: 'string', enum: ['otlp', 'none', 'console'] },
    OTEL_METRICS_EXPORTER: { type: 'string', enum: ['prometheus', 'none'], default: 'prometheus' },
    OTEL_RESOURCE_ATTRIBUTES: { type: 'string', pattern: '^([^=,]+=[^,]*)(,[^=,]+=[^,]*)*$' },
    // Batch span processor; defaults sized in src/platform/telemetry/span-pipeline.ts.
    OTEL_BSP_MAX_QUEUE_SIZE: { type: 'integer', minimum: 1, maximum: 1048576 },
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: { type: 'integer', minimum: 1, maximum: 1048576 },
    OTEL_BSP_SCHEDULE_DELAY: { type: 'integer', minimum: 0, maximum: 600000 },
    OTEL_BSP_EXPORT_TIMEOUT: { type: 'integer', minimum: 1, maximum: 600000 },
  },
} as const;

export type NodeEnv = 'development' | 'production' | 'test';

export interface Config {
  NODE_ENV: NodeEnv;
  HOST: string;
  PORT: number;
  METRICS_HOST: string;
  METRICS_PORT: number;
  PUBLIC_BASE_URL?: string;
  DATABASE_URL?: string;
  DATA_DIR: string;
  DB_POOL_MAX: number;
  DB_POOL_MIN: number;
  DB_IDLE_TIMEOUT: number;
  DB_CONNECTION_TIMEOUT: number;
  DB_STATEMENT_TIMEOUT: number;
  DB_APPLICATION_NAME: string;
  QUERY_CACHE_MAX: number;
  QUERY_CACHE_TTL_MS: number;
  SLOW_QUERY_MS: number;
  SLOW_REQUEST_MS: number;
  REQUEST_TIMEOUT_MS: number;
  BODY_LIMIT_BYTES: number;
  LOG_LEVEL: 'error' | 'warn' | 'info' | 'http' | 'verbose' | 'debug' | 'silly';
  ACCESS_LOG: 'all' | 'errors-and-slow';
  LOG_REDACT_KEYS: string;
  /** Always present after loading: generated (with a warning) outside production. */
  ENCRYPTION_KEY: string;
  /** Comma-separated older keys: they still decrypt (and verify tokens) until `npm run secrets:reencrypt` has run. */
  ENCRYPTION_KEYS_PREVIOUS?: string;
  /** HMAC key of the phone-number search hashes; unset: derived from each encryption key (docs/domain.md). */
  PHONE_HASH_KEY?: string;
  HEALTH_TOKEN?: string;
  SHUTDOWN_DRAIN_MS: number;
  SHUTDOWN_TIMEOUT_MS: number;
  HEALTH_CHECK_TIMEOUT_MS: number;
  APP_VERSION: string;
  /** The platform operator's bearer token (the `platform` role: every tenant's audit trail, the dependency report). */
  ADMIN_TOKEN?: string;

  TRUST_PROXY: boolean;
  HSTS_PRELOAD: boolean;
  /** Comma-separated allowed origins. */
  CORS_ORIGINS: string;
  REDIS_URL?: string;
  /** Store key prefix of the rate limiters (`<prefix>:<limiter>:<bucket>`); tests use their own. */
  RATE_LIMIT_PREFIX: string;
  RATE_LIMIT_LOGIN_POINTS: number;
  /** Login attempts per client address over all accounts (the pair bucket above is per account). */
  RATE_LIMIT_LOGIN_IP_POINTS: number;
  RATE_LIMIT_LOGIN_WINDOW_S: number;
  RATE_LIMIT_API_POINTS: number;
  RATE_LIMIT_API_WINDOW_S: number;
  RATE_LIMIT_WEBHOOK_POINTS: number;
  RATE_LIMIT_WEBHOOK_WINDOW_S: number;
  /** Failed webhook credentials allowed per client address per window, then 429 before any lookup. */
  RATE_LIMIT_WEBHOOK_AUTH_POINTS: number;
  RATE_LIMIT_WEBHOOK_AUTH_WINDOW_S: number;
  RATE_LIMIT_UPLOAD_POINTS: number;
  RATE_LIMIT_UPLOAD_WINDOW_S: number;
  ANOMALY_MODE: 'monitor' | 'block';
  ANOMALY_BODY_SCAN_BYTES: number;

  /** Defaults to DATA_DIR/audit-journal. */
  AUDIT_JOURNAL_DIR: string;
  AUDIT_BATCH_SIZE: number;
  AUDIT_FLUSH_INTERVAL_MS: number;
  AUDIT_MAX_BACKLOG: number;
  /** Pending events and no batch stored for this long: /health/detailed says unhealthy. */
  AUDIT_STALL_MS: number;
  AUDIT_RETENTION_DAYS: number;
  AUDIT_PURGE_INTERVAL_MS: number;
  /** Attack-prone events (security violations, rate-limit hits, access denials) kept per client address per minute. */
  AUDIT_THROTTLE_PER_MINUTE: number;
  /** The throttle's window (60 s, hence the name above); held-back events are summarised when it ends. */
  AUDIT_THROTTLE_WINDOW_S: number;

  /** argon2id memory cost; 19456 KiB (OWASP's floor with t=2) by default. Lower only in tests. */
  PASSWORD_HASH_MEMORY_KIB: number;
  ACCESS_TOKEN_TTL_S: number;
  REFRESH_TOKEN_TTL_S: number;
  /** Defaults to DATA_DIR/recordings. */
  RECORDINGS_DIR: string;
  RECORDING_MAX_BYTES: number;

  /** `off`, or a duration such as `30m`, `6h`, `1d`. */
  SECURITY_SCAN_INTERVAL: string;
  SECURITY_SCAN_DIR: string;
  SECURITY_SCAN_KEEP: number;
  OTEL_SERVICE_NAME: string;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;
  OTEL_TRACES_SAMPLER: string;
  OTEL_TRACES_SAMPLER_ARG?: number;
  OTEL_TRACES_EXPORTER?: 'otlp' | 'none' | 'console';
  OTEL_METRICS_EXPORTER: 'prometheus' | 'none';
  OTEL_RESOURCE_ATTRIBUTES?: string;
  OTEL_BSP_MAX_QUEUE_SIZE?: number;
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE?: number;
  OTEL_BSP_SCHEDULE_DELAY?: number;
  OTEL_BSP_EXPORT_TIMEOUT?: number;
}
