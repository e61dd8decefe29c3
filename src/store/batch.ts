/**
 * Group commit, independent of any store: calls made in the same turn of the event loop, or
 * while a commit is in flight, are collected and handed to `commit` together, so that one
 * transaction (and one fsync) serves them all. Each caller's promise settles only after that
 * commit: it resolves with its own result once the commit is durable, and rejects with the
 * commit's error if it failed. Commits never overlap: the next batch starts after the previous
 * one settled, in submission order.
 *
 * @example
 * const claims = new Batcher<Claim, boolean>((batch) => db.claimAll(batch));
 * const fresh = await claims.submit({ key, expiresAt });
 */

export interface BatcherOptions {
  /** Most items in one commit; the rest wait for the next one. Default 1000. */
  readonly maxBatch?: number;
}

export interface BatcherStats {
  /** Commits attempted (successful or not). */
  readonly batches: number;
  /** Items handed to commits. */
  readonly items: number;
  /** Items in the largest commit so far. */
  readonly largest: number;
}

interface Pending<I, O> {
  readonly item: I;
  resolve(value: O): void;
  reject(err: unknown): void;
}

export class Batcher<I, O> {
  readonly #commit: (items: readonly I[]) => Promise<readonly O[]> | readonly O[];
  readonly #maxBatch: number;
  #queue: Pending<I, O>[] = [];
  #scheduled = false;
  #inFlight: Promise<void> | undefined;
  #closed = false;
  #stats = { batches: 0, items: 0, largest: 0 };

  /** `commit` receives a batch and returns one result per item, in order, once durable. */
  constructor(commit: (items: readonly I[]) => Promise<readonly O[]> | readonly O[], options: BatcherOptions = {}) {
    const maxBatch = options.maxBatch ?? 1000;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new TypeError('Batcher: maxBatch must be a positive integer');
    this.#commit = commit;
    this.#maxBatch = maxBatch;
  }

  get stats(): BatcherStats {
    return { ...this.#stats };
  }

  /** Items waiting for a commit (not counting the one in flight). */
  get pending(): number {
    return this.#queue.length;
  }

  /** Queues an item for the next commit; settles when that commit does. */
  submit(item: I): Promise<O> {
    if (this.#closed) return Promise.reject(new Error('Batcher: closed'));
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#schedule();
    });
  }

  /** Waits until everything submitted so far has been committed (or has failed). */
  async drain(): Promise<void> {
    while (this.#queue.length > 0 || this.#inFlight !== undefined || this.#scheduled) {
      if (this.#inFlight !== undefined) await this.#inFlight;
      else await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Refuses new items and waits for the queued ones. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.drain();
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight !== undefined) return;
    this.#scheduled = true;
    // setImmediate, not a microtask: everything that arrives during this turn of the event
    // loop (several I/O callbacks, not only the current synchronous run) joins the batch.
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (this.#inFlight !== undefined || this.#queue.length === 0) return;
    const batch = this.#queue.splice(0, this.#maxBatch);
    this.#stats.batches += 1;
    this.#stats.items += batch.length;
    this.#stats.largest = Math.max(this.#stats.largest, batch.length);
    this.#inFlight = this.#run(batch).finally(() => {
      this.#inFlight = undefined;
      if (this.#queue.length > 0) this.#schedule();
    });
  }

  async #run(batch: readonly Pending<I, O>[]): Promise<void> {
    let results: readonly O[];
    try {
      results = await this.#commit(batch.map((p) => p.item));
      if (results.length !== batch.length) {
        throw new TypeError(`Batcher: commit returned ${results.length} results for ${batch.length} items`);
      }
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    batch.forEach((p, i) => p.resolve(results[i] as O));
  }
}
