import { readFileSync } from 'node:fs';
import path from 'node:path';
import { importPKCS8, type CryptoKey } from 'jose';
import { ReplayGuard } from './auth/replay-guard.js';
import type { Pseudonymizer } from './audit/pseudonym.js';
import { loadPseudonymizer, openAuditServices, type AuditServices } from './audit/services.js';
import { AuditTrail } from './audit/trail.js';
import type { GatewayConfig } from './config/config.js';
import type { ConsentIssuer } from './consent/artefact.js';
import { consentServices, loadConsentIssuers } from './consent/issuers.js';
import type { ConsentService, ConsentSource } from './consent/types.js';
import type { ExchangeDeps } from './exchange/deps.js';
import { ProviderSlots } from './upstream/provider-slots.js';
import { createLogger, type Logger } from './log.js';
import { Metrics } from './server/metrics.js';
import { openConfiguredStore } from './store/index.js';
import type { Store } from './store/types.js';
import { createUpstreamAgent, type UpstreamIdentity } from './upstream/provider.js';
import { ledgerConsentSource } from './consent/registry.js';
import { OutboxWorker } from './outbox/worker.js';
import { RollupCatchUp } from './audit/rollups.js';
import type { LoadError } from './lib/load-error.js';
import { loadRevocationList, type RevocationList } from './auth/crl.js';
import { RulesInForce } from './rules/in-force.js';
import { loadRules } from './rules/load.js';
import { putInForce } from './rules/rollback.js';
import type { Rules } from './rules/types.js';

/** How often the DPO rollups catch up with the trail: how far behind the trail they can be. */
const ROLLUP_EVERY_MS = 2000;

/** The gateway's parts, wired: what the HTTP shell and the CLI work with. */
export interface Gateway {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly store: Store;
  readonly trail: AuditTrail;
  readonly pseudonyms: Pseudonymizer;
  /** Checkpoints, verification keys, retention, SIEM forwarding and the chain lease (src/audit/services.ts). */
  readonly audit: AuditServices;
  readonly signingKey: CryptoKey;
  /** The consent services trusted to sign consent artefacts, by issuer id (`consent.issuers`). */
  readonly consentIssuers: ReadonlyMap<string, ConsentIssuer>;
  /** A client for the in-force look-up of each trusted consent service that has a `url`. */
  readonly consentServices: readonly ConsentService[];
  readonly deps: ExchangeDeps;
  /** Delivers queued notifications (src/outbox/); running unless config.notifications.worker is false. */
  readonly outbox: OutboxWorker;
  /**
   * Counts the trail into the DPO rollups (src/audit/rollups.ts): every ROLLUP_EVERY_MS in the
   * background, and before a DPO page reads them.
   */
  readonly rollups: RollupCatchUp;
  readonly rules: () => Rules;
  /** The CA's certificate revocation list in force (swapped by reload). */
  revocations(): RevocationList;
  /**
   * Loads and checks a new rule set as start-up does (or takes `candidate`, already loaded and
   * checked, see src/rules/reload.ts), reloads the revocation list, records the policies put in
   * force (refusing an older one, src/rules/rollback.ts), and switches to both at once; the old
   * ones stay on failure.
   */
  reload(candidate?: Rules): Promise<Rules>;
  close(): Promise<void>;
}

export interface GatewayOptions {
  readonly logger?: Logger;
  readonly consent?: ConsentSource;
}

export async function createGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger({ ...config.log, service: 'snitflade-gateway' });
  const warn = (w: LoadError): void => {
    logger.warn('rules warning', { problem: w.message });
  };
  const rules = new RulesInForce(await loadRules(config, { warn }));
  const loadCrl = (): RevocationList => {
    const list = loadRevocationList({ certsDir: config.paths.certs, crlFile: config.paths.crl });
    if (list.nextUpdate !== undefined && list.nextUpdate.getTime() <= Date.now()) {
      logger.warn('certificate revocation list is past its nextUpdate; it stays in force until a newer one is loaded', {
        file: list.file,
        nextUpdate: list.nextUpdate.toISOString(),
      });
    }
    return list;
  };
  let revocations = loadCrl();
  const certs = config.paths.certs;
  const read = (p: string): string => readFileSync(path.join(certs, p), 'utf8');
  const signingKey = await importPKCS8(read('gateway/signing.key.pem'), 'ES256');
  const gatewayTls = { cert: read('gateway/tls.crt.pem'), key: read('gateway/tls.key.pem'), ca: read('ca/ca.crt.pem') };
  // Before anything is opened: a consent issuer setting that cannot be used stops start-up here.
  const consentIssuers = await loadConsentIssuers(config, {
    onKey: (k) => logger.info('consent service key trusted', { issuer: k.issuer, kid: k.kid, thumbprint: k.thumbprint }),
  });
  const consentClients = consentServices(config, consentIssuers, gatewayTls);
  const upstream: UpstreamIdentity = {
    gatewayId: config.gatewayId,
    signingKey,
    agent: createUpstreamAgent(gatewayTls),
    timeoutMs: config.upstream.timeoutMs,
    maxResponseBytes: config.upstream.maxResponseBytes,
  };
  const pseudonyms = loadPseudonymizer(config);
  const store = await openConfiguredStore(config.store);
  // Versions only go forward: a set holding an older policy than one put in force is refused (src/rules/rollback.ts).
  const history = { instance: config.instanceId, enforced: config.policies.requireApprovals };
  try {
    for (const w of await putInForce(store.policyHistory, rules.current().policies, history)) warn(w);
  } catch (err) {
    await store.close();
    throw err;
  }
  // The chain lease first: a second instance with the same instance id stops here.
  const audit = await openAuditServices({ config, store, logger, policies: () => rules.current().policies }).catch(async (err: unknown) => {
    await store.close();
    throw err;
  });
  const trail = await AuditTrail.open(audit.trailStore, { chain: config.instanceId, lease: audit.lease });
  audit.start(trail);
  const metrics = new Metrics();
  metrics.watchRevocations(() => revocations);
  const consent =
    options.consent ??
    ledgerConsentSource(store, pseudonyms, {
      timeoutMs: config.consent.timeoutMs,
      issuers: consentIssuers,
      services: consentClients,
      relations: store.relations,
      purposes: () => rules.current().policies.purposes,
    });
  const deps: ExchangeDeps = {
    rules: () => rules.current(),
    trail,
    // Exchanges claim each token's jti in the commit of their first audit record (src/auth/replay-guard.ts).
    replay: new ReplayGuard(),
    pseudonyms,
    consent,
    relations: store.relations,
    upstream,
    providerSlots: new ProviderSlots(config.limits.providerConcurrency),
    tokens: {
      audience: config.gatewayId,
      maxLifetimeSeconds: config.tokens.maxLifetimeSeconds,
      clockToleranceSeconds: config.tokens.clockToleranceSeconds,
    },
    observe: metrics,
  };
  const outbox = new OutboxWorker({
    outbox: store.outbox,
    trail,
    upstream,
    rules: () => rules.current(),
    consent,
    relations: { store: store.relations, pseudonyms },
    owner: config.instanceId,
    settings: config.notifications,
    logger,
  });
  if (config.notifications.worker) await outbox.start();
  const rollups = new RollupCatchUp(store);
  rollups.start({
    everyMs: ROLLUP_EVERY_MS,
    onError: (err) => logger.error('dpo rollup catch-up failed', { error: (err as Error)?.message }),
  });
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
    audit,
    signingKey,
    consentIssuers,
    consentServices: consentClients,
    deps,
    outbox,
    rollups,
    rules: () => rules.current(),
    revocations: () => revocations,
    async reload(candidate?: Rules) {
      const next = candidate ?? (await loadRules(config, { warn }));
      const nextCrl = loadCrl();
      for (const w of await putInForce(store.policyHistory, next.policies, history)) warn(w);
      rules.swap(next);
      revocations = nextCrl;
      logger.info('rules reloaded', {
        policySet: next.policies.digest,
        contracts: next.contracts.list().length,
        policies: next.policies.policies.length,
      });
      return next;
    },
    async close() {
      clearInterval(pruner);
      await outbox.stop();
      await rollups.stop();
      upstream.agent.destroy();
      for (const client of consentClients) client.close();
      await trail.close?.();
      await audit.stop();
      await store.close();
    },
  };
}
