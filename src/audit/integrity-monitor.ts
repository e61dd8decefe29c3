import { recordHash } from './chain.js';
import type { CheckpointVerifier } from './checkpoint.js';
import { ErasureCheck } from './erasure.js';
import { verificationStatuses, type RecordVerification as SealStatus } from './search.js';
import type { AuditRecord } from './types.js';
import type { ChainHead } from './trail.js';
import { verifyChain, type ChainProblem } from './verify.js';
import { verifySealedChain } from './verify-trail.js';
import type { AuditStore, Store } from '../store/types.js';
import { yieldToLoop } from './rollups.js';

/**
 * The trail's integrity as the DPO pages show it.
 *
 * Every chain is sealed by signed checkpoints (src/audit/checkpointer.ts, every 1000 records or
 * every minute by default). A page view verifies each chain's latest checkpoint (signature,
 * Merkle frontier) and every record after it, so its cost is bounded by the checkpoint interval,
 * not by the size of the trail. The records before it are sealed, and a full verification from
 * the first record (or the retention mark) re-checks all of them: it finds a record changed
 * behind the gateway's back long after it was written. At a million records that takes many
 * seconds, so it runs in the background, a page at a time so that the gateway keeps serving,
 * when the DPO asks and by itself when the last one is older than `fullEveryMs`. A problem found
 * stays reported until a full verification passes again.
 */

export type IntegrityState = 'intact' | 'failed' | 'pending';

export interface ChainIntegrity {
  readonly chain: string;
  readonly state: IntegrityState;
  /** Records up to here were found good (by the last check of the chain's tail or by the full run). */
  readonly verifiedThrough: number;
  /** The chain's last seq as of this check. */
  readonly headSeq: number;
  /** The latest signed checkpoint the check started from, when there is one. */
  readonly checkpoint?: { readonly seq: number; readonly time: string };
  readonly problem?: ChainProblem;
}

export interface FullRun {
  readonly running: boolean;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly checked: number;
  readonly ok?: boolean;
  /** The run stopped on an error of the store, not on a problem in the trail. */
  readonly error?: string;
}

export interface IntegrityStatus {
  readonly state: IntegrityState;
  readonly chains: readonly ChainIntegrity[];
  readonly checkedAt: string;
  readonly full: FullRun;
}

/** A chain's latest signed checkpoint, as the overview and the integrity page list it. */
export interface CheckpointSummary {
  readonly chain: string;
  readonly seq: number;
  readonly time: string;
  /** The checkpoint's signature verified with the gateway's public key. */
  readonly signatureValid: boolean;
}

/** What the detail page says about one record. */
export interface RecordVerification {
  /**
   * The record's content still hashes to its stored hash; for a record whose content was erased
   * under its purpose's retention (`erased`), its erasure is documented, was due, and what is left
   * is unchanged.
   */
  readonly hashIntact: boolean;
  /** The record's content was erased under its purpose's retention (src/audit/erasure.ts). */
  readonly erased: boolean;
  /** The record before it hashes to this record's prevHash; null when that record is no longer stored. */
  readonly linksToPrevious: boolean | null;
  /** The record after it links to this one; null when this is the chain's last record. */
  readonly linkedFromNext: boolean | null;
  /** The search columns of the stored row agree with the record. */
  readonly columnsIntact: boolean;
  /** The stored row at this record's seq is this record. */
  readonly inPlace: boolean;
  /** Proven included in a signed checkpoint ('verified'), written after the latest one ('pending'), or not ('failed'). */
  readonly seal: SealStatus;
  /** The chain's status in the monitor. */
  readonly chain: ChainIntegrity | undefined;
}

/**
 * Records the background full run reads (and hashes) between two turns of the event loop: small,
 * so that a page view waiting for its turn waits a few milliseconds, not the time to hash a
 * thousand records.
 */
const FULL_RUN_PAGE = 200;

interface ChainState {
  verifiedThrough: number;
  /** The last record found good: the next check of the tail starts after it. */
  anchor?: ChainHead;
  problem?: ChainProblem;
  checkpoint?: { seq: number; time: string };
}

/** An AuditStore view that yields to the event loop before each page and ends after `upTo`. */
export function pacedAudit(audit: AuditStore, upTo = Number.MAX_SAFE_INTEGER): AuditStore {
  return {
    head: (chain) => audit.head(chain),
    append: (...args) => audit.append(...args),
    range: (chain, fromSeq, limit) => audit.range(chain, fromSeq, limit),
    chains: () => audit.chains(),
    search: (query) => audit.search(query),
    async scan(chain, fromSeq, limit) {
      await yieldToLoop();
      if (fromSeq > upTo) return [];
      return audit.scan(chain, fromSeq, Math.min(limit, upTo - fromSeq + 1));
    },
    // The fast reading of the verifier, paced and capped alike.
    ...(audit.scanPage === undefined
      ? {}
      : {
          async scanPage(chain: string, fromSeq: number, limit: number) {
            await yieldToLoop();
            if (fromSeq > upTo) return { seq: [], record: [], time: [], reasons: [], columns: [] };
            return audit.scanPage!(chain, fromSeq, Math.min(limit, upTo - fromSeq + 1));
          },
        }),
  };
}

export class IntegrityMonitor {
  readonly #store: Store;
  readonly #verifier: CheckpointVerifier;
  readonly #fullEveryMs: number;
  /** Problems found by the tail checks, per chain (sticky until a full run passes). */
  readonly #tail = new Map<string, ChainState>();
  /** Per chain, what the last full run found. */
  #fullFound = new Map<string, ChainState>();
  #full: { running: boolean; startedAt?: string; finishedAt?: string; checked: number; ok?: boolean; error?: string } = {
    running: false,
    checked: 0,
  };
  #queue: Promise<unknown> = Promise.resolve();
  /** A full run was asked for while one was running: it runs again once that one ends. */
  #again = false;

  constructor(store: Store, verifier: CheckpointVerifier, options: { fullEveryMs?: number } = {}) {
    this.#store = store;
    this.#verifier = verifier;
    this.#fullEveryMs = options.fullEveryMs ?? 6 * 3_600_000;
  }

  get full(): FullRun {
    return { ...this.#full };
  }

  /**
   * Verifies each chain's latest checkpoint and the records after it (at most `budget` records
   * per chain), and returns the status. Starts a full verification in the background if none
   * ran for `fullEveryMs`.
   */
  refresh(budget = 20_000, onError: (err: unknown) => void = () => undefined): Promise<IntegrityStatus> {
    const next = this.#queue.then(() => this.#refresh(budget, onError));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Starts a full verification of every chain in the background. If one is running, it may have
   * read past a record that was changed since: another run follows it.
   */
  startFull(onError: (err: unknown) => void = () => undefined): void {
    if (this.#full.running) {
      this.#again = true;
      return;
    }
    this.#full = { running: true, startedAt: new Date().toISOString(), checked: 0 };
    void this.#runFull()
      .catch((err: unknown) => {
        this.#full = { ...this.#full, running: false, finishedAt: new Date().toISOString(), error: 'the store could not be read' };
        onError(err);
      })
      .finally(() => {
        if (this.#again) {
          this.#again = false;
          this.startFull(onError);
        }
      });
  }

  /** Checks one record: its own hash, its neighbours, its columns, and its inclusion in a signed checkpoint. */
  async verifyRecord(record: AuditRecord): Promise<RecordVerification> {
    const store = this.#store;
    const rows = await store.audit.scan(record.chain, Math.max(1, record.seq - 1), record.seq === 1 ? 2 : 3);
    const at = (seq: number) => rows.find((r) => r.seq === seq);
    const own = at(record.seq);
    const prev = record.seq > 1 ? at(record.seq - 1) : undefined;
    const next = at(record.seq + 1);
    const erased = record.erasedBy !== undefined;
    let hashIntact: boolean;
    try {
      hashIntact = erased
        ? (await new ErasureCheck(store, this.#verifier).check(record)) === undefined
        : recordHash(record.prevHash, record) === record.hash;
    } catch {
      hashIntact = false;
    }
    const headSeq = (await store.audit.head(record.chain))?.seq ?? record.seq;
    const [seal] = await verificationStatuses({ store, verifier: this.#verifier }, [record]);
    return {
      hashIntact,
      erased,
      linksToPrevious:
        record.seq === 1 ? record.prevHash === '0'.repeat(64) : prev?.record === undefined ? null : prev.record.hash === record.prevHash,
      linkedFromNext: next === undefined ? (headSeq > record.seq ? false : null) : next.record?.prevHash === record.hash,
      columnsIntact: own !== undefined && own.columnMismatch.length === 0,
      inPlace: own?.record?.id === record.id,
      seal: seal ?? { status: 'failed', reason: 'not checked' },
      chain: this.#chainStatus(record.chain, headSeq),
    };
  }

  /** Each chain's latest signed checkpoint and whether its signature verifies with the gateway's keys; chains without one are left out. */
  async checkpoints(chains: readonly string[]): Promise<CheckpointSummary[]> {
    const out: CheckpointSummary[] = [];
    for (const chain of chains) {
      const latest = await this.#store.checkpoints.latest(chain);
      if (latest === undefined) continue;
      let signatureValid: boolean;
      try {
        const payload = await this.#verifier.verify(latest.jws);
        signatureValid = payload.chain === chain && payload.seq === latest.seq;
      } catch {
        signatureValid = false;
      }
      out.push({ chain, seq: latest.seq, time: latest.time, signatureValid });
    }
    return out;
  }

  async #chains(): Promise<string[]> {
    return [...new Set([...(await this.#store.audit.chains()), ...(await this.#store.checkpoints.chains())])].sort();
  }

  async #refresh(budget: number, onError: (err: unknown) => void): Promise<IntegrityStatus> {
    const store = this.#store;
    const chains: ChainIntegrity[] = [];
    for (const chain of await this.#chains()) {
      const headSeq = (await store.audit.head(chain))?.seq ?? 0;
      const previous = this.#tail.get(chain);
      const full = this.#fullFound.get(chain);
      if (previous?.problem === undefined) {
        const latest = await store.checkpoints.latest(chain);
        const anchor = previous?.anchor ?? (full?.problem === undefined ? full?.anchor : undefined);
        if (anchor !== undefined && anchor.seq >= (latest?.seq ?? 0)) {
          // Only what was appended since the last good record: it must link to it.
          if (anchor.seq < headSeq) {
            const result = await verifyChain({ audit: pacedAudit(store.audit, anchor.seq + budget) }, chain, { anchor });
            const last = result.last ?? anchor;
            this.#tail.set(chain, {
              ...previous,
              verifiedThrough: last.seq,
              anchor: last,
              ...(result.problem !== undefined ? { problem: result.problem } : {}),
            });
          }
        } else {
          // From the latest signed checkpoint (its signature and Merkle frontier checked), or the start.
          const fromSeq = (latest?.seq ?? 0) + 1;
          const result = await verifySealedChain(
            { store: { audit: pacedAudit(store.audit, fromSeq + budget - 1), checkpoints: store.checkpoints }, verifier: this.#verifier },
            chain,
            latest !== undefined ? { fromCheckpoint: latest.seq } : {},
          );
          const checkpoint =
            result.lastCheckpoint !== undefined ? { seq: result.lastCheckpoint.seq, time: result.lastCheckpoint.time } : undefined;
          const head = result.head ?? (result.ok && latest !== undefined ? { seq: latest.seq, hash: latest.head } : undefined);
          this.#tail.set(chain, {
            verifiedThrough: head?.seq ?? 0,
            ...(head !== undefined ? { anchor: head } : {}),
            ...(result.problem !== undefined ? { problem: result.problem } : {}),
            ...(checkpoint !== undefined ? { checkpoint } : {}),
          });
        }
      }
      chains.push(this.#chainStatus(chain, headSeq));
    }
    const last = this.#full.finishedAt !== undefined ? Date.parse(this.#full.finishedAt) : 0;
    if (!this.#full.running && Date.now() - last > this.#fullEveryMs) this.startFull(onError);
    return this.#summary(chains);
  }

  async #runFull(): Promise<void> {
    const store = this.#store;
    const found = new Map<string, ChainState>();
    let checked = 0;
    for (const chain of await this.#chains()) {
      const base = checked;
      const result = await verifySealedChain(
        { store: { audit: pacedAudit(store.audit), checkpoints: store.checkpoints }, verifier: this.#verifier },
        chain,
        {
          pageSize: FULL_RUN_PAGE,
          onProgress: (p) => {
            this.#full = { ...this.#full, checked: base + p.done };
          },
        },
      );
      checked += result.checked;
      const checkpoint =
        result.lastCheckpoint !== undefined ? { seq: result.lastCheckpoint.seq, time: result.lastCheckpoint.time } : undefined;
      found.set(chain, {
        verifiedThrough: result.head?.seq ?? 0,
        ...(result.head !== undefined ? { anchor: result.head } : {}),
        ...(result.problem !== undefined ? { problem: result.problem } : {}),
        ...(checkpoint !== undefined ? { checkpoint } : {}),
      });
    }
    // The full run is the authority: it replaces what the tail checks found.
    this.#fullFound = found;
    this.#tail.clear();
    this.#full = {
      running: false,
      startedAt: this.#full.startedAt!,
      finishedAt: new Date().toISOString(),
      checked,
      ok: [...found.values()].every((k) => k.problem === undefined),
    };
  }

  #chainStatus(chain: string, headSeq: number): ChainIntegrity {
    const tail = this.#tail.get(chain);
    const full = this.#fullFound.get(chain);
    const problem = tail?.problem ?? full?.problem;
    const verifiedThrough = Math.max(tail?.verifiedThrough ?? 0, full?.problem === undefined ? (full?.verifiedThrough ?? 0) : 0);
    const checkpoint = tail?.checkpoint ?? full?.checkpoint;
    const base = { chain, verifiedThrough, headSeq, ...(checkpoint !== undefined ? { checkpoint } : {}) };
    if (problem !== undefined) return { ...base, verifiedThrough: Math.min(verifiedThrough, problem.seq - 1), state: 'failed', problem };
    return { ...base, state: verifiedThrough >= headSeq ? 'intact' : 'pending' };
  }

  #summary(chains: ChainIntegrity[]): IntegrityStatus {
    const state: IntegrityState = chains.some((c) => c.state === 'failed')
      ? 'failed'
      : chains.some((c) => c.state === 'pending')
        ? 'pending'
        : 'intact';
    return { state, chains, checkedAt: new Date().toISOString(), full: this.full };
  }
}
