import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { deepFreeze } from '../lib/digest.js';
import { LoadError } from '../lib/load-error.js';

/**
 * The gateway's configuration: defaults, then an optional JSON file (SNITFLADE_CONFIG), then
 * environment variables. Validated by a JSON Schema and deep-frozen; nothing changes it at run time.
 */
export interface GatewayConfig {
  /** The token audience callers use and the issuer of the gateway's own tokens. */
  readonly gatewayId: string;
  /** Names this instance's audit chain; unique per running instance. */
  readonly instanceId: string;
  readonly listen: { readonly host: string; readonly port: number };
  readonly paths: {
    readonly root: string;
    readonly certs: string;
    readonly data: string;
    readonly schemas: string;
    readonly policies: string;
  };
  readonly store: { readonly kind: 'sqlite'; readonly file: string } | { readonly kind: 'postgres'; readonly url: string };
  readonly tokens: { readonly maxLifetimeSeconds: number; readonly clockToleranceSeconds: number };
  readonly upstream: { readonly timeoutMs: number; readonly maxResponseBytes: number };
  readonly limits: { readonly bodyBytes: number };
  /** Where each provider/recipient system is reached, overriding policies/clients.yaml. */
  readonly endpoints: Readonly<Record<string, string>>;
  readonly log: { readonly level: string; readonly file?: string; readonly console: boolean };
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };
export type ConfigInput = DeepPartial<GatewayConfig>;

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['gatewayId', 'instanceId', 'listen', 'paths', 'store', 'tokens', 'upstream', 'limits', 'endpoints', 'log'],
  properties: {
    gatewayId: { type: 'string', pattern: '^[a-z0-9][a-z0-9.-]{1,62}$' },
    instanceId: { type: 'string', pattern: '^[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}$' },
    listen: {
      type: 'object', additionalProperties: false, required: ['host', 'port'],
      properties: { host: { type: 'string', minLength: 1 }, port: { type: 'integer', minimum: 0, maximum: 65535 } },
    },
    paths: {
      type: 'object', additionalProperties: false, required: ['root', 'certs', 'data', 'schemas', 'policies'],
      properties: {
        root: { type: 'string', minLength: 1 }, certs: { type: 'string', minLength: 1 }, data: { type: 'string', minLength: 1 },
        schemas: { type: 'string', minLength: 1 }, policies: { type: 'string', minLength: 1 },
      },
    },
    store: {
      oneOf: [
        { type: 'object', additionalProperties: false, required: ['kind', 'file'], properties: { kind: { const: 'sqlite' }, file: { type: 'string', minLength: 1 } } },
        { type: 'object', additionalProperties: false, required: ['kind', 'url'], properties: { kind: { const: 'postgres' }, url: { type: 'string', pattern: '^postgres(ql)?://' } } },
      ],
    },
    tokens: {
      type: 'object', additionalProperties: false, required: ['maxLifetimeSeconds', 'clockToleranceSeconds'],
      properties: { maxLifetimeSeconds: { type: 'integer', minimum: 1, maximum: 300 }, clockToleranceSeconds: { type: 'integer', minimum: 0, maximum: 120 } },
    },
    upstream: {
      type: 'object', additionalProperties: false, required: ['timeoutMs', 'maxResponseBytes'],
      properties: { timeoutMs: { type: 'integer', minimum: 1, maximum: 120000 }, maxResponseBytes: { type: 'integer', minimum: 1024, maximum: 67108864 } },
    },
    limits: {
      type: 'object', additionalProperties: false, required: ['bodyBytes'],
      properties: { bodyBytes: { type: 'integer', minimum: 256, maximum: 10485760 } },
    },
    endpoints: { type: 'object', additionalProperties: { type: 'string', pattern: '^https://' } },
    log: {
      type: 'object', additionalProperties: false, required: ['level', 'console'],
      properties: { level: { enum: ['error', 'warn', 'info', 'debug'] }, file: { type: 'string' }, console: { type: 'boolean' } },
    },
  },
} as const;

const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);

/** The defaults, relative to a project root (the repository in development). */
export function defaultConfig(root: string): GatewayConfig {
  return {
    gatewayId: 'snitflade-gateway',
    instanceId: 'gw1',
    listen: { host: '127.0.0.1', port: 8443 },
    paths: {
      root,
      certs: path.join(root, 'certs'),
      data: path.join(root, 'data'),
      schemas: path.join(root, 'schemas'),
      policies: path.join(root, 'policies'),
    },
    store: { kind: 'sqlite', file: path.join(root, 'data', 'snitflade.db') },
    tokens: { maxLifetimeSeconds: 300, clockToleranceSeconds: 30 },
    upstream: { timeoutMs: 5000, maxResponseBytes: 1048576 },
    limits: { bodyBytes: 65536 },
    endpoints: {},
    log: { level: 'info', console: true },
  };
}

function merge<T>(base: T, over: unknown): T {
  if (over === undefined) return base;
  if (base === null || typeof base !== 'object' || Array.isArray(base) || over === null || typeof over !== 'object' || Array.isArray(over)) {
    return over as T;
  }
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  // A store is chosen whole: a PostgreSQL store does not inherit the SQLite file.
  for (const [k, v] of Object.entries(over as Record<string, unknown>)) out[k] = k === 'store' ? v : merge(out[k], v);
  return out as T;
}

/** Configuration from the environment (SNITFLADE_*, DATABASE_URL), as a partial input. */
export function configFromEnv(env: NodeJS.ProcessEnv): ConfigInput {
  const input: Record<string, unknown> = {};
  const set = (keys: string[], value: unknown): void => {
    let node = input;
    for (const k of keys.slice(0, -1)) node = (node[k] ??= {}) as Record<string, unknown>;
    node[keys[keys.length - 1]!] = value;
  };
  const int = (name: string): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    if (!/^[0-9]+$/.test(raw)) throw new LoadError(`environment ${name}`, '', `must be a whole number, got "${raw.slice(0, 20)}"`);
    return Number(raw);
  };
  if (env.SNITFLADE_GATEWAY_ID) set(['gatewayId'], env.SNITFLADE_GATEWAY_ID);
  if (env.SNITFLADE_INSTANCE_ID) set(['instanceId'], env.SNITFLADE_INSTANCE_ID);
  if (env.SNITFLADE_HOST) set(['listen', 'host'], env.SNITFLADE_HOST);
  const port = int('SNITFLADE_PORT');
  if (port !== undefined) set(['listen', 'port'], port);
  if (env.SNITFLADE_CERTS_DIR) set(['paths', 'certs'], path.resolve(env.SNITFLADE_CERTS_DIR));
  if (env.SNITFLADE_DATA_DIR) {
    set(['paths', 'data'], path.resolve(env.SNITFLADE_DATA_DIR));
    set(['store'], { kind: 'sqlite', file: path.join(path.resolve(env.SNITFLADE_DATA_DIR), 'snitflade.db') });
  }
  const dbUrl = env.DATABASE_URL ?? env.SNITFLADE_DATABASE_URL;
  if (dbUrl) set(['store'], { kind: 'postgres', url: dbUrl });
  const timeout = int('SNITFLADE_UPSTREAM_TIMEOUT_MS');
  if (timeout !== undefined) set(['upstream', 'timeoutMs'], timeout);
  if (env.SNITFLADE_LOG_LEVEL) set(['log', 'level'], env.SNITFLADE_LOG_LEVEL);
  if (env.SNITFLADE_LOG_FILE) set(['log', 'file'], path.resolve(env.SNITFLADE_LOG_FILE));
  return input as ConfigInput;
}

/**
 * Builds the frozen configuration: defaults < config file < environment < `overrides`.
 * Throws LoadError naming the setting that is wrong.
 */
export function loadConfig(options: { root: string; env?: NodeJS.ProcessEnv; overrides?: ConfigInput }): GatewayConfig {
  const env = options.env ?? {};
  let merged: unknown = defaultConfig(options.root);
  const file = env.SNITFLADE_CONFIG;
  if (file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new LoadError(file, '', `cannot read the configuration file: ${(err as Error).message}`);
    }
    merged = merge(merged, parsed);
  }
  merged = merge(merged, configFromEnv(env));
  merged = merge(merged, options.overrides);
  if (!validate(merged)) {
    const first = validate.errors?.[0];
    throw new LoadError(file ?? 'configuration', first?.instancePath ?? '', `${first?.message ?? 'invalid'}`);
  }
  return deepFreeze(merged as GatewayConfig);
}
