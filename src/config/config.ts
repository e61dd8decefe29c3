import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { deepFreeze } from '../lib/deep-freeze.js';
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
    /** The certificate revocation list (PEM, signed by the CA); default <certs>/ca/crl.pem if present. */
    readonly crl?: string;
  };
  /** SQLite: `busyTimeoutMs` is how long a write waits for another process's lock; the wait blocks the store's worker thread, and the store calls queued behind it (default 2000). */
  readonly store:
    | { readonly kind: 'sqlite'; readonly file: string; readonly busyTimeoutMs?: number }
    | { readonly kind: 'postgres'; readonly url: string };
  readonly tokens: { readonly maxLifetimeSeconds: number; readonly clockToleranceSeconds: number };
  readonly upstream: { readonly timeoutMs: number; readonly maxResponseBytes: number };
  readonly limits: {
    readonly bodyBytes: number;
    /** Per client system: sustained requests per second and the burst allowed above it (token bucket). */
    readonly ratePerSecond: number;
    readonly burst: number;
    /** Per client system: requests in progress at once. */
    readonly concurrency: number;
    /** Per provider system: requests waiting for its answer at once, from all callers together (keep it below `concurrency`). */
    readonly providerConcurrency: number;
    /** Open connections the server accepts at once (TLS included). */
    readonly maxConnections: number;
    /** Time a client has to finish its TLS handshake, to send all headers, and to send the whole request. */
    readonly handshakeTimeoutMs: number;
    readonly headersTimeoutMs: number;
    readonly requestTimeoutMs: number;
    /** On shutdown: how long in-flight requests may take to finish before connections are closed. */
    readonly shutdownGraceMs: number;
  };
  /** Where each provider/recipient system is reached, overriding policies/clients.yaml. */
  readonly endpoints: Readonly<Record<string, string>>;
  /**
   * Consent: how long one consent look-up may take before it denies (fail closed); how many days
   * before today a consent recorded by a caseworker (a back-dated paper form) may start (default
   * 7; such a consent is flagged); and the consent services trusted to sign consent artefacts
   * (docs/consent-and-notifications.md, "A consent service"). Default: none trusted.
   */
  readonly consent: {
    readonly timeoutMs: number;
    readonly backdateGraceDays: number;
    readonly issuers: readonly ConsentIssuerConfig[];
  };
  /**
   * The relations register: how many days before today a relation's start (`from`) may lie when it
   * is registered or moved (default 365), so that a relation cannot be backdated to cover past
   * disclosures. A registration that starts before today is marked RELATION_BACKDATED in the trail.
   */
  readonly relations: { readonly backdateDays: number };
  /**
   * Notification delivery (src/outbox/): attempts before a delivery is dead-lettered, exponential
   * backoff with jitter between attempts, how often the worker looks for due deliveries, how long
   * a claimed delivery is leased to one instance, and how long a dead letter keeps its payload.
   */
  readonly notifications: {
    readonly worker: boolean;
    readonly maxAttempts: number;
    readonly baseDelayMs: number;
    readonly maxDelayMs: number;
    readonly pollMs: number;
    readonly leaseMs: number;
    readonly batch: number;
    readonly deadLetterRetentionMs: number;
    /**
     * How long a delivery that ended (delivered, cancelled, or a dead letter whose payload was
     * erased) and the answer to an Idempotency-Key are kept before they are deleted: also the
     * window in which a re-sent notification is recognised.
     */
    readonly finishedRetentionMs: number;
  };
  /**
   * The audit trail (docs/AUDIT.md): a signed checkpoint every `checkpointEveryRecords` records
   * or `checkpointEverySeconds` seconds; records deleted `retentionDays` after they were
   * written, and only once exported (absent: kept); the exchanges' records of each purpose
   * erased once past the purpose's retention and exported (`purposeRetention`, default on); the
   * caseworker's identity shown in citizens'
   * access reports or not (default not); audit records forwarded to a SIEM as JSON lines; the
   * pseudonym keys (files relative to the certificate folder: the current one and those rotated
   * out but still needed to search); the public keys (PEM files, same folder) of retired
   * checkpoint signing keys, so that older checkpoints still verify.
   */
  readonly audit: {
    readonly checkpointEveryRecords: number;
    readonly checkpointEverySeconds: number;
    readonly retentionDays?: number;
    /** Each purpose's retention (purposes.yaml) erases the exported records past it (default true; false: a legal hold). */
    readonly purposeRetention: boolean;
    /**
     * The shortest retention (ISO 8601, years, months, weeks, days) a purpose may have and still be
     * applied (default P1Y): a purpose with a shorter one is not applied, its records are kept and
     * the retention job says so. Someone who can write to the policies folder cannot make the
     * gateway erase within days.
     */
    readonly minimumPurposeRetention: string;
    readonly reportIncludesEmployee: boolean;
    readonly siem: { readonly target: 'off' | 'stdout' | 'file'; readonly file?: string };
    readonly pseudonymKeys: { readonly current: string; readonly previous: readonly string[] };
    readonly previousSigningKeys: readonly string[];
  };
  /**
   * Signed policies (docs/POLICY-APPROVALS.md): a policy is in force only with the approvals it
   * requires, detached JWS signatures over its canonical content by the approvers configured here
   * (`approvers`: id, title, public keys as PEM files relative to the certificate folder). Every
   * policy needs the approvers in `required`, and a policy named in `requiredPerPolicy` those too.
   * `requireApprovals` is true by default: a gateway refuses to start (and a reload is refused)
   * while a policy lacks one, and while no approver is configured. Only `npm start` (src/demo.ts)
   * defaults it to false, and says so, to run the repository's unsigned example policies.
   * `revoked` withdraws approvals: an approval of a listed policy version (or content digest)
   * no longer counts (src/policy/approvals/revoked.ts).
   */
  readonly policies: {
    readonly requireApprovals: boolean;
    readonly approvers: readonly ApproverConfig[];
    readonly required: readonly string[];
    readonly requiredPerPolicy: Readonly<Record<string, readonly string[]>>;
    readonly revoked: readonly RevokedPolicy[];
  };
  readonly log: { readonly level: string; readonly file?: string; readonly console: boolean };
  /**
   * `npm start` only (src/demo.ts): the simulated provider systems listen on consecutive ports from
   * `firstPort`, in the order of SIMULATED_SYSTEMS. Absent: the gateway's port + 1 (8444 by
   * default), or ephemeral ports when the gateway's port is 0. A gateway alone never starts them.
   */
  readonly simulators?: { readonly firstPort: number };
}

/**
 * A consent service the municipality trusts (Digitalt Samtykke through an adapter, or the demo's
 * simulated one): the issuer id its artefacts carry (`iss`), its public keys (PEM SPKI files by
 * `kid`, and/or a JWKS file: EC P-256 for ES256 only), and where it answers the in-force look-up
 * (`url`, https, over mutual TLS with the gateway's client certificate; `caFile` the CA that
 * signs its TLS certificate, default the gateway's own, ca/ca.crt.pem). Relative files are in the
 * certificate folder, as the audit keys are. Loaded by src/consent/issuers.ts.
 */
export interface ConsentIssuerConfig {
  readonly id: string;
  readonly publicKeys?: readonly { readonly kid: string; readonly file: string }[];
  readonly jwksFile?: string;
  readonly url?: string;
  readonly caFile?: string;
}

/**
 * A policy version whose approvals no longer count: by policy id and version, or by content
 * digest (64 hex, as `snitflade policy approvals` shows it). See docs/POLICY-APPROVALS.md.
 */
export type RevokedPolicy = { readonly policy: string; readonly version: number } | { readonly digest: string };

/**
 * Someone whose signature a policy may need (e.g. the legal office of an administration, the
 * DPO): an id (the `kid` of their signatures), a title for people to read, and their public keys
 * (PEM SPKI files, relative to the certificate folder; EC P-256 for ES256 or Ed25519 for EdDSA).
 * More than one key only while a key is being rotated. Loaded by src/policy/approvals/approvers.ts.
 */
export interface ApproverConfig {
  readonly id: string;
  readonly title: string;
  readonly publicKeys: readonly { readonly file: string }[];
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };
export type ConfigInput = DeepPartial<GatewayConfig>;

/** An approver's id: the `kid` of the approvals they sign. */
export const APPROVER_ID = '^[a-z][a-z0-9]*(-[a-z0-9]+)*$';

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['gatewayId', 'instanceId', 'listen', 'paths', 'store', 'tokens', 'upstream', 'limits', 'endpoints', 'log'],
  properties: {
    gatewayId: { type: 'string', pattern: '^[a-z0-9][a-z0-9.-]{1,62}$' },
    instanceId: { type: 'string', pattern: '^[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}$' },
    listen: {
      type: 'object',
      additionalProperties: false,
      required: ['host', 'port'],
      properties: { host: { type: 'string', minLength: 1 }, port: { type: 'integer', minimum: 0, maximum: 65535 } },
    },
    paths: {
      type: 'object',
      additionalProperties: false,
      required: ['root', 'certs', 'data', 'schemas', 'policies'],
      properties: {
        root: { type: 'string', minLength: 1 },
        certs: { type: 'string', minLength: 1 },
        data: { type: 'string', minLength: 1 },
        schemas: { type: 'string', minLength: 1 },
        policies: { type: 'string', minLength: 1 },
        crl: { type: 'string', minLength: 1 },
      },
    },
    store: {
      oneOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['kind', 'file'],
          properties: {
            kind: { const: 'sqlite' },
            file: { type: 'string', minLength: 1 },
            busyTimeoutMs: { type: 'integer', minimum: 0, maximum: 60000 },
          },
        },
        {
          type: 'object',
          additionalProperties: false,
          required: ['kind', 'url'],
          properties: { kind: { const: 'postgres' }, url: { type: 'string', pattern: '^postgres(ql)?://' } },
        },
      ],
    },
    tokens: {
      type: 'object',
      additionalProperties: false,
      required: ['maxLifetimeSeconds', 'clockToleranceSeconds'],
      properties: {
        maxLifetimeSeconds: { type: 'integer', minimum: 1, maximum: 300 },
        clockToleranceSeconds: { type: 'integer', minimum: 0, maximum: 120 },
      },
    },
    upstream: {
      type: 'object',
      additionalProperties: false,
      required: ['timeoutMs', 'maxResponseBytes'],
      properties: {
        timeoutMs: { type: 'integer', minimum: 1, maximum: 120000 },
        maxResponseBytes: { type: 'integer', minimum: 1024, maximum: 67108864 },
      },
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      required: [
        'bodyBytes',
        'ratePerSecond',
        'burst',
        'concurrency',
        'providerConcurrency',
        'maxConnections',
        'handshakeTimeoutMs',
        'headersTimeoutMs',
        'requestTimeoutMs',
        'shutdownGraceMs',
      ],
      properties: {
        bodyBytes: { type: 'integer', minimum: 256, maximum: 10485760 },
        ratePerSecond: { type: 'number', exclusiveMinimum: 0, maximum: 1000000 },
        burst: { type: 'integer', minimum: 1, maximum: 1000000 },
        concurrency: { type: 'integer', minimum: 1, maximum: 100000 },
        providerConcurrency: { type: 'integer', minimum: 1, maximum: 100000 },
        maxConnections: { type: 'integer', minimum: 1, maximum: 1000000 },
        handshakeTimeoutMs: { type: 'integer', minimum: 100, maximum: 120000 },
        headersTimeoutMs: { type: 'integer', minimum: 100, maximum: 120000 },
        requestTimeoutMs: { type: 'integer', minimum: 100, maximum: 600000 },
        shutdownGraceMs: { type: 'integer', minimum: 0, maximum: 600000 },
      },
    },
    endpoints: { type: 'object', additionalProperties: { type: 'string', pattern: '^https://' } },
    consent: {
      type: 'object',
      additionalProperties: false,
      required: ['timeoutMs', 'backdateGraceDays', 'issuers'],
      properties: {
        timeoutMs: { type: 'integer', minimum: 1, maximum: 60000 },
        backdateGraceDays: { type: 'integer', minimum: 0, maximum: 365 },
        issuers: {
          type: 'array',
          maxItems: 20,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['id'],
            properties: {
              id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$' },
              publicKeys: {
                type: 'array',
                minItems: 1,
                maxItems: 20,
                items: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['kid', 'file'],
                  properties: {
                    kid: { type: 'string', pattern: '^[\\x21-\\x7e]{1,128}$' },
                    file: { type: 'string', minLength: 1 },
                  },
                },
              },
              jwksFile: { type: 'string', minLength: 1 },
              url: { type: 'string', pattern: '^https://[^\\s]+$', maxLength: 2000 },
              caFile: { type: 'string', minLength: 1 },
            },
            dependentRequired: { caFile: ['url'] },
          },
        },
      },
    },
    relations: {
      type: 'object',
      additionalProperties: false,
      required: ['backdateDays'],
      properties: { backdateDays: { type: 'integer', minimum: 0, maximum: 3660 } },
    },
    notifications: {
      type: 'object',
      additionalProperties: false,
      required: [
        'worker',
        'maxAttempts',
        'baseDelayMs',
        'maxDelayMs',
        'pollMs',
        'leaseMs',
        'batch',
        'deadLetterRetentionMs',
        'finishedRetentionMs',
      ],
      properties: {
        worker: { type: 'boolean' },
        maxAttempts: { type: 'integer', minimum: 1, maximum: 1000 },
        baseDelayMs: { type: 'integer', minimum: 1, maximum: 3600000 },
        maxDelayMs: { type: 'integer', minimum: 1, maximum: 86400000 },
        pollMs: { type: 'integer', minimum: 10, maximum: 600000 },
        leaseMs: { type: 'integer', minimum: 100, maximum: 3600000 },
        batch: { type: 'integer', minimum: 1, maximum: 1000 },
        deadLetterRetentionMs: { type: 'integer', minimum: 0, maximum: 31536000000 },
        finishedRetentionMs: { type: 'integer', minimum: 3600000, maximum: 315360000000 },
      },
    },
    audit: {
      type: 'object',
      additionalProperties: false,
      required: [
        'checkpointEveryRecords',
        'checkpointEverySeconds',
        'purposeRetention',
        'minimumPurposeRetention',
        'reportIncludesEmployee',
        'siem',
        'pseudonymKeys',
        'previousSigningKeys',
      ],
      properties: {
        checkpointEveryRecords: { type: 'integer', minimum: 1, maximum: 10000000 },
        checkpointEverySeconds: { type: 'integer', minimum: 1, maximum: 86400 },
        retentionDays: { type: 'integer', minimum: 1, maximum: 36500 },
        purposeRetention: { type: 'boolean' },
        minimumPurposeRetention: { type: 'string', pattern: '^P(?=[0-9])([0-9]+Y)?([0-9]+M)?([0-9]+W)?([0-9]+D)?$' },
        reportIncludesEmployee: { type: 'boolean' },
        siem: {
          type: 'object',
          additionalProperties: false,
          required: ['target'],
          properties: { target: { enum: ['off', 'stdout', 'file'] }, file: { type: 'string', minLength: 1 } },
        },
        pseudonymKeys: {
          type: 'object',
          additionalProperties: false,
          required: ['current', 'previous'],
          properties: {
            current: { type: 'string', minLength: 1 },
            previous: { type: 'array', items: { type: 'string', minLength: 1 }, maxItems: 100 },
          },
        },
        previousSigningKeys: { type: 'array', items: { type: 'string', minLength: 1 }, maxItems: 100 },
      },
    },
    policies: {
      type: 'object',
      additionalProperties: false,
      required: ['requireApprovals', 'approvers', 'required', 'requiredPerPolicy', 'revoked'],
      properties: {
        requireApprovals: { type: 'boolean' },
        approvers: {
          type: 'array',
          maxItems: 50,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['id', 'title', 'publicKeys'],
            properties: {
              id: { type: 'string', pattern: APPROVER_ID },
              title: { type: 'string', minLength: 1, maxLength: 200 },
              publicKeys: {
                type: 'array',
                minItems: 1,
                maxItems: 5,
                items: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['file'],
                  properties: { file: { type: 'string', minLength: 1 } },
                },
              },
            },
          },
        },
        required: { type: 'array', maxItems: 50, items: { type: 'string', pattern: APPROVER_ID } },
        requiredPerPolicy: {
          type: 'object',
          propertyNames: { type: 'string', pattern: '^[a-z][a-z0-9]*(-[a-z0-9]+)*$', maxLength: 100 },
          additionalProperties: { type: 'array', minItems: 1, maxItems: 50, items: { type: 'string', pattern: APPROVER_ID } },
        },
        revoked: {
          type: 'array',
          maxItems: 1000,
          items: {
            oneOf: [
              {
                type: 'object',
                additionalProperties: false,
                required: ['policy', 'version'],
                properties: {
                  policy: { type: 'string', pattern: '^[a-z][a-z0-9]*(-[a-z0-9]+)*$', maxLength: 100 },
                  version: { type: 'integer', minimum: 1 },
                },
              },
              {
                type: 'object',
                additionalProperties: false,
                required: ['digest'],
                properties: { digest: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
              },
            ],
          },
        },
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      required: ['level', 'console'],
      properties: { level: { enum: ['error', 'warn', 'info', 'debug'] }, file: { type: 'string' }, console: { type: 'boolean' } },
    },
    simulators: {
      type: 'object',
      additionalProperties: false,
      required: ['firstPort'],
      properties: { firstPort: { type: 'integer', minimum: 0, maximum: 65535 } },
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
    limits: {
      bodyBytes: 65536,
      ratePerSecond: 500,
      burst: 1000,
      concurrency: 100,
      providerConcurrency: 50,
      maxConnections: 10000,
      handshakeTimeoutMs: 10000,
      headersTimeoutMs: 10000,
      requestTimeoutMs: 30000,
      shutdownGraceMs: 10000,
    },
    endpoints: {},
    consent: { timeoutMs: 2000, backdateGraceDays: 7, issuers: [] },
    relations: { backdateDays: 365 },
    // 20 attempts, 1 s doubling to at most 10 min: a recipient that is down for about two hours still gets everything.
    notifications: {
      worker: true,
      maxAttempts: 20,
      baseDelayMs: 1000,
      maxDelayMs: 600000,
      pollMs: 1000,
      leaseMs: 60000,
      batch: 50,
      deadLetterRetentionMs: 14 * 24 * 3600 * 1000,
      finishedRetentionMs: 90 * 24 * 3600 * 1000,
    },
    audit: {
      checkpointEveryRecords: 1000,
      checkpointEverySeconds: 60,
      purposeRetention: true,
      minimumPurposeRetention: 'P1Y',
      reportIncludesEmployee: false,
      siem: { target: 'off' },
      pseudonymKeys: { current: 'gateway/pseudonym.key', previous: [] },
      previousSigningKeys: [],
    },
    // Secure by default (ARCHITECTURE invariant 12): no policy is in force without its approvals.
    policies: { requireApprovals: true, approvers: [], required: [], requiredPerPolicy: {}, revoked: [] },
    log: { level: 'info', console: true },
  };
}

function merge<T>(base: T, over: unknown): T {
  if (over === undefined) return base;
  if (
    base === null ||
    typeof base !== 'object' ||
    Array.isArray(base) ||
    over === null ||
    typeof over !== 'object' ||
    Array.isArray(over)
  ) {
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
  const simulatorPort = int('SNITFLADE_SIMULATOR_PORT');
  if (simulatorPort !== undefined) set(['simulators', 'firstPort'], simulatorPort);
  if (env.SNITFLADE_CERTS_DIR) set(['paths', 'certs'], path.resolve(env.SNITFLADE_CERTS_DIR));
  if (env.SNITFLADE_DATA_DIR) {
    set(['paths', 'data'], path.resolve(env.SNITFLADE_DATA_DIR));
    set(['store'], { kind: 'sqlite', file: path.join(path.resolve(env.SNITFLADE_DATA_DIR), 'snitflade.db') });
  }
  const dbUrl = env.DATABASE_URL ?? env.SNITFLADE_DATABASE_URL;
  if (dbUrl) set(['store'], { kind: 'postgres', url: dbUrl });
  const timeout = int('SNITFLADE_UPSTREAM_TIMEOUT_MS');
  if (timeout !== undefined) set(['upstream', 'timeoutMs'], timeout);
  if (env.SNITFLADE_CRL_FILE) set(['paths', 'crl'], path.resolve(env.SNITFLADE_CRL_FILE));
  for (const [name, key] of [
    ['SNITFLADE_RATE_PER_SECOND', 'ratePerSecond'],
    ['SNITFLADE_RATE_BURST', 'burst'],
    ['SNITFLADE_CONCURRENCY', 'concurrency'],
    ['SNITFLADE_PROVIDER_CONCURRENCY', 'providerConcurrency'],
    ['SNITFLADE_MAX_CONNECTIONS', 'maxConnections'],
    ['SNITFLADE_SHUTDOWN_GRACE_MS', 'shutdownGraceMs'],
  ] as const) {
    const value = int(name);
    if (value !== undefined) set(['limits', key], value);
  }
  const graceDays = int('SNITFLADE_CONSENT_BACKDATE_GRACE_DAYS');
  if (graceDays !== undefined) set(['consent', 'backdateGraceDays'], graceDays);
  const backdateDays = int('SNITFLADE_RELATION_BACKDATE_DAYS');
  if (backdateDays !== undefined) set(['relations', 'backdateDays'], backdateDays);
  const attempts = int('SNITFLADE_NOTIFY_MAX_ATTEMPTS');
  if (attempts !== undefined) set(['notifications', 'maxAttempts'], attempts);
  const checkpointRecords = int('SNITFLADE_CHECKPOINT_RECORDS');
  if (checkpointRecords !== undefined) set(['audit', 'checkpointEveryRecords'], checkpointRecords);
  const checkpointSeconds = int('SNITFLADE_CHECKPOINT_SECONDS');
  if (checkpointSeconds !== undefined) set(['audit', 'checkpointEverySeconds'], checkpointSeconds);
  const retentionDays = int('SNITFLADE_AUDIT_RETENTION_DAYS');
  if (retentionDays !== undefined) set(['audit', 'retentionDays'], retentionDays);
  if (env.SNITFLADE_AUDIT_PURPOSE_RETENTION) set(['audit', 'purposeRetention'], env.SNITFLADE_AUDIT_PURPOSE_RETENTION !== 'false');
  if (env.SNITFLADE_AUDIT_SIEM)
    set(
      ['audit', 'siem'],
      env.SNITFLADE_AUDIT_SIEM === 'stdout'
        ? { target: 'stdout' }
        : env.SNITFLADE_AUDIT_SIEM === 'off'
          ? { target: 'off' }
          : { target: 'file', file: path.resolve(env.SNITFLADE_AUDIT_SIEM) },
    );
  if (env.SNITFLADE_PSEUDONYM_KEY) set(['audit', 'pseudonymKeys', 'current'], env.SNITFLADE_PSEUDONYM_KEY);
  if (env.SNITFLADE_PSEUDONYM_KEYS_PREVIOUS !== undefined)
    set(
      ['audit', 'pseudonymKeys', 'previous'],
      env.SNITFLADE_PSEUDONYM_KEYS_PREVIOUS.split(',')
        .map((f) => f.trim())
        .filter((f) => f !== ''),
    );
  if (env.SNITFLADE_REPORT_INCLUDES_EMPLOYEE) set(['audit', 'reportIncludesEmployee'], env.SNITFLADE_REPORT_INCLUDES_EMPLOYEE === 'true');
  const requireApprovals = env.SNITFLADE_REQUIRE_APPROVALS;
  if (requireApprovals !== undefined && requireApprovals !== '') {
    if (requireApprovals !== 'true' && requireApprovals !== 'false')
      throw new LoadError('environment SNITFLADE_REQUIRE_APPROVALS', '', `must be true or false, got "${requireApprovals.slice(0, 20)}"`);
    set(['policies', 'requireApprovals'], requireApprovals === 'true');
  }
  if (env.SNITFLADE_LOG_LEVEL) set(['log', 'level'], env.SNITFLADE_LOG_LEVEL);
  if (env.SNITFLADE_LOG_FILE) set(['log', 'file'], path.resolve(env.SNITFLADE_LOG_FILE));
  return input;
}

/** What the schema cannot say about `consent.issuers`: keys given one way or the other, and one entry per id. */
function checkConsentIssuers(issuers: readonly ConsentIssuerConfig[], file: string): void {
  for (const [i, issuer] of issuers.entries()) {
    if (issuer.publicKeys === undefined && issuer.jwksFile === undefined) {
      throw new LoadError(
        file,
        `/consent/issuers/${i}`,
        `the consent service "${issuer.id}" has no public keys; give publicKeys ([{kid, file}], PEM files) or jwksFile (a JWKS file), or both`,
      );
    }
    const first = issuers.findIndex((other) => other.id === issuer.id);
    if (first !== i) {
      throw new LoadError(
        file,
        `/consent/issuers/${i}/id`,
        `the consent service "${issuer.id}" is configured twice (also at /consent/issuers/${first}); merge its keys into one entry`,
      );
    }
  }
}

/** What the schema cannot say about `policies`: one entry per approver, and only configured approvers required. */
function checkApprovers(policies: GatewayConfig['policies'], file: string): void {
  const ids = policies.approvers.map((a) => a.id);
  for (const [i, id] of ids.entries()) {
    const first = ids.indexOf(id);
    if (first !== i)
      throw new LoadError(
        file,
        `/policies/approvers/${i}/id`,
        `the approver "${id}" is configured twice (also at /policies/approvers/${first}); give each approver one entry, with all its keys`,
      );
  }
  const known = ids.join(', ') || '(none)';
  const unknown = (list: readonly string[], at: string): void =>
    list.forEach((id, i) => {
      if (!ids.includes(id))
        throw new LoadError(
          file,
          `${at}/${i}`,
          `"${id}" is not a configured approver (policies.approvers lists: ${known}); configure it or remove it here`,
        );
    });
  unknown(policies.required, '/policies/required');
  for (const [policy, list] of Object.entries(policies.requiredPerPolicy)) unknown(list, `/policies/requiredPerPolicy/${policy}`);
}

/**
 * An entry point's default that approvals are not required (the demo's, for the unsigned example
 * policies) gives way when the operator configures approvers without saying whether approvals are
 * required: configuring approvers means wanting them enforced, as the general default says.
 */
function approvalsGiveWay(merged: unknown, operator: readonly unknown[]): unknown {
  const policies = (merged as { policies?: { requireApprovals?: unknown; approvers?: unknown[] } }).policies;
  const said = operator.some(
    (o) => (o as { policies?: { requireApprovals?: unknown } } | undefined)?.policies?.requireApprovals !== undefined,
  );
  if (policies?.requireApprovals !== false || said || (policies.approvers ?? []).length === 0) return merged;
  return merge(merged, { policies: { requireApprovals: true } });
}

/**
 * Builds the frozen configuration: defaults < an entry point's own defaults (`defaults`, e.g. the
 * demo's) < config file < environment < `overrides`. Throws LoadError naming the setting that is wrong.
 */
export function loadConfig(options: {
  root: string;
  env?: NodeJS.ProcessEnv;
  defaults?: ConfigInput;
  overrides?: ConfigInput;
}): GatewayConfig {
  const env = options.env ?? {};
  let merged: unknown = merge(defaultConfig(options.root), options.defaults);
  const file = env.SNITFLADE_CONFIG;
  let parsed: unknown;
  if (file) {
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new LoadError(file, '', `cannot read the configuration file: ${(err as Error).message}`);
    }
    merged = merge(merged, parsed);
  }
  merged = merge(merged, configFromEnv(env));
  merged = merge(merged, options.overrides);
  merged = approvalsGiveWay(merged, [parsed, configFromEnv(env), options.overrides]);
  if (!validate(merged)) {
    const first = validate.errors?.[0];
    throw new LoadError(file ?? 'configuration', first?.instancePath ?? '', `${first?.message ?? 'invalid'}`);
  }
  const config = merged as GatewayConfig;
  checkConsentIssuers(config.consent.issuers, file ?? 'configuration');
  checkApprovers(config.policies, file ?? 'configuration');
  return deepFreeze(config);
}
