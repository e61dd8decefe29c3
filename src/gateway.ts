import { readFileSync } from 'node:fs';
import path from 'node:path';
import { importPKCS8, type CryptoKey } from 'jose';
import { loadClients } from './auth/clients.js';
import { Pseudonymizer, loadPseudonymKey } from './audit/pseudonym.js';
import { AuditTrail } from './audit/trail.js';
import type { GatewayConfig } from './config/config.js';
import type { ConsentSource } from './consent/types.js';
import { loadContracts } from './contracts/registry.js';
import type { ExchangeDeps, Rules } from './exchange/deps.js';
import { createLogger, type Logger } from './log.js';
import { loadPolicySet } from './policy/loader.js';
import { Metrics } from './server/metrics.js';
import { openStore } from './store/index.js';
import type { Store } from './store/types.js';
import { createUpstreamAgent, type UpstreamIdentity } from './upstream/provider.js';
import { ledgerConsentSource } from './consent/registry.js';

/** Loads contracts, policies and clients as one frozen set, or throws naming what is broken. */
export async function loadRules(config: GatewayConfig): Promise<Rules> {
  const contracts = loadContracts(config.paths.schemas);
  const policies = loadPolicySet({ dir: config.paths.policies, contracts });
  const clients = await loadClients(path.join(config.paths.policies, 'clients.yaml'), config.paths.certs, config.endpoints);
  return Object.freeze({ contracts, policies, clients });
}

/** The gateway's parts, wired: what the HTTP shell and the CLI work with. */
export interface Gateway {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly store: Store;
  readonly trail: AuditTrail;
  readonly pseudonyms: Pseudonymizer;
  readonly signingKey: CryptoKey;
  readonly deps: ExchangeDeps;
  rules(): Rules;
  /** Loads and validates a new rule set and switches to it atomically; the old set stays on failure. */
  reload(): Promise<Rules>;
  close(): Promise<void>;
}

export interface GatewayOptions {
  readonly logger?: Logger;
  readonly consent?: ConsentSource;
}

export async function createGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger({ ...config.log, service: 'snitflade-gateway' });
  let rules = await loadRules(config);
  const certs = config.paths.certs;
  const read = (p: string): string => readFileSync(path.join(certs, p), 'utf8');
  const signingKey = await importPKCS8(read('gateway/signing.key.pem'), 'ES256');
  const upstream: UpstreamIdentity = {
    gatewayId: config.gatewayId,
    signingKey,
    agent: createUpstreamAgent({ cert: read('gateway/tls.crt.pem'), key: read('gateway/tls.key.pem'), ca: read('ca/ca.crt.pem') }),
    timeoutMs: config.upstream.timeoutMs,
    maxResponseBytes: config.upstream.maxResponseBytes,
  };
  const store = await openStore(config.store.kind === 'sqlite' ? { kind: 'sqlite', file: config.store.file } : { kind: 'postgres', url: config.store.url });
  const trail = await AuditTrail.open(store, { chain: config.instanceId });
  const key = loadPseudonymKey(path.join(certs, 'gateway/pseudonym.key'));
  const pseudonyms = new Pseudonymizer({ keys: [key], current: key.id });
  const metrics = new Metrics();
  const consent = options.consent ?? ledgerConsentSource(store);
  const deps: ExchangeDeps = {
    rules: () => rules,
    trail,
    replay: store.replay,
    pseudonyms,
    consent,
    upstream,
    tokens: { audience: config.gatewayId, maxLifetimeSeconds: config.tokens.maxLifetimeSeconds, clockToleranceSeconds: config.tokens.clockToleranceSeconds },
    observe: metrics,
  };
  const pruner = setInterval(() => {
    store.replay.prune(new Date()).catch((err: unknown) => logger.warn('replay cache prune failed', { error: (err as Error).message }));
  }, 60_000);
  pruner.unref();
  return {
    config,
    logger,
    metrics,
    store,
    trail,
    pseudonyms,
    signingKey,
    deps,
    rules: () => rules,
    async reload() {
      const next = await loadRules(config);
      rules = next;
      logger.info('rules reloaded', { policySet: next.policies.digest, contracts: next.contracts.list().length, policies: next.policies.policies.length });
      return next;
    },
    async close() {
      clearInterval(pruner);
      upstream.agent.destroy();
      await trail.close?.();
      await store.close();
    },
  };
}
