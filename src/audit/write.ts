import { GatewayError } from '../errors.js';
import { IdempotencyKeyTakenError, OutboxWriteError } from '../outbox/types.js';
import { RelationConflictError } from '../relations/types.js';
import { ReplayedClaimError } from '../store/types.js';
import type { AppendOptions, AuditTrail } from './trail.js';
import type { AuditEntry, AuditRecord } from './types.js';

/** What a writer reports about its audit writes: how long each took to become durable (the metrics implement it). */
export interface AuditWriteObserver {
  auditWrite(seconds: number): void;
}

/**
 * Steps 5 and 8, audit: appends a record and resolves once it is durable. If the trail cannot
 * write, the exchange stops here with 503 and nothing is released (invariant 2). With a required
 * replay claim that was taken before (the token was used already), nothing is written and it
 * throws TOKEN_REPLAYED.
 */
export async function writeAudit(
  trail: AuditTrail,
  entry: AuditEntry,
  observe?: AuditWriteObserver,
  with_?: AppendOptions,
): Promise<AuditRecord> {
  const [record] = await writeAudits(trail, [entry], observe, with_);
  return record!;
}

/**
 * writeAudit for records that are written together, all or none, with what rides on their
 * commit (AppendOptions): a replay claim, a notification's outbox rows, a relation write. A
 * notification whose Idempotency-Key is taken rejects with the store's IdempotencyKeyTakenError
 * (nothing written); an outbox that cannot be written, with OUTBOX_UNAVAILABLE; a relation write
 * that lost to another, with RELATION_CHANGED_MEANWHILE (nothing written either way).
 */
export async function writeAudits(
  trail: AuditTrail,
  entries: readonly AuditEntry[],
  observe?: AuditWriteObserver,
  with_: AppendOptions = {},
): Promise<AuditRecord[]> {
  const started = performance.now();
  try {
    return await trail.appendMany(entries, with_);
  } catch (err) {
    if (err instanceof ReplayedClaimError) throw new GatewayError('TOKEN_REPLAYED');
    if (err instanceof IdempotencyKeyTakenError) throw err;
    if (err instanceof OutboxWriteError) throw new GatewayError('OUTBOX_UNAVAILABLE', {}, { cause: err });
    if (err instanceof RelationConflictError) throw new GatewayError('RELATION_CHANGED_MEANWHILE', {}, { cause: err });
    throw new GatewayError('AUDIT_UNAVAILABLE', {}, { cause: err });
  } finally {
    observe?.auditWrite((performance.now() - started) / 1000);
  }
}
