import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { configSchema, type Config, type MutableConfig } from './schema';

export type { Config } from './schema';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

// Env values are strings: coerce to the schema's types, but only for the keys the schema knows.
const ajv = new Ajv({ allErrors: true, coerceTypes: true, useDefaults: true, strict: true });
/** A URL format: parses as a URL and `accepts` it (an unparsable value is simply invalid). */
const urlFormat = (accepts: (u: URL) => boolean) => (v: string) => URL.canParse(v) && accepts(new URL(v));
ajv.addFormat(
  'http-url',
  urlFormat((u) => (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== ''),
);
ajv.addFormat(
  'postgres-url',
  urlFormat((u) => u.protocol === 'postgres:' || u.protocol === 'postgresql:'),
);
ajv.addFormat(
  'redis-url',
  urlFormat((u) => u.protocol === 'redis:' || u.protocol === 'rediss:'),
);
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
  const c = raw as unknown as MutableConfig;
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
    const dev = developmentKey(c.DATA_DIR);
    if ('problem' in dev) throw new ConfigError([dev.problem]);
    c.ENCRYPTION_KEY = dev.key;
    warnings.push(
      dev.created
        ? `ENCRYPTION_KEY is not set: generated a development key in ${dev.path} (mode 0600), reused on every start; back it up with DATA_DIR, production requires ENCRYPTION_KEY`
        : `ENCRYPTION_KEY is not set: using the development key in ${dev.path}`,
    );
  }
  c.RECORDINGS_DIR ??= `${c.DATA_DIR.replace(/\/$/, '')}/recordings`;
  c.AUDIT_JOURNAL_DIR ??= `${c.DATA_DIR.replace(/\/$/, '')}/audit-journal`;
  c.SHUTDOWN_DRAIN_MS ??= c.NODE_ENV === 'production' ? 5000 : 0;
  c.APP_VERSION ??= process.env.npm_package_version ?? '0.1.0';
  return { config: c as Config, warnings };
}

/** Where the development key lives: beside the data it encrypts, so both move (or vanish) together. */
export const developmentKeyPath = (dataDir: string) => join(resolve(dataDir), 'encryption.key');

/**
 * Outside production, a missing ENCRYPTION_KEY is generated once and kept under DATA_DIR: a key
 * made afresh on each start would make every encrypted value unreadable after a restart. The file
 * is created exclusively (two processes starting at once agree on one key) with mode 0600.
 */
function developmentKey(dataDir: string): { key: string; path: string; created: boolean } | { problem: string } {
  const path = developmentKeyPath(dataDir);
  mkdirSync(resolve(dataDir), { recursive: true });
  let created = false;
  try {
    const fd = openSync(path, 'wx', 0o600);
    writeSync(fd, `${randomBytes(32).toString('hex')}\n`);
    closeSync(fd);
    created = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
      return { problem: `ENCRYPTION_KEY is not set and the development key ${path} cannot be created: ${(err as Error).message}` };
  }
  const key = readFileSync(path, 'utf8').trim();
  if (!/^[0-9a-fA-F]{64}$/.test(key))
    return { problem: `the development key ${path} is not 64 hexadecimal characters: restore it from a backup (deleting it makes encrypted data unreadable)` };
  return { key, path, created };
}

/** The names loadConfig reads, for `.env.example` drift checks. */
export const CONFIG_KEYS: readonly string[] = KNOWN_KEYS;
