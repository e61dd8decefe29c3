import type { AuditTrail } from '../audit/trail.js';
import type { GatewayConfig } from '../config/config.js';
import { auditEntry, withRecipient, type ExchangeFacts } from '../audit/entry.js';
import { DELIVERY_FAILURE, DENY_REASON, NOTIFICATION_AUDIT } from '../audit/reasons.js';
import type { Pseudonymizer } from '../audit/pseudonym.js';
import { copenhagenDate } from '../policy/dates.js';
import { needToKnow } from '../policy/evaluate.js';
import type { RelationStore } from '../relations/types.js';
import type { AuditEntry } from '../audit/types.js';
import type { ConsentSource } from '../consent/types.js';
import { canonicalJson, sha256b64url } from '../lib/digest.js';
import type { Logger } from '../log.js';
import { consentDenial, recheckConsent, storedRequirement } from '../exchange/consent-check.js';
import type { Rules } from '../rules/types.js';
import type { ConsentEvidence } from '../policy/types.js';
import { postJson, signGatewayToken, type UpstreamIdentity } from '../upstream/provider.js';
import { backoffMs } from './backoff.js';
import type { Delivery, DeliveryOutcome, OutboxStore } from './types.js';

/** Delivery settings: the configuration's notifications section (documented there), less the worker switch. */
export type OutboxSettings = Omit<GatewayConfig['notifications'], 'worker'>;

export interface OutboxWorkerOptions {
  readonly outbox: OutboxStore;
  readonly trail: AuditTrail;
  readonly upstream: UpstreamIdentity;
  readonly rules: () => Rules;
  readonly consent: ConsentSource;
  /**
   * The relations register and the pseudonyms, to check need to know again before each attempt
   * (a delivery whose policy has a `relation:` clause). Without them such a delivery waits (fail closed).
   */
  readonly relations?: { readonly store: Pick<RelationStore, 'active'>; readonly pseudonyms: Pseudonymizer };
  /** This instance (its audit chain id): the owner of its leases. */
  readonly owner: string;
  readonly settings: OutboxSettings;
  readonly logger?: Logger;
  readonly now?: () => number;
  readonly random?: () => number;
}

export interface OutboxWorkerStats {
  readonly cycles: number;
  readonly attempts: number;
  readonly delivered: number;
  readonly failed: number;
  readonly deadLettered: number;
  readonly cancelled: number;
}

/** How often dead letters past their retention lose their payload, and ended rows past theirs are deleted. */
const EXPIRY_EVERY_MS = 60_000;
/** Most rows of each kind deleted in one go: a backlog is worked off a batch a minute, without a long write. */
const FORGET_BATCH = 5_000;

/** The outcome an attempt's log line names, by the state it leaves the delivery in. */
const OUTCOME: Record<DeliveryOutcome['state'], string> = {
  delivered: 'delivered',
  pending: 'retry',
  dead: 'dead-letter',
  cancelled: 'cancelled',
};

/**
 * Delivers the outbox: runs in every gateway instance. Each cycle claims due deliveries (a
 * lease, so no two instances send one row at once), sends each to its recipient with a
 * gateway-signed token and its Idempotency-Key, and records the outcome:
 *
 * - 2xx: the delivery's audit record (DELIVERED) is made durable, then the row is marked
 *   delivered and its payload erased. If the gateway dies in between, the lease runs out, the
 *   row is sent again with the same key, and the recipient drops the duplicate.
 * - anything else (error status, timeout, refused connection): the next attempt is scheduled
 *   with exponential backoff and jitter; after `maxAttempts` the row is dead-lettered (audited,
 *   DEAD_LETTER) and waits for operations or the DPO to re-drive it.
 * - a policy that required consent: the consent is checked again just before sending; if it
 *   was withdrawn or has expired meanwhile, the delivery is cancelled (audited) and its payload
 *   erased. A consent source that cannot answer postpones the attempt (fail closed).
 *
 * On start the worker gives back the leases this instance held when it died and resumes
 * everything pending: a restart loses nothing. Every attempt's outcome is one line of the
 * operational log ("outbox: delivery attempt"), without the CPR number or the payload.
 *
 * @example
 *   const worker = new OutboxWorker({ outbox: store.outbox, trail, upstream, rules, consent, owner: 'gw1', settings });
 *   await worker.start();
 *   worker.wake(); // after enqueueing
 *   await worker.stop();
 */
export class OutboxWorker {
  readonly #o: OutboxWorkerOptions;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = true;
  #lastExpiry = 0;
  /** When each attempt in progress started (performance.now()), by delivery id: the logged duration. */
  readonly #started = new Map<string, number>();
  #stats = { cycles: 0, attempts: 0, delivered: 0, failed: 0, deadLettered: 0, cancelled: 0 };

  constructor(options: OutboxWorkerOptions) {
    const s = options.settings;
    if (s.leaseMs <= options.upstream.timeoutMs)
      throw new TypeError('OutboxWorker: leaseMs must be longer than the delivery timeout (upstream.timeoutMs)');
    if (!Number.isInteger(s.maxAttempts) || s.maxAttempts < 1) throw new TypeError('OutboxWorker: maxAttempts must be a positive integer');
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  get stats(): OutboxWorkerStats {
    return { ...this.#stats };
  }

  /** Gives back this instance's stale leases, then starts polling (and delivers what is due now). */
  async start(): Promise<void> {
    if (!this.#stopped) return;
    this.#stopped = false;
    try {
      const released = await this.#o.outbox.release(this.#o.owner, this.#now());
      if (released > 0) this.#o.logger?.info('outbox: resumed deliveries this instance held when it stopped', { released });
    } catch (err) {
      this.#o.logger?.warn('outbox: could not give back stale leases; they are retried when their lease runs out', {
        error: (err as Error).message,
      });
    }
    this.wake();
  }

  /** Runs a cycle as soon as possible (e.g. right after a notification was queued). */
  wake(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#schedule(0);
  }

  /** Stops polling and waits for the deliveries in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /**
   * One cycle: claims up to `batch` due deliveries and sends them concurrently; returns how
   * many it claimed. The loop calls it; tests may call it directly.
   */
  async runOnce(): Promise<number> {
    this.#stats.cycles += 1;
    const now = this.#now();
    if (now - this.#lastExpiry >= EXPIRY_EVERY_MS) {
      this.#lastExpiry = now;
      try {
        const expired = await this.#o.outbox.expire(now - this.#o.settings.deadLetterRetentionMs);
        if (expired > 0) this.#o.logger?.info('outbox: erased the payload of dead letters past their retention', { expired });
        const forgotten = await this.#o.outbox.forget(now - this.#o.settings.finishedRetentionMs, FORGET_BATCH);
        if (forgotten.deliveries + forgotten.requests > 0)
          this.#o.logger?.info('outbox: deleted ended deliveries and Idempotency-Key answers past their retention', { ...forgotten });
      } catch (err) {
        this.#o.logger?.warn('outbox: retention pass failed (dead-letter payloads, ended rows)', { error: (err as Error).message });
      }
    }
    const claimed = await this.#o.outbox.claim(this.#o.owner, now, this.#o.settings.leaseMs, this.#o.settings.batch);
    await Promise.all(claimed.map((d) => this.#attempt(d)));
    return claimed.length;
  }

  #schedule(ms: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#running = this.#cycle().finally(() => {
        this.#running = undefined;
      });
    }, ms);
    this.#timer.unref();
  }

  async #cycle(): Promise<void> {
    let full = false;
    try {
      this.#again = false;
      full = (await this.runOnce()) >= this.#o.settings.batch;
    } catch (err) {
      this.#o.logger?.warn('outbox: cycle failed; trying again at the next poll', { error: (err as Error).message });
    }
    if (!this.#stopped) this.#schedule(full || this.#again ? 0 : this.#o.settings.pollMs);
  }

  /** One attempt at one claimed delivery; never throws. */
  async #attempt(d: Delivery): Promise<void> {
    this.#stats.attempts += 1;
    this.#started.set(d.id, performance.now());
    const lease = d.lease!.id;
    try {
      if (d.payload === null) {
        await this.#finish(d, lease, { state: 'cancelled', at: this.#now(), status: null, error: DELIVERY_FAILURE.payloadErased });
        return;
      }
      // Need to know again, just before sending: an end or a voiding stops what was queued before it.
      if (d.meta.relationCheck) {
        const held = await this.#relationsHeld(d, d.payload);
        if (held === undefined) return await this.#failed(d, lease, null, DELIVERY_FAILURE.relationRegisterUnavailable);
        if (!held) {
          await this.#audit(d, { decision: 'deny', reasons: [DENY_REASON.relationMissing, NOTIFICATION_AUDIT.cancelled] });
          await this.#finish(d, lease, { state: 'cancelled', at: this.#now(), status: null, error: DENY_REASON.relationMissing });
          this.#stats.cancelled += 1;
          return;
        }
      }
      // Consent again, just before sending: a withdrawal stops what was queued before it.
      if (d.meta.consentCheck) {
        const evidence = await this.#consent(d, d.payload);
        if (evidence.status === 'unavailable') return await this.#failed(d, lease, null, DELIVERY_FAILURE.consentSourceUnavailable);
        if (evidence.status !== 'active') {
          const reason = consentDenial(evidence.status);
          await this.#audit(d, { decision: 'deny', reasons: [reason, NOTIFICATION_AUDIT.cancelled] });
          await this.#finish(d, lease, { state: 'cancelled', at: this.#now(), status: null, error: reason });
          this.#stats.cancelled += 1;
          return;
        }
      }
      const recipient = this.#o.rules().clients.byId(d.recipient.system);
      if (!recipient?.endpoint) return await this.#failed(d, lease, null, DELIVERY_FAILURE.noEndpoint);
      const path = `/snitflade/v1/notifications/${d.contract}`;
      const token = await signGatewayToken(this.#o.upstream, {
        audience: d.recipient.system,
        purpose: d.meta.purpose,
        policy: `${d.meta.policy.id}@${d.meta.policy.version}`,
        auditId: d.auditId,
        path,
        body: d.payload,
      });
      const answer = await postJson(this.#o.upstream, recipient.endpoint, path, d.payload, {
        authorization: `Bearer ${token}`,
        'idempotency-key': d.id,
        'x-request-id': d.requestId,
      });
      const ok = answer.status !== null && answer.status >= 200 && answer.status < 300;
      if (!ok)
        return await this.#failed(
          d,
          lease,
          answer.status,
          answer.status !== null
            ? DELIVERY_FAILURE.recipientStatus
            : !answer.ok && answer.code === 'PROVIDER_TIMEOUT'
              ? DELIVERY_FAILURE.recipientTimeout
              : DELIVERY_FAILURE.recipientUnreachable,
        );
      await this.#audit(d, {
        decision: 'permit',
        reasons: [NOTIFICATION_AUDIT.delivered],
        upstream: { status: answer.status, latencyMs: answer.latencyMs },
        responseDigest: sha256b64url(canonicalJson((JSON.parse(d.payload) as { event: unknown }).event)),
      });
      await this.#finish(d, lease, { state: 'delivered', at: this.#now(), status: answer.status, error: null });
      this.#stats.delivered += 1;
    } catch (err) {
      // The audit trail or the store failed: nothing was recorded as done, so try again later.
      this.#o.logger?.warn('outbox: delivery attempt could not be recorded; it will be retried', {
        delivery: d.id,
        error: (err as Error).message,
      });
      await this.#failed(d, lease, null, DELIVERY_FAILURE.storeUnavailable).catch(() => undefined);
    }
  }

  /** A failed attempt: back off, or dead-letter after the last one (audited first). */
  async #failed(d: Delivery, lease: string, status: number | null, error: string): Promise<void> {
    this.#stats.failed += 1;
    const at = this.#now();
    if (d.attempts >= this.#o.settings.maxAttempts) {
      try {
        await this.#audit(d, {
          decision: 'permit',
          reasons: [NOTIFICATION_AUDIT.deadLetter, error],
          upstream: status === null ? null : { status, latencyMs: 0 },
        });
      } catch {
        // Not audited, so not dead yet: one more turn after the longest wait.
        await this.#finish(d, lease, { state: 'pending', at, nextAttemptAt: at + this.#o.settings.maxDelayMs, status, error });
        return;
      }
      await this.#finish(d, lease, { state: 'dead', at, status, error });
      this.#stats.deadLettered += 1;
      return;
    }
    const wait = backoffMs(d.attempts, { baseMs: this.#o.settings.baseDelayMs, maxMs: this.#o.settings.maxDelayMs }, this.#o.random);
    await this.#finish(d, lease, { state: 'pending', at, nextAttemptAt: at + wait, status, error });
  }

  /**
   * Records how an attempt ended, and logs it: one line per attempt in the operational log, with
   * the recipient and sending systems, the contract, the delivery id, the outcome (delivered,
   * retry, dead-letter, cancelled), the recipient's status, the reason and how long the attempt
   * took. Never the CPR number or the payload (the delivery's audit records have the pseudonym).
   */
  async #finish(d: Delivery, lease: string, outcome: DeliveryOutcome): Promise<void> {
    const started = this.#started.get(d.id);
    this.#started.delete(d.id);
    const held = await this.#o.outbox.finish(d.id, lease, outcome);
    const line = {
      system: d.recipient.system,
      sender: d.meta.caller.system,
      contract: d.contract,
      delivery: d.id,
      auditId: d.auditId,
      outcome: OUTCOME[outcome.state],
      status: outcome.status,
      ...(outcome.error !== null ? { error: outcome.error } : {}),
      attempt: d.attempts,
      ...(outcome.state === 'pending' ? { retryInMs: outcome.nextAttemptAt - outcome.at } : {}),
      ms: started === undefined ? null : Math.round(performance.now() - started),
    };
    if (!held) this.#o.logger?.warn('outbox: lease lost before the attempt was recorded (another instance took over)', line);
    else if (outcome.state === 'dead') this.#o.logger?.warn('outbox: delivery attempt', line);
    else this.#o.logger?.info('outbox: delivery attempt', line);
  }

  /** The consent step again (src/exchange/consent-check.ts), fail closed: a payload that cannot be read is "unavailable". */
  async #consent(d: Delivery, payload: string): Promise<ConsentEvidence> {
    let cpr: string;
    try {
      ({ cpr } = JSON.parse(payload) as { cpr: string });
    } catch {
      return { status: 'unavailable' };
    }
    // The evidence the policy accepts now: a policy tightened since the row was queued holds for it.
    const policy = this.#o.rules().policies.policies.find((p) => p.id === d.meta.policy.id);
    const evidence = policy?.consent.required ? policy.consent.evidence : undefined;
    const requirement = storedRequirement(d.meta.consentCheck!, d.meta.caller.administration, evidence);
    return recheckConsent(this.#o.consent, cpr, requirement, new Date(this.#now()));
  }

  /**
   * Whether the recipient (and the sender, if the clause names it) still serve the citizen
   * today, as the policy's clause requires; undefined if the register cannot be read.
   */
  async #relationsHeld(d: Delivery, payload: string): Promise<boolean | undefined> {
    const check = d.meta.relationCheck!;
    const register = this.#o.relations;
    if (register === undefined) return undefined;
    try {
      const { cpr } = JSON.parse(payload) as { cpr: string };
      const administrations = [...new Set([check.administration, check.provider])];
      const inForce = await register.store.active(register.pseudonyms.all(cpr), administrations, copenhagenDate(new Date(this.#now())));
      return (
        needToKnow(check.requirement, { administration: check.administration, provider: check.provider, caseworker: null }, inForce)
          .relied !== undefined
      );
    } catch {
      return undefined;
    }
  }

  /** The delivery's audit record, on the notification's audit id. Resolves once durable. */
  async #audit(
    d: Delivery,
    over: Pick<ExchangeFacts, 'upstream' | 'responseDigest'> & Pick<AuditEntry, 'decision' | 'reasons'>,
  ): Promise<void> {
    const m = d.meta;
    const entry = withRecipient(
      auditEntry('notification', {
        auditId: d.auditId,
        requestId: d.requestId,
        contract: d.contract,
        caller: m.caller,
        caseworker: m.caseworker,
        caseRef: m.caseRef,
        purpose: m.purpose,
        subject: d.subject,
        policy: m.policy,
        policySet: m.policySet,
        legalBasis: m.legalBasis,
        fields: {
          requested: m.fields.requested,
          released: over.decision === 'permit' ? m.fields.released : [],
          withheld: over.decision === 'permit' ? m.fields.withheld : m.fields.requested,
        },
        consent: m.consent,
        tokenDigest: m.tokenDigest,
        ...over,
      }),
      d.recipient,
    );
    await this.#o.trail.append(entry);
  }
}
