import { deepFreeze } from '../lib/deep-freeze.js';
import { Batcher } from '../store/batch.js';
import { rememberCanonical } from '../store/rows.js';
import { ChainLeaseLostError, type ChainFence, type ChainLease } from '../store/audit-checkpoints.js';
import { IdempotencyKeyTakenError, OutboxWriteError, type QueuedNotification } from '../outbox/types.js';
import { RelationConflictError, type RelationWrite } from '../relations/types.js';
import { ChainConflictError, ReplayedClaimError, type AuditStore, type ReplayClaim } from '../store/types.js';
import { GENESIS } from './chain.js';
import { assertNoPersonalData } from './guard.js';
import { recordId } from './id.js';
import { entryMembers, membersText, placeRecord, type CanonicalMembers } from './place.js';
import type { AuditEntry, AuditRecord } from './types.js';

export interface AuditTrailOptions {
  /** This instance's chain id: unique per gateway instance that writes to the store. */
  readonly chain: string;
  /** Most entries in one commit. Default 500. */
  readonly maxBatch?: number;
  /** The clock records are stamped with. Default: the system clock. */
  readonly now?: () => Date;
  /**
   * The chain's lease (AuditCheckpointStore.lockChain). With it, nothing is written while the
   * lease is lost, and every append carries the lease's fence for the store to check.
   */
  readonly lease?: Pick<ChainLease, 'lost' | 'fence'>;
}

/** The last durable record of the chain, as this trail knows it. */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

export interface AuditTrailStats {
  /** Commits attempted. */
  readonly batches: number;
  /** Records made durable. */
  readonly records: number;
  /** Commits that failed (their entries were rejected). */
  readonly failures: number;
}

/** An entry as submitted: a frozen snapshot and its members, serialised once. */
interface Submitted {
  readonly snapshot: AuditEntry;
  readonly members: CanonicalMembers;
}

/** One appendMany call: its entries and the replay claim and notification that ride on their commit. */
interface Submission {
  readonly entries: readonly Submitted[];
  readonly claim: ReplayClaim | undefined;
  readonly notification: QueuedNotification | undefined;
  readonly relation: RelationWrite | undefined;
}

/** Why one appendMany call was refused while the rest of its commit was written. */
type Refusal = ReplayedClaimError | IdempotencyKeyTakenError | OutboxWriteError | RelationConflictError;

export interface AppendOptions {
  /**
   * A replay-cache key to claim in the same transaction as the records. If it is required and
   * already claimed, nothing of this call is written and it rejects with ReplayedClaimError;
   * the other calls sharing the commit are written without it.
   */
  readonly claim?: ReplayClaim | undefined;
  /**
   * A notification's outbox rows (and Idempotency-Key answer) to write in the same transaction
   * as the records. If its key is taken, nothing of this call is written and it rejects with
   * IdempotencyKeyTakenError; if the outbox cannot be written, with OutboxWriteError. The other
   * calls sharing the commit are written without it.
   */
  readonly notification?: QueuedNotification | undefined;
  /**
   * A relations register write to make in the same transaction as the records, so that the
   * relation and its audit record are one commit. If it lost to another write (the version moved
   * on, the case reference is taken), nothing of this call is written and it rejects with
   * RelationConflictError; the other calls sharing the commit are written without it.
   */
  readonly relation?: RelationWrite | undefined;
}

const CHAIN_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The audit trail of one gateway instance: a hash chain of records in the store.
 *
 * `append` resolves only once the record is durable. Entries arriving in the same turn of the
 * event loop, or while a commit is in flight, share one commit (group commit): at each flush
 * they are numbered and hashed in arrival order and handed to the store as one all-or-nothing
 * append. If that fails, every entry of the batch rejects and the head stays at the last
 * durable record; the next batch re-reads the head from the store first (the failed commit may
 * have landed after all, e.g. when the connection broke during COMMIT), so the chain never gets
 * a gap or a fork.
 *
 * With the chain's lease (AuditTrailOptions.lease) the trail writes only while it holds it:
 * while the lease is lost every append rejects with ChainLeaseLostError, and each append
 * carries the lease's fence, which the store checks in the append's own transaction. Re-reading
 * the head is safe because of that: under one holding nobody else can have written. When the
 * lease is taken again (a new fence) the head is read again first. An append that does not
 * continue the stored head (ChainConflictError: someone wrote the chain without the lease) stops
 * the trail until the lease is taken again; it never continues over records it did not write.
 *
 * Each record is serialised once: its entry's members when it is submitted, the whole record
 * when it is placed (src/audit/place.ts); the store writes that text. An append may carry a
 * replay claim (AppendOptions.claim), made in the same transaction: a required claim already
 * taken refuses that append alone, and the rest of the batch is committed without it. So may a
 * notification's outbox rows (AppendOptions.notification): a taken Idempotency-Key or an outbox
 * that cannot be written refuses that append alone, in the same way; and so may a relations
 * register write (AppendOptions.relation), refused alone if it lost to another write.
 *
 * @example
 * const trail = await AuditTrail.open(store, { chain: 'gw-1' });
 * const record = await trail.append(entry); // durable now
 */
export class AuditTrail {
  readonly chain: string;
  readonly #store: AuditStore;
  readonly #now: () => Date;
  readonly #batcher: Batcher<Submission, AuditRecord[] | Refusal>;
  #head: ChainHead;
  readonly #lease: Pick<ChainLease, 'lost' | 'fence'> | undefined;
  /** The lease holding the head was read or written under. */
  #fence: ChainFence | undefined;
  /** Set by a ChainConflictError: the holding under which the chain was found written by someone else. */
  #conflict: { readonly fence: ChainFence | undefined; readonly error: ChainConflictError } | undefined;
  #stale = false;
  #stats = { batches: 0, records: 0, failures: 0 };

  private constructor(store: AuditStore, chain: string, head: ChainHead, options: AuditTrailOptions) {
    this.#store = store;
    this.chain = chain;
    this.#head = head;
    this.#lease = options.lease;
    this.#fence = options.lease?.fence;
    this.#now = options.now ?? (() => new Date());
    this.#batcher = new Batcher((groups) => this.#commit(groups), { maxBatch: options.maxBatch ?? 500 });
  }

  /** Opens the trail on its chain, continuing from the chain's last durable record. */
  static async open(store: { readonly audit: AuditStore }, options: AuditTrailOptions): Promise<AuditTrail> {
    if (typeof options.chain !== 'string' || !CHAIN_ID.test(options.chain)) {
      throw new TypeError('AuditTrail: chain must be 1-64 characters of A-Z, a-z, 0-9, ".", "_" or "-"');
    }
    const head = await store.audit.head(options.chain);
    return new AuditTrail(
      store.audit,
      options.chain,
      head === undefined ? { seq: 0, hash: GENESIS } : { seq: head.seq, hash: head.hash },
      options,
    );
  }

  /** The last record this trail knows to be durable (seq 0 and GENESIS for an empty chain). */
  get head(): ChainHead {
    return this.#head;
  }

  /** The lease's fence under which `head` was read or written (undefined without a lease, or on SQLite). */
  get fence(): ChainFence | undefined {
    return this.#fence;
  }

  get stats(): AuditTrailStats {
    return { ...this.#stats };
  }

  /** Appends one record; resolves with it once it is durable. */
  async append(entry: AuditEntry, options: AppendOptions = {}): Promise<AuditRecord> {
    const [record] = await this.appendMany([entry], options);
    return record as AuditRecord;
  }

  /** Appends records that must be written together, consecutively and all or none. */
  appendMany(entries: readonly AuditEntry[], options: AppendOptions = {}): Promise<AuditRecord[]> {
    let snapshot: Submitted[];
    try {
      // A snapshot, so that the caller changing its object later cannot change what is hashed;
      // serialising it also refuses values that could not be hashed the same way twice.
      snapshot = entries.map((e) => {
        assertNoPersonalData(e);
        const members = entryMembers(e);
        const parsed = JSON.parse(membersText(members)) as AuditEntry;
        return { snapshot: deepFreeze(parsed), members };
      });
    } catch (err) {
      return Promise.reject(err);
    }
    if (snapshot.length === 0) return Promise.resolve([]);
    return this.#batcher
      .submit({ entries: snapshot, claim: options.claim, notification: options.notification, relation: options.relation })
      .then((outcome) => {
        if (outcome instanceof Error) throw outcome;
        return outcome;
      });
  }

  /** Waits for the entries already submitted and refuses new ones. */
  async close(): Promise<void> {
    await this.#batcher.close();
  }

  async #commit(submissions: readonly Submission[]): Promise<(AuditRecord[] | Refusal)[]> {
    const outcomes = new Array<AuditRecord[] | Refusal>(submissions.length);
    let pending = submissions.map((submission, index) => ({ submission, index }));
    while (pending.length > 0) {
      this.#stats.batches += 1;
      try {
        const lease = this.#lease;
        if (lease?.lost === true)
          throw new ChainLeaseLostError(
            this.chain,
            `chain ${this.chain}: this instance has lost the chain's lease; nothing is written until it holds it again`,
          );
        const fence = lease?.fence;
        if (this.#conflict !== undefined) {
          if (this.#conflict.fence === fence) throw this.#conflict.error;
          this.#conflict = undefined; // the lease was taken again: a new holding starts from the stored head
        }
        if (this.#stale || fence !== this.#fence) {
          const head = await this.#store.head(this.chain);
          this.#head = head === undefined ? { seq: 0, hash: GENESIS } : { seq: head.seq, hash: head.hash };
          this.#fence = fence;
          this.#stale = false;
        }
        let { seq, hash } = this.#head;
        const placed = pending.map(({ submission }) =>
          submission.entries.map(({ snapshot, members }) => {
            seq += 1;
            const { record, text } = placeRecord(snapshot, members, {
              id: recordId(),
              chain: this.chain,
              seq,
              time: this.#now().toISOString(),
              prevHash: hash,
            });
            rememberCanonical(record, text);
            hash = record.hash;
            return record;
          }),
        );
        const records = placed.flat();
        const claims = pending.flatMap(({ submission }) => (submission.claim === undefined ? [] : [submission.claim]));
        const notifying = pending.filter(({ submission }) => submission.notification !== undefined);
        const relating = pending.filter(({ submission }) => submission.relation !== undefined);
        await this.#store.append(
          records,
          claims,
          notifying.map(({ submission }) => submission.notification!),
          fence,
          relating.map(({ submission }) => submission.relation!),
        );
        this.#head = { seq, hash };
        this.#stats.records += records.length;
        pending.forEach(({ index }, i) => {
          outcomes[index] = placed[i]!;
        });
        pending = [];
      } catch (err) {
        // Unknown whether anything landed: take the head from the store before the next batch.
        this.#stale = true;
        this.#stats.failures += 1;
        if (err instanceof ChainConflictError && this.#conflict === undefined) {
          this.#conflict = {
            fence: this.#fence,
            error: new ChainConflictError(
              this.chain,
              `chain ${this.chain} was written by someone else than this instance (${err.message}); nothing is written until the chain's lease is taken again`,
            ),
          };
        }
        // A replayed token's records, a notification whose Idempotency-Key is taken, (when the
        // outbox cannot be written) every notification, and a relation write that lost, are
        // refused; the rest of the commit is tried again without them.
        let refused: typeof pending;
        let refusal: (submission: Submission) => Refusal;
        if (err instanceof ReplayedClaimError) {
          const replayed = new Set(err.keys);
          refused = pending.filter(({ submission }) => submission.claim?.required === true && replayed.has(submission.claim.key));
          refusal = (submission) => new ReplayedClaimError([submission.claim!.key]);
        } else if (err instanceof IdempotencyKeyTakenError) {
          const notifying = pending.filter(({ submission }) => submission.notification !== undefined);
          refused = err.positions.flatMap((i) => (notifying[i] === undefined ? [] : [notifying[i]]));
          refusal = () => new IdempotencyKeyTakenError([0]);
        } else if (err instanceof OutboxWriteError) {
          refused = pending.filter(({ submission }) => submission.notification !== undefined);
          refusal = () => err;
        } else if (err instanceof RelationConflictError) {
          const relating = pending.filter(({ submission }) => submission.relation !== undefined);
          refused = err.positions.flatMap((i) => (relating[i] === undefined ? [] : [relating[i]]));
          refusal = () => new RelationConflictError([0]);
        } else {
          throw err;
        }
        if (refused.length === 0) throw err; // the store named nothing this commit submitted: do not loop
        for (const { index, submission } of refused) outcomes[index] = refusal(submission);
        pending = pending.filter((p) => !refused.includes(p));
      }
    }
    return outcomes;
  }
}
