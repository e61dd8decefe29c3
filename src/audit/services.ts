import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { GatewayConfig } from '../config/config.js';
import type { Logger } from '../log.js';
import type { ChainLease } from '../store/audit-checkpoints.js';
import type { AuditStore, Store } from '../store/types.js';
import { checkpointSigner, CheckpointVerifier, publicKeyOf, type CheckpointSigner } from './checkpoint.js';
import { Checkpointer } from './checkpointer.js';
import { loadPseudonymKey, Pseudonymizer } from './pseudonym.js';
import { applyRetentionRules, type PurposeRetentionDeps, type RetentionRun } from './retention.js';
import { forwardingAuditStore, openSiem, siemCheckpoint, type SiemSink } from './siem.js';
import type { AuditTrail } from './trail.js';

/**
 * The audit trail's services around one gateway instance: the lease on its chain, the
 * checkpoint key and the keys checkpoints are verified with, the checkpointer, the retention
 * job (the global rule and each purpose's, see retention.ts) and the SIEM forwarder. createGateway opens them before the trail and stops them after it.
 */
export interface AuditServices {
  readonly signer: CheckpointSigner;
  readonly verifier: CheckpointVerifier;
  readonly lease: ChainLease;
  readonly siem: SiemSink | undefined;
  /** What the trail is opened on: the store's audit, forwarding to the SIEM when configured. */
  readonly trailStore: { readonly audit: AuditStore };
  /** Running once start() was called. */
  readonly checkpointer: Checkpointer | undefined;
  /** Starts checkpointing the trail, and the retention job when a retention rule applies. */
  start(trail: AuditTrail): void;
  /**
   * Applies the retention rules now (see retention.ts): the global one when `audit.retentionDays`
   * is set, each purpose's unless `audit.purposeRetention` is false.
   */
  retention(now?: Date): Promise<RetentionRun>;
  /** Seals what is left, stops the jobs, closes the SIEM file and releases the chain. */
  stop(): Promise<void>;
}

/** The checkpoint signer (the gateway's ES256 key) and the verifier trusting it and the retired keys. */
export async function loadCheckpointKeys(config: GatewayConfig): Promise<{ signer: CheckpointSigner; verifier: CheckpointVerifier }> {
  const certs = config.paths.certs;
  const signer = await checkpointSigner(readFileSync(path.join(certs, 'gateway/signing.key.pem'), 'utf8'));
  const previous = await Promise.all(
    config.audit.previousSigningKeys.map((f) => publicKeyOf(readFileSync(path.resolve(certs, f), 'utf8'))),
  );
  return { signer, verifier: new CheckpointVerifier([signer.publicKey, ...previous]) };
}

/**
 * The pseudonymizer: the current key and the keys rotated out but still held (searches and
 * access reports find records made under any of them). Destroying an old key file and removing
 * it from the configuration makes the records made with it unlinkable to a person; the trail
 * still verifies, since the pseudonym is part of the hashed record and the key is not.
 */
export function loadPseudonymizer(config: GatewayConfig): Pseudonymizer {
  const certs = config.paths.certs;
  const current = loadPseudonymKey(path.resolve(certs, config.audit.pseudonymKeys.current));
  const previous = config.audit.pseudonymKeys.previous.map((f) => loadPseudonymKey(path.resolve(certs, f)));
  return new Pseudonymizer({ keys: [current, ...previous], current: current.id });
}

const RETENTION_EVERY_MS = 6 * 3600_000;

/**
 * Takes the chain lease (refusing to start when another running instance holds the same
 * instance id) and prepares the services. On failure nothing stays held.
 */
export async function openAuditServices(o: {
  config: GatewayConfig;
  store: Store;
  logger: Logger;
  /** The rule set in force (a reload swaps it): each purpose's retention, read at every run of the retention job. */
  policies: PurposeRetentionDeps['policies'];
}): Promise<AuditServices> {
  const { config, store, logger } = o;
  const { signer, verifier } = await loadCheckpointKeys(config);
  const lease = await store.checkpoints.lockChain(config.instanceId, {
    onLost: (err) => logger.error('audit chain lease lost; trying to take it back', { chain: config.instanceId, error: err.message }),
    onRegained: () => logger.info('audit chain lease taken back', { chain: config.instanceId }),
  });
  let siem: SiemSink | undefined;
  try {
    siem = openSiem({ ...config.audit.siem, onError: (err) => logger.error('SIEM forwarding failed', { error: err.message }) });
  } catch (err) {
    await lease.release();
    throw err;
  }
  let checkpointer: Checkpointer | undefined;
  let trailRef: AuditTrail | undefined;
  let timers: NodeJS.Timeout[] = [];
  let retentionRun: Promise<unknown> = Promise.resolve();

  const retains = (): boolean => config.audit.retentionDays !== undefined || config.audit.purposeRetention;
  const retention = (now?: Date): Promise<RetentionRun> => {
    const days = config.audit.retentionDays;
    if (!retains()) return Promise.resolve({ busy: false, deleted: [], erased: [] });
    if (trailRef === undefined || checkpointer === undefined) return Promise.reject(new Error('the audit services are not started'));
    const trail = trailRef;
    const sealer = checkpointer;
    const run = retentionRun
      .catch(() => undefined)
      .then(() =>
        applyRetentionRules(
          { store, verifier, signer, append: (e) => trail.append(e), policies: o.policies, seal: () => sealer.checkpoint() },
          {
            ...(days !== undefined ? { retentionDays: days } : {}),
            purposes: config.audit.purposeRetention,
            minimumPurposeRetention: config.audit.minimumPurposeRetention,
            ...(now !== undefined ? { now } : {}),
          },
        ),
      );
    retentionRun = run;
    return run;
  };

  return {
    signer,
    verifier,
    lease,
    siem,
    trailStore: siem !== undefined ? { audit: forwardingAuditStore(store.audit, siem) } : store,
    get checkpointer() {
      return checkpointer;
    },
    start(trail) {
      if (checkpointer !== undefined) return;
      trailRef = trail;
      checkpointer = new Checkpointer({
        store,
        trail,
        lease,
        signer,
        verifier,
        gatewayId: config.gatewayId,
        everyRecords: config.audit.checkpointEveryRecords,
        everySeconds: config.audit.checkpointEverySeconds,
        onCheckpoint: (c) => {
          siem?.write(JSON.stringify(siemCheckpoint(c)));
          logger.debug('audit checkpoint signed', { chain: c.chain, seq: c.seq });
        },
        onError: (err) => logger.error('audit checkpoint failed', { chain: config.instanceId, error: err.message }),
      });
      checkpointer.start();
      if (retains()) {
        const run = (): void => {
          retention().then(
            (outcome) => {
              if (outcome.busy) {
                logger.info('audit retention', { skipped: 'another instance is applying the retention rules' });
                return;
              }
              for (const r of outcome.deleted)
                if (r.deleted > 0 || 'skipped' in r)
                  logger.info('audit retention', {
                    chain: r.chain,
                    deleted: r.deleted,
                    ...('skipped' in r ? { skipped: r.skipped } : { throughSeq: r.throughSeq }),
                  });
              for (const r of outcome.erased) {
                if (r.erased > 0 || r.skipped !== undefined)
                  logger.info('audit retention per purpose', {
                    chain: r.chain,
                    erased: r.erased,
                    ...(r.skipped !== undefined ? { skipped: r.skipped } : {}),
                  });
                if (r.mismatched !== undefined)
                  logger.warn('audit retention per purpose kept records whose search columns disagree with their content', {
                    chain: r.chain,
                    seqs: r.mismatched.slice(0, 20).join(','),
                    hint: 'run snitflade audit verify',
                  });
              }
              const below = outcome.erased.find((r) => r.belowMinimum !== undefined)?.belowMinimum;
              if (below !== undefined)
                logger.warn('audit retention per purpose not applied: retention shorter than audit.minimumPurposeRetention', {
                  purposes: below.map((b) => `${b.purpose}:${b.retention}`).join(','),
                  minimum: config.audit.minimumPurposeRetention,
                });
            },
            (err: unknown) => logger.error('audit retention failed', { error: (err as Error).message }),
          );
        };
        const first = setTimeout(run, 60_000);
        const every = setInterval(run, RETENTION_EVERY_MS);
        first.unref();
        every.unref();
        timers = [first, every];
      }
    },
    retention,
    async stop() {
      for (const t of timers) clearTimeout(t);
      await retentionRun.catch(() => undefined);
      try {
        await checkpointer?.stop();
      } catch (err) {
        logger.error('audit checkpoint at shutdown failed', { chain: config.instanceId, error: (err as Error).message });
      }
      await siem?.close();
      await lease.release();
    },
  };
}
