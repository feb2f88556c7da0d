import { scrubText } from '../platform/logging/redact';
/**
 * Tenant administration from the command line: how a newcomer gets a login (docs/domain.md).
 *
 *   npm run tenant:create -- --name "Acme" --sector ecommerce --exophone +918047112345 \
 *     --owner-email owner@acme.test --owner-password '…'          (or CALY_OWNER_PASSWORD=… )
 *   npm run tenant:add-user -- --tenant <id> --email a@acme.test --role agent --password '…'
 *   npm run tenant:rotate-webhook -- --tenant <id>
 *
 * Prints the webhook URLs with the credential exactly once (only its hash is stored). `--json`
 * prints one JSON object instead, for scripts. Exit 0 on success, 1 with one readable message.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { JSONSchemaType } from 'ajv';
import { createPasswordHasher, PASSWORD_MAX, PASSWORD_MIN } from '../platform/crypto/passwords';
import { ROLES, type Role } from '../modules/tenants/roles';
import { insertUser } from '../modules/tenants/users';
import { ConfigError, loadConfig, type Config } from '../platform/config';
import { createServiceKeys } from '../platform/crypto/keys';
import { compileInput, schemas } from '../platform/validation';
import { openCliDatabase, type CliDatabase } from '../platform/db/cli-database';
import { insertTenant, rotateWebhookCredential } from '../modules/tenants/repository';
import { SECTORS, type Sector } from '../modules/tenants/sectors';
import { MIGRATIONS } from '../modules';

class UsageError extends Error {}
/** A flag the parser does not know, or a missing value: exit 2 with the usage, like the scanner CLI. */
class BadFlagError extends Error {}

const USAGE = `Usage:
  npm run tenant:create -- --name <name> --sector <sector> --exophone <E.164> [--exophone …]
                           --owner-email <email> --owner-password <password> [options]
  npm run tenant:add-user -- --tenant <id> --email <email> --role <owner|admin|agent|viewer> --password <password>
  npm run tenant:rotate-webhook -- --tenant <id>

Options of create:
  --exotel-sid <sid> --exotel-api-key <key> --exotel-api-token <token>   Exotel account (stored encrypted)
  --webhook-allow <cidr>        addresses allowed to call the webhooks (repeatable; default: any)
  --passthru-response <200|302> answer of the sync Passthru applet (default: 200)
  The owner password may come from CALY_OWNER_PASSWORD instead of --owner-password.
Common:
  --json                        print one JSON object (for scripts)
  -h, --help                    show this help

Example:
  npm run tenant:create -- --name "Acme" --sector ecommerce --exophone +918047112345 \\
    --owner-email owner@acme.test --owner-password 'a long passphrase'

Exit codes: 0 done, 1 refused (invalid value, duplicate, database), 2 usage error.
`;

interface CreateArgs {
  name: string;
  sector: Sector;
  exophone: string[];
  ownerEmail: string;
  ownerPassword: string;
  exotelSid?: string;
  exotelApiKey?: string;
  exotelApiToken?: string;
  webhookAllow?: string[];
  passthruResponse?: 200 | 302;
}

const password = { type: 'string', minLength: PASSWORD_MIN, maxLength: PASSWORD_MAX } as const;
const createSchema: JSONSchemaType<CreateArgs> = {
  type: 'object',
  properties: {
    name: { type: 'string', trim: true, minLength: 1, maxLength: 200 },
    sector: { type: 'string', enum: [...SECTORS] },
    exophone: { type: 'array', minItems: 1, maxItems: 50, uniqueItems: true, items: schemas.phone },
    ownerEmail: schemas.email,
    ownerPassword: password,
    exotelSid: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$', nullable: true },
    exotelApiKey: { type: 'string', minLength: 1, maxLength: 512, nullable: true },
    exotelApiToken: { type: 'string', minLength: 1, maxLength: 512, nullable: true },
    webhookAllow: { type: 'array', maxItems: 100, items: { type: 'string', pattern: '^[0-9a-fA-F.:]+(/[0-9]{1,3})?$' }, nullable: true },
    passthruResponse: { type: 'integer', enum: [200, 302], nullable: true },
  },
  required: ['name', 'sector', 'exophone', 'ownerEmail', 'ownerPassword'],
};

interface AddUserArgs {
  tenant: string;
  email: string;
  role: Role;
  password: string;
}
const addUserSchema: JSONSchemaType<AddUserArgs> = {
  type: 'object',
  properties: { tenant: schemas.uuid, email: schemas.email, role: { type: 'string', enum: [...ROLES] }, password },
  required: ['tenant', 'email', 'role', 'password'],
};

interface RotateArgs {
  tenant: string;
}
const rotateSchema: JSONSchemaType<RotateArgs> = { type: 'object', properties: { tenant: schemas.uuid }, required: ['tenant'] };

/** Flags in, validated object out; errors name the flag (`--owner-email`), not a JSON pointer. */
function check<T>(schema: JSONSchemaType<T>, raw: Record<string, unknown>): T {
  const result = compileInput<{ body: T }>({ body: schema } as never)({ body: raw });
  if (result.ok) return result.input.body;
  const flag = (path: string) =>
    '--' +
    path
      .replace(/^\/body\/?/, '')
      .split('/')[0]!
      .replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  throw new UsageError(result.errors.map((e) => `${flag(e.path)} ${e.message}`).join('\n'));
}

function webhookBase(config: Config): string {
  const base = config.PUBLIC_BASE_URL ?? `http://127.0.0.1:${config.PORT}`;
  return `${base.replace(/\/$/, '')}/webhooks/exotel`;
}

async function create(db: CliDatabase, config: Config, flags: Record<string, unknown>, json: boolean) {
  const args = check(createSchema, {
    ...flags,
    ownerPassword: flags.ownerPassword ?? process.env.CALY_OWNER_PASSWORD,
    passthruResponse: flags.passthruResponse === undefined ? undefined : Number(flags.passthruResponse),
  });
  const keys = createServiceKeys(config);
  const hasher = createPasswordHasher(config.PASSWORD_HASH_MEMORY_KIB);
  const passwordHash = await hasher.hash(args.ownerPassword);
  const out = await db.transaction(async (tx) => {
    const exotel = {
      ...(args.exotelSid ? { accountSid: args.exotelSid } : {}),
      ...(args.exotelApiKey ? { apiKey: args.exotelApiKey } : {}),
      ...(args.exotelApiToken ? { apiToken: args.exotelApiToken } : {}),
    };
    const tenant = await insertTenant(tx, keys.keyring, {
      name: args.name,
      sector: args.sector,
      exophones: args.exophone,
      exotel,
      ...(args.webhookAllow ? { webhookIpAllowlist: args.webhookAllow } : {}),
      ...(args.passthruResponse ? { passthruResponse: args.passthruResponse } : {}),
    });
    const ownerId = await insertUser(tx, { tenantId: tenant.id, email: args.ownerEmail, passwordHash, role: 'owner' });
    return { ...tenant, ownerId };
  });
  const base = `${webhookBase(config)}/${out.webhookCredential}`;
  const result = {
    tenantId: out.id,
    ownerId: out.ownerId,
    ownerEmail: args.ownerEmail,
    exophones: args.exophone,
    webhookCredential: out.webhookCredential,
    passthruUrl: `${base}/passthru`,
    statusCallbackUrl: `${base}/status`,
  };
  if (json) return result;
  return [
    `Tenant "${args.name}" created (id ${out.id}, sector ${args.sector}).`,
    `Owner login: ${args.ownerEmail} (role owner). Log in with POST /api/auth/login.`,
    `ExoPhones: ${args.exophone.join(', ')}`,
    '',
    'Webhook credential (shown ONCE; only its hash is stored; rotate with npm run tenant:rotate-webhook):',
    `  ${out.webhookCredential}`,
    `Passthru applet URL (GET):     ${result.passthruUrl}`,
    `StatusCallback URL (POST):     ${result.statusCallbackUrl}`,
  ].join('\n');
}

async function addUser(db: CliDatabase, config: Config, flags: Record<string, unknown>, json: boolean) {
  const args = check(addUserSchema, { ...flags, password: flags.password ?? process.env.CALY_USER_PASSWORD });
  const passwordHash = await createPasswordHasher(config.PASSWORD_HASH_MEMORY_KIB).hash(args.password);
  const id = await insertUser(db, { tenantId: args.tenant, email: args.email, passwordHash, role: args.role });
  return json ? { userId: id, email: args.email, role: args.role, tenantId: args.tenant } : `User ${args.email} (${args.role}) created with id ${id}.`;
}

async function rotate(db: CliDatabase, config: Config, flags: Record<string, unknown>, json: boolean) {
  const args = check(rotateSchema, flags);
  const credential = await rotateWebhookCredential(db, args.tenant);
  if (!credential) throw new UsageError(`no tenant with id ${args.tenant}`);
  const base = `${webhookBase(config)}/${credential}`;
  const result = { tenantId: args.tenant, webhookCredential: credential, passthruUrl: `${base}/passthru`, statusCallbackUrl: `${base}/status` };
  if (json) return result;
  return [
    'New webhook credential (shown ONCE). The previous one no longer works: update the Exotel applets now.',
    `  ${credential}`,
    `Passthru applet URL (GET):     ${result.passthruUrl}`,
    `StatusCallback URL (POST):     ${result.statusCallbackUrl}`,
  ].join('\n');
}

const COMMANDS = { create, 'add-user': addUser, 'rotate-webhook': rotate } as const;

async function main(): Promise<void> {
  if (process.argv.slice(2).some((a) => a === '--help' || a === '-h')) {
    process.stdout.write(USAGE);
    return;
  }
  const { values, positionals } = parseFlags({
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      sector: { type: 'string' },
      exophone: { type: 'string', multiple: true },
      'owner-email': { type: 'string' },
      'owner-password': { type: 'string' },
      'exotel-sid': { type: 'string' },
      'exotel-api-key': { type: 'string' },
      'exotel-api-token': { type: 'string' },
      'webhook-allow': { type: 'string', multiple: true },
      'passthru-response': { type: 'string' },
      tenant: { type: 'string' },
      email: { type: 'string' },
      role: { type: 'string' },
      password: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const command = positionals[0] ?? 'create';
  if (!(command in COMMANDS)) throw new BadFlagError(`unknown command "${command}" (create, add-user, rotate-webhook)`);
  const flags: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) if (k !== 'json' && v !== undefined) flags[k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = v;

  const { config } = loadConfig(process.env);
  const db = await openCliDatabase(config, MIGRATIONS);
  try {
    const json = values.json === true;
    const out =
      command === 'create' ? await create(db, config, flags, json) : await COMMANDS[command as 'add-user' | 'rotate-webhook'](db, config, flags, json);
    process.stdout.write(`${typeof out === 'string' ? out : JSON.stringify(out)}\n`);
  } finally {
    await db.close();
  }
}

/** parseArgs' own errors name the flag but read like a stack trace's first line; they are usage errors. */
function parseFlags<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    throw new BadFlagError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

main().catch((err: unknown) => {
  if (err instanceof BadFlagError) {
    process.stderr.write(`tenant: ${err.message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const known = err instanceof UsageError || err instanceof ConfigError;
  const code = (err as { code?: unknown }).code;
  const message = known
    ? (err as Error).message
    : code === '23505'
      ? 'already exists: that email or ExoPhone is taken'
      : code === '23503'
        ? 'no such tenant'
        : `failed: ${(err as Error).message}`;
  // Through the logger's value pass: an error may quote an argument (a number, a URL).
  process.stderr.write(`tenant: ${scrubText(message)}\n`);
  process.exitCode = 1;
});
