import type { AuditTrail } from '../audit/trail.js';
import type { AuditEntry, AuditRecord } from '../audit/types.js';
import { GatewayError } from '../errors.js';
import { IdempotencyKeyTakenError, OutboxWriteError, type QueuedNotification } from '../outbox/types.js';
import { ReplayedClaimError, type ReplayClaim } from '../store/types.js';
import type { PipelineObserver } from './deps.js';

/** Everything known about an exchange when one of its records is written. */
export type ExchangeFacts = Pick<AuditEntry, 'auditId' | 'requestId' | 'caller'> & Partial<Omit<AuditEntry, 'auditId' | 'requestId' | 'caller' | 'kind' | 'fields'>> & {
  readonly fields?: Partial<AuditEntry['fields']>;
};

export function auditEntry(kind: AuditEntry['kind'], f: ExchangeFacts): AuditEntry {
  return {
    kind,
    auditId: f.auditId,
    requestId: f.requestId,
    contract: f.contract ?? null,
    caller: f.caller,
    caseworker: f.caseworker ?? null,
    caseRef: f.caseRef ?? null,
    purpose: f.purpose ?? null,
    subject: f.subject ?? null,
    policy: f.policy ?? null,
    policySet: f.policySet ?? null,
    legalBasis: f.legalBasis ?? null,
    decision: f.decision ?? null,
    reasons: f.reasons ?? [],
    fields: {
      requested: f.fields?.requested ?? [],
      released: f.fields?.released ?? [],
      withheld: f.fields?.withheld ?? [],
      dropped: f.fields?.dropped ?? [],
    },
    consent: f.consent ?? null,
    tokenDigest: f.tokenDigest ?? null,
    upstream: f.upstream ?? null,
    responseDigest: f.responseDigest ?? null,
    status: f.status ?? null,
    latencyMs: f.latencyMs ?? null,
  };
}

/**
 * Steps 5 and 8, audit: appends a record and resolves once it is durable. If the trail cannot
 * write, the exchange stops here with 503 and nothing is released (invariant 2). With a required
 * replay claim that was taken before (the token was used already), nothing is written and it
 * throws TOKEN_REPLAYED.
 */
export async function writeAudit(trail: AuditTrail, entry: AuditEntry, observe?: Pick<PipelineObserver, 'auditWrite'>, claim?: ReplayClaim): Promise<AuditRecord> {
  const [record] = await writeAudits(trail, [entry], observe, claim);
  return record!;
}

/**
 * writeAudit for records that are written together, all or none; with a notification, its outbox
 * rows in the same commit. A notification whose Idempotency-Key is taken rejects with the
 * store's IdempotencyKeyTakenError (nothing written); an outbox that cannot be written, with
 * OUTBOX_UNAVAILABLE (nothing written).
 */
export async function writeAudits(trail: AuditTrail, entries: readonly AuditEntry[], observe?: Pick<PipelineObserver, 'auditWrite'>, claim?: ReplayClaim, notification?: QueuedNotification): Promise<AuditRecord[]> {
  const started = performance.now();
  try {
    return await trail.appendMany(entries, { ...(claim !== undefined ? { claim } : {}), ...(notification !== undefined ? { notification } : {}) });
  } catch (err) {
    if (err instanceof ReplayedClaimError) throw new GatewayError('TOKEN_REPLAYED');
    if (err instanceof IdempotencyKeyTakenError) throw err;
    if (err instanceof OutboxWriteError) throw new GatewayError('OUTBOX_UNAVAILABLE', {}, { cause: err });
    throw new GatewayError('AUDIT_UNAVAILABLE', {}, { cause: err });
  } finally {
    observe?.auditWrite((performance.now() - started) / 1000);
  }
}
