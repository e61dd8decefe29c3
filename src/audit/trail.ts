import { canonicalJson, deepFreeze } from '../lib/digest.js';
import { Batcher } from '../store/batch.js';
import type { AuditStore } from '../store/types.js';
import { GENESIS, recordHash } from './chain.js';
import { assertNoPersonalData } from './guard.js';
import { recordId } from './id.js';
import type { AuditEntry, AuditRecord } from './types.js';

export interface AuditTrailOptions {
  /** This instance's chain id: unique per gateway instance that writes to the store. */
  readonly chain: string;
  /** Most entries in one commit. Default 500. */
  readonly maxBatch?: number;
  /** The clock records are stamped with. Default: the system clock. */
  readonly now?: () => Date;
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
 * @example
 * const trail = await AuditTrail.open(store, { chain: 'gw-1' });
 * const record = await trail.append(entry); // durable now
 */
export class AuditTrail {
  readonly chain: string;
  readonly #store: AuditStore;
  readonly #now: () => Date;
  readonly #batcher: Batcher<readonly AuditEntry[], AuditRecord[]>;
  #head: ChainHead;
  #stale = false;
  #stats = { batches: 0, records: 0, failures: 0 };

  private constructor(store: AuditStore, chain: string, head: ChainHead, options: AuditTrailOptions) {
    this.#store = store;
    this.chain = chain;
    this.#head = head;
    this.#now = options.now ?? (() => new Date());
    this.#batcher = new Batcher((groups) => this.#commit(groups), { maxBatch: options.maxBatch ?? 500 });
  }

  /** Opens the trail on its chain, continuing from the chain's last durable record. */
  static async open(store: { readonly audit: AuditStore }, options: AuditTrailOptions): Promise<AuditTrail> {
    if (typeof options.chain !== 'string' || !CHAIN_ID.test(options.chain)) {
      throw new TypeError('AuditTrail: chain must be 1-64 characters of A-Z, a-z, 0-9, ".", "_" or "-"');
    }
    const head = await store.audit.head(options.chain);
    return new AuditTrail(store.audit, options.chain, head === undefined ? { seq: 0, hash: GENESIS } : { seq: head.seq, hash: head.hash }, options);
  }

  /** The last record this trail knows to be durable (seq 0 and GENESIS for an empty chain). */
  get head(): ChainHead {
    return this.#head;
  }

  get stats(): AuditTrailStats {
    return { ...this.#stats };
  }

  /** Appends one record; resolves with it once it is durable. */
  async append(entry: AuditEntry): Promise<AuditRecord> {
    const [record] = await this.appendMany([entry]);
    return record as AuditRecord;
  }

  /** Appends records that must be written together, consecutively and all or none. */
  appendMany(entries: readonly AuditEntry[]): Promise<AuditRecord[]> {
    let snapshot: AuditEntry[];
    try {
      // A snapshot, so that the caller changing its object later cannot change what is hashed;
      // canonicalJson also refuses values that could not be hashed the same way twice.
      snapshot = entries.map((e) => {
        assertNoPersonalData(e);
        return JSON.parse(canonicalJson(e)) as AuditEntry;
      });
    } catch (err) {
      return Promise.reject(err);
    }
    if (snapshot.length === 0) return Promise.resolve([]);
    return this.#batcher.submit(snapshot);
  }

  /** Waits for the entries already submitted and refuses new ones. */
  async close(): Promise<void> {
    await this.#batcher.close();
  }

  async #commit(groups: readonly (readonly AuditEntry[])[]): Promise<AuditRecord[][]> {
    this.#stats.batches += 1;
    try {
      if (this.#stale) {
        const head = await this.#store.head(this.chain);
        this.#head = head === undefined ? { seq: 0, hash: GENESIS } : { seq: head.seq, hash: head.hash };
        this.#stale = false;
      }
      let { seq, hash } = this.#head;
      const placed = groups.map((group) =>
        group.map((entry) => {
          seq += 1;
          const unhashed = { ...entry, id: recordId(), chain: this.chain, seq, time: this.#now().toISOString(), prevHash: hash };
          hash = recordHash(hash, unhashed);
          return deepFreeze({ ...unhashed, hash });
        }),
      );
      const records = placed.flat();
      await this.#store.append(records);
      this.#head = { seq, hash };
      this.#stats.records += records.length;
      return placed;
    } catch (err) {
      // Unknown whether anything landed: take the head from the store before the next batch.
      this.#stale = true;
      this.#stats.failures += 1;
      throw err;
    }
  }
}
