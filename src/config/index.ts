import { randomBytes } from 'node:crypto';
import { Ajv } from 'ajv';
import { configSchema, type Config } from './schema';

export type { Config } from './schema';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

// Env values are strings: coerce to the schema's types, but only for the keys the schema knows.
const ajv = new Ajv({ allErrors: true, coerceTypes: true, useDefaults: true, strict: true });
ajv.addFormat('http-url', (v: string) => {
  try {
    const u = new URL(v);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
});
ajv.addFormat('postgres-url', (v: string) => {
  try {
    const u = new URL(v);
    return u.protocol === 'postgres:' || u.protocol === 'postgresql:';
  } catch {
    return false;
  }
});
ajv.addFormat('redis-url', (v: string) => {
  try {
    const u = new URL(v);
    return u.protocol === 'redis:' || u.protocol === 'rediss:';
  } catch {
    return false;
  }
});
const validate = ajv.compile(configSchema);

const KNOWN_KEYS = Object.keys(configSchema.properties) as (keyof typeof configSchema.properties)[];

function describe(err: { instancePath: string; keyword: string; message?: string; params: Record<string, unknown> }): string {
  const key = err.instancePath.replace(/^\//, '');
  switch (err.keyword) {
    case 'pattern':
      if (key === 'ENCRYPTION_KEY' || key === 'PHONE_HASH_KEY') return `${key} must be exactly 64 hexadecimal characters (32 bytes)`;
      if (key === 'ENCRYPTION_KEYS_PREVIOUS') return `${key} must be a comma-separated list of 64-hexadecimal-character keys`;
      return `${key} has an invalid format`;
    case 'format':
      return `${key} must be a valid ${String(err.params.format)}`;
    case 'enum':
      return `${key} must be one of: ${(err.params.allowedValues as unknown[]).join(', ')}`;
    default:
      return `${key} ${err.message ?? 'is invalid'}`;
  }
}

export interface LoadedConfig {
  config: Config;
  /** Things worth a warning at startup (generated key …); never secret values. */
  warnings: string[];
}

/**
 * Validates the environment. Collects every problem before failing so that an operator fixes a
 * bad deployment in one go. Values are never echoed back: a mistyped secret must not reach logs.
 */
export function loadConfig(env: NodeJS.ProcessEnv): LoadedConfig {
  const raw: Record<string, unknown> = {};
  for (const key of KNOWN_KEYS) {
    const v = env[key];
    if (v !== undefined && v !== '') raw[key] = v;
  }
  const problems: string[] = [];
  if (!validate(raw)) {
    for (const err of validate.errors ?? []) problems.push(describe(err));
  }
  const c = raw as unknown as Config;
  const warnings: string[] = [];
  if (problems.length === 0) {
    if (c.DB_POOL_MIN > c.DB_POOL_MAX) problems.push('DB_POOL_MIN must not exceed DB_POOL_MAX');
    if (c.NODE_ENV === 'production') {
      if (!c.ENCRYPTION_KEY) problems.push('ENCRYPTION_KEY is required in production (64 hexadecimal characters)');
      if (!c.DATABASE_URL) problems.push('DATABASE_URL is required in production (the embedded database is for development)');
      if (!c.HEALTH_TOKEN) problems.push('HEALTH_TOKEN is required in production (guards /health/detailed and /health/metrics)');
      if (!c.PUBLIC_BASE_URL) problems.push('PUBLIC_BASE_URL is required in production (HTTPS redirects go there, never to the Host header)');
    }
    if (c.PORT !== 0 && c.PORT === c.METRICS_PORT) problems.push('METRICS_PORT must differ from PORT');
  }
  if (problems.length > 0) throw new ConfigError(problems);

  if (!c.ENCRYPTION_KEY) {
    c.ENCRYPTION_KEY = randomBytes(32).toString('hex');
    warnings.push('ENCRYPTION_KEY is not set: generated a random key for this process; data encrypted now cannot be read after a restart');
  }
  c.RECORDINGS_DIR ??= `${c.DATA_DIR.replace(/\/$/, '')}/recordings`;
  c.AUDIT_JOURNAL_DIR ??= `${c.DATA_DIR.replace(/\/$/, '')}/audit-journal`;
  c.SHUTDOWN_DRAIN_MS ??= c.NODE_ENV === 'production' ? 5000 : 0;
  c.APP_VERSION ??= process.env.npm_package_version ?? '0.1.0';
  return { config: c, warnings };
}

/** The names loadConfig reads, for `.env.example` drift checks. */
export const CONFIG_KEYS: readonly string[] = KNOWN_KEYS;
