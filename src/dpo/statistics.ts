import { rollupBatch } from '../store/dpo-rollup.js';
import type { Store } from '../store/types.js';

/** Lets other requests run between pages of work (better-sqlite3 is synchronous). */
export const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Brings the DPO rollups up to date with the trail. The store counts new records on append
 * (in the same transaction); this pass counts what it could not: records written before the
 * rollup tables existed, or by a store that had to skip the rollup. It reads each chain from
 * its watermark in seq order, a page at a time, and hands each page to the store as one
 * compare-and-set batch, so two instances catching up at once never count a record twice.
 */
export class RollupCatchUp {
  readonly #store: Store;
  readonly #pageSize: number;
  #background: Promise<void> | undefined;
  #lock: Promise<unknown> = Promise.resolve();

  constructor(store: Store, options: { pageSize?: number } = {}) {
    this.#store = store;
    this.#pageSize = options.pageSize ?? 2000;
  }

  /** Counts at most `budget` records; resolves with how many records are still not counted. */
  run(budget: number): Promise<number> {
    const next = this.#lock.then(() => this.#run(budget));
    this.#lock = next.catch(() => undefined);
    return next;
  }

  /** True while a background catch-up is running. */
  get running(): boolean {
    return this.#background !== undefined;
  }

  /** Starts counting everything that is behind, in the background, once. */
  background(onError: (err: unknown) => void): void {
    if (this.#background !== undefined) return;
    this.#background = (async () => {
      try {
        while ((await this.run(20 * this.#pageSize)) > 0) await yieldToLoop();
      } catch (err) {
        onError(err);
      } finally {
        this.#background = undefined;
      }
    })();
  }

  async #run(budget: number): Promise<number> {
    const store = this.#store;
    let left = budget;
    let behind = 0;
    const marks = await store.dpo.rollupWatermarks();
    for (const chain of await store.audit.chains()) {
      let mark = marks.get(chain) ?? 0;
      while (left > 0) {
        const records = await store.audit.range(chain, mark + 1, Math.min(this.#pageSize, left));
        const last = records[records.length - 1];
        if (last === undefined) break;
        left -= records.length;
        if (await store.dpo.addToRollups(rollupBatch(chain, mark, records))) mark = last.seq;
        else mark = (await store.dpo.rollupWatermarks()).get(chain) ?? mark; // counted by someone else meanwhile
        await yieldToLoop();
      }
      const head = await store.audit.head(chain);
      if (head !== undefined && head.seq > mark) behind += head.seq - mark;
    }
    return behind;
  }
}
