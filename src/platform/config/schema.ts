import type { FromSchema } from 'json-schema-to-ts';

/**
 * Every environment variable the service reads, with its type, bounds and default. This schema is
 * the single source of truth: `.env.example` documents the same list and a test keeps them equal.
 */
export const configSchema = {
  type: 'object',
  additionalProperties: false,
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
    DB_PREPARED_STATEMENTS: { type: 'integer', minimum: 0, maximum: 10000, default: 200 },
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

/** What the schema admits, with each defaulted variable present (json-schema-to-ts reads the schema itself). */
type Validated = FromSchema<typeof configSchema>;

/** Variables loadConfig fills in after validation when unset (derived from others, or generated). */
type Derived = 'ENCRYPTION_KEY' | 'AUDIT_JOURNAL_DIR' | 'RECORDINGS_DIR' | 'SHUTDOWN_DRAIN_MS' | 'APP_VERSION';

/**
 * The configuration, derived from the schema above: a variable added there is typed here, with no
 * hand-kept copy to drift. Read-only once loaded.
 */
export type Config = Readonly<Omit<Validated, Derived> & Required<Pick<Validated, Derived>>>;

/** The same, while loadConfig is still filling in the derived variables. */
export type MutableConfig = Omit<Validated, Derived> & Partial<Pick<Validated, Derived>>;
