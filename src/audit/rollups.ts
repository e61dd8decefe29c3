import { rollupBatch } from '../store/dpo-rollup.js';
import type { Store } from '../store/types.js';

/** Lets other requests run between pages of work (better-sqlite3 is synchronous). */
export const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export interface RollupCatchUpOptions {
  /**
   * Records read, counted and written per page: one slice of event-loop work (and one commit)
   * between two turns of the loop. Default 100: parsing and summing a page of 100 records kept
   * the loop delay p99 near 6 ms on the 2-core benchmark machine, 250 about 8-10 ms.
   */
  readonly pageSize?: number;
}

export interface RollupSchedule {
  /** How often the pass runs by itself, in ms. Default 2000. */
  readonly everyMs?: number;
  /** A pass that failed (the operator's log); the next one comes at the next tick. */
  readonly onError: (err: unknown) => void;
}

/**
 * Brings the DPO rollups up to date with the trail. Appends do not touch the rollups (that kept
 * a dozen more rows and their indexes in every audit commit); this pass counts what was
 * appended since each chain's watermark instead. It reads each chain from its watermark in seq
 * order, a page at a time with a turn of the event loop between pages, and hands each page to
 * the store as one compare-and-set batch (DpoStore.addToRollups), so two passes at once, in
 * this process or in two instances on one PostgreSQL database, never count a record twice.
 *
 * The gateway runs it every couple of seconds (start/stop), so the rollups lag the trail by
 * about that much; the DPO pages that read them run it first (run), so they show every record
 * durable when the page was asked for, or say how many are still not counted.
 *
 * @example
 * const rollups = new RollupCatchUp(store);
 * rollups.start({ onError: (err) => logger.error('dpo rollups failed', { error: String(err) }) });
 * const behind = await rollups.run(20_000); // before reading the rollups
 * await rollups.stop();
 */
export class RollupCatchUp {
  readonly #store: Store;
  readonly #pageSize: number;
  #background: Promise<void> | undefined;
  #lock: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(store: Store, options: RollupCatchUpOptions = {}) {
    const pageSize = options.pageSize ?? 100;
    if (!Number.isInteger(pageSize) || pageSize < 1) throw new TypeError('RollupCatchUp: pageSize must be a positive integer');
    this.#store = store;
    this.#pageSize = pageSize;
  }

  /**
   * Counts at most `budget` records of those durable when it started; resolves with how many
   * of those are still not counted. Runs one at a time (calls queue). After stop() it counts
   * nothing more.
   */
  run(budget: number): Promise<number> {
    const next = this.#lock.then(() => this.#run(budget));
    this.#lock = next.catch(() => undefined);
    return next;
  }

  /** True while a background catch-up is running. */
  get running(): boolean {
    return this.#background !== undefined;
  }

  /**
   * Starts counting everything that is behind, in the background, unless that is already under
   * way: pass after pass while a pass leaves records it had no budget for.
   */
  background(onError: (err: unknown) => void): void {
    if (this.#background !== undefined || this.#stopped) return;
    this.#background = (async () => {
      try {
        while (!this.#stopped && (await this.run(20 * this.#pageSize)) > 0) await yieldToLoop();
      } catch (err) {
        onError(err);
      } finally {
        this.#background = undefined;
      }
    })();
  }

  /** Runs the background catch-up every `everyMs` from now on, until stop(). */
  start(schedule: RollupSchedule): void {
    const everyMs = schedule.everyMs ?? 2000;
    if (!Number.isFinite(everyMs) || everyMs <= 0) throw new TypeError('RollupCatchUp.start: everyMs must be positive');
    if (this.#timer !== undefined || this.#stopped) return;
    this.#timer = setInterval(() => this.background(schedule.onError), everyMs);
    this.#timer.unref();
  }

  /**
   * Stops the schedule and any catch-up in progress after its current page (whose batch is
   * either written whole or not at all), and waits for it. Call it before closing the store.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#background;
    await this.#lock;
  }

  /**
   * Counts each chain up to its head as read when the pass reaches the chain, not beyond: under
   * steady traffic a pass that chased the head would write a commit for every record or two.
   * What was appended meanwhile is the next pass's.
   */
  async #run(budget: number): Promise<number> {
    const store = this.#store;
    let left = budget;
    let behind = 0;
    const marks = await store.dpo.rollupWatermarks();
    for (const chain of await store.audit.chains()) {
      const target = (await store.audit.head(chain))?.seq ?? 0;
      let mark = marks.get(chain) ?? 0;
      while (mark < target && left > 0 && !this.#stopped) {
        const page = await store.audit.range(chain, mark + 1, Math.min(this.#pageSize, left, target - mark));
        const records = page.filter((r) => r.seq <= target); // past a gap (retention), the page may reach beyond
        const last = records[records.length - 1];
        if (last === undefined) break;
        left -= records.length;
        if (await store.dpo.addToRollups(rollupBatch(chain, mark, records))) mark = last.seq;
        else mark = (await store.dpo.rollupWatermarks()).get(chain) ?? mark; // counted by someone else meanwhile
        await yieldToLoop();
      }
      if (target > mark) behind += target - mark;
    }
    return behind;
  }
}
