import { CodedError } from '../errors.js';
import {
  ChainLeaseLostError,
  MERKLE_STORED_LEVEL,
  type ChainFence,
  type ChainLease,
  type StoredCheckpoint,
  type StoredMerkleNode,
} from '../store/audit-checkpoints.js';
import type { Store } from '../store/types.js';
import { GENESIS, recordHash } from './chain.js';
import { CheckpointInvalidError, type CheckpointSigner, type CheckpointVerifier } from './checkpoint.js';
import { FastRowCheck } from './verify-row.js';
import { MerkleFrontier, recordLeaf, type FrontierJson } from './merkle.js';
import type { ChainHead } from './trail.js';

/** The chain does not hold what the trail wrote, or the last checkpoint cannot be continued. Nothing was signed. */
export class AuditIntegrityError extends CodedError {
  readonly code = 'ERR_AUDIT_INTEGRITY';
  readonly chain: string;
  readonly seq: number;
  constructor(chain: string, seq: number, message: string) {
    super(message);
    this.chain = chain;
    this.seq = seq;
  }
}

export interface CheckpointerOptions {
  readonly store: Pick<Store, 'audit' | 'checkpoints'>;
  /** The trail of this instance: its chain, the last record it knows to be durable, and the lease holding it wrote that under. */
  readonly trail: { readonly chain: string; readonly head: ChainHead; readonly fence?: ChainFence | undefined };
  /**
   * The chain's lease: with it, nothing is signed while it is lost, each checkpoint carries its
   * fence for the store to check, and a new holding continues from the stored checkpoint again.
   */
  readonly lease?: Pick<ChainLease, 'lost' | 'fence'>;
  readonly signer: CheckpointSigner;
  /** Checks the chain's last stored checkpoint before continuing from it. */
  readonly verifier: CheckpointVerifier;
  /** The gateway id named in each checkpoint. */
  readonly gatewayId: string;
  /** Seal once this many records are unsealed. Default 1000. */
  readonly everyRecords?: number;
  /** Seal unsealed records at least this often. Default 60. */
  readonly everySeconds?: number;
  readonly now?: () => Date;
  /** Each stored checkpoint (e.g. to the SIEM). */
  readonly onCheckpoint?: (checkpoint: StoredCheckpoint) => void;
  /** A checkpoint that failed (the operator's log); the next attempt comes at the next tick. */
  readonly onError?: (err: Error) => void;
}

const PAGE = 1000;
/**
 * Sealing re-reads and re-hashes on the gateway's event loop, next to live requests: a page of
 * 1,000 records took about 25 ms here, a stall every 1,000 records that set the request p99
 * (bench/results). Pages of 100 with a turn of the event loop between them keep each slice
 * near 2.5 ms.
 */
const SEAL_PAGE = 100;
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Seals this instance's chain: at intervals (a number of records or a time) it reads the
 * records written since the last checkpoint, checks that they link to it and end at the head
 * the trail itself wrote, extends the Merkle tree over them, and stores a signed checkpoint with
 * the tree's upper nodes. Only the instance holding the chain's lease runs one for that chain.
 *
 * @example
 * const checkpointer = new Checkpointer({ store, trail, signer, verifier, gatewayId: 'snitflade-gateway' });
 * checkpointer.start();
 * await checkpointer.checkpoint(); // seal now
 * await checkpointer.stop();       // seals what is left
 */
export class Checkpointer {
  readonly #o: CheckpointerOptions;
  readonly #everyRecords: number;
  readonly #everySeconds: number;
  readonly #now: () => Date;
  #state: { last: StoredCheckpoint | undefined; frontier: MerkleFrontier } | undefined;
  /** The lease holding #state was read under. */
  #fence: ChainFence | undefined;
  #running: Promise<StoredCheckpoint | undefined> = Promise.resolve(undefined);
  #timer: NodeJS.Timeout | undefined;
  #lastAt = 0;

  constructor(options: CheckpointerOptions) {
    this.#o = options;
    this.#everyRecords = options.everyRecords ?? 1000;
    this.#everySeconds = options.everySeconds ?? 60;
    if (!Number.isInteger(this.#everyRecords) || this.#everyRecords < 1)
      throw new TypeError('Checkpointer: everyRecords must be a positive integer');
    if (!Number.isFinite(this.#everySeconds) || this.#everySeconds <= 0) throw new TypeError('Checkpointer: everySeconds must be positive');
    this.#now = options.now ?? (() => new Date());
  }

  /** The last checkpoint this checkpointer stored or continued from. */
  get last(): StoredCheckpoint | undefined {
    return this.#state?.last;
  }

  /** Checks every second (or sooner) whether a checkpoint is due. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#lastAt = Date.now();
    this.#timer = setInterval(
      () => {
        const unsealed = this.#o.trail.head.seq - (this.#state?.last?.seq ?? 0);
        const due = unsealed >= this.#everyRecords || (unsealed > 0 && Date.now() - this.#lastAt >= this.#everySeconds * 1000);
        if (due) this.checkpoint().catch((err: unknown) => this.#o.onError?.(err instanceof Error ? err : new Error(String(err))));
      },
      Math.min(1000, this.#everySeconds * 1000),
    );
    this.#timer.unref();
  }

  /** Stops the timer and seals whatever the trail wrote since the last checkpoint. */
  async stop(): Promise<StoredCheckpoint | undefined> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    return this.checkpoint();
  }

  /**
   * Seals the chain up to the trail's head now; resolves with the new checkpoint, or undefined
   * when nothing was written since the last one. Calls are serialised.
   */
  checkpoint(): Promise<StoredCheckpoint | undefined> {
    const next = this.#running.catch(() => undefined).then(() => this.#seal());
    this.#running = next;
    return next;
  }

  async #seal(): Promise<StoredCheckpoint | undefined> {
    const { chain } = this.#o.trail;
    const lease = this.#o.lease;
    if (lease?.lost === true) throw new ChainLeaseLostError(chain, `chain ${chain}: this instance has lost the chain's lease; not signed`);
    const fence = lease?.fence;
    // Taken again: the trail's head is known only once it wrote under the new holding.
    if (lease !== undefined && this.#o.trail.fence !== fence) return undefined;
    if (fence !== this.#fence) {
      this.#state = undefined; // another holder may have written and sealed in between: continue from what is stored
      this.#fence = fence;
    }
    const target = this.#o.trail.head;
    const state = this.#state ?? (await this.#resume(chain));
    this.#state = state;
    const from = state.last?.seq ?? 0;
    if (target.seq <= from) {
      if (target.seq < from)
        throw new AuditIntegrityError(
          chain,
          target.seq,
          `chain ${chain}: the trail's head (seq ${target.seq}) is behind its last checkpoint (seq ${from})`,
        );
      return undefined;
    }

    const frontier = new MerkleFrontier(state.frontier.toJSON());
    const nodes: StoredMerkleNode[] = [];
    const keep = (n: { level: number; index: number; hash: Buffer }): void => {
      if (n.level >= MERKLE_STORED_LEVEL) nodes.push({ level: n.level, index: n.index, hash: n.hash.toString('hex') });
    };
    const fast = new FastRowCheck();
    let prev = state.last?.head ?? GENESIS;
    let seq = from;
    while (seq < target.seq) {
      if (seq > from) await nextTurn();
      const limit = Math.min(SEAL_PAGE, target.seq - seq);
      // The fast row check (as verifyChain makes it) hashes the stored text as it is; a page it
      // cannot vouch for row by row is read again as records and checked the slow way, which
      // also says what is wrong.
      const links = await this.#fastLinks(fast, chain, seq + 1, limit, prev);
      const hashes = links ?? (await this.#checkedHashes(chain, seq + 1, limit, prev));
      for (const hash of hashes) frontier.push(recordLeaf(hash), keep);
      seq += hashes.length;
      prev = hashes[hashes.length - 1]!;
    }
    if (prev !== target.hash)
      throw new AuditIntegrityError(
        chain,
        target.seq,
        `chain ${chain}: the record at seq ${target.seq} is not the one this instance wrote; not signed`,
      );

    const time = this.#now().toISOString();
    const root = frontier.root().toString('hex');
    const payload = { v: 1 as const, gateway: this.#o.gatewayId, chain, seq: target.seq, head: target.hash, root, prev: from, time };
    // Only ever continue a checkpoint this instance knows: one stored by anyone else since would split the checkpoint chain.
    const stored = await this.#o.store.checkpoints.latest(chain);
    if (stored?.seq !== state.last?.seq || stored?.jws !== state.last?.jws) {
      throw new AuditIntegrityError(
        chain,
        stored?.seq ?? 0,
        `chain ${chain}: the last stored checkpoint (seq ${stored?.seq ?? 'none'}) is not the one this instance continues (seq ${state.last?.seq ?? 'none'}); not signed`,
      );
    }
    const jws = await this.#o.signer.sign(payload);
    const checkpoint: StoredCheckpoint = {
      chain,
      seq: target.seq,
      time,
      head: target.hash,
      root,
      prev: from,
      jws,
      frontier: JSON.stringify(frontier.toJSON()),
    };
    await this.#o.store.checkpoints.add(checkpoint, nodes, fence);
    this.#state = { last: checkpoint, frontier };
    this.#lastAt = Date.now();
    this.#o.onCheckpoint?.(checkpoint);
    return checkpoint;
  }

  /**
   * The hashes of records from..from+limit-1 read with scanPage, when every row passes the fast
   * check and links to the one before (the first to `prev`); undefined when the store has no
   * scanPage or any row is not shown sound that way.
   */
  async #fastLinks(fast: FastRowCheck, chain: string, from: number, limit: number, prev: string): Promise<string[] | undefined> {
    const audit = this.#o.store.audit;
    if (audit.scanPage === undefined) return undefined;
    const page = await audit.scanPage(chain, from, limit);
    if (page.seq.length !== limit) return undefined;
    const hashes: string[] = [];
    for (let i = 0; i < limit; i++) {
      if (page.seq[i] !== from + i) return undefined;
      const link = fast.check(page, i, chain);
      if (link === undefined || link.prevHash !== prev) return undefined;
      hashes.push(link.hash);
      prev = link.hash;
    }
    return hashes;
  }

  /** The same, read as records and hashed again; throws AuditIntegrityError at the first record that is missing, out of place or altered. */
  async #checkedHashes(chain: string, from: number, limit: number, prev: string): Promise<string[]> {
    const page = await this.#o.store.audit.range(chain, from, limit);
    if (page.length === 0) throw new AuditIntegrityError(chain, from, `chain ${chain}: records from seq ${from} are missing; not signed`);
    const hashes: string[] = [];
    let seq = from - 1;
    for (const r of page) {
      seq += 1;
      if (r.seq !== seq || r.chain !== chain)
        throw new AuditIntegrityError(chain, seq, `chain ${chain}: the record stored at seq ${seq} is out of place; not signed`);
      if (r.prevHash !== prev || recordHash(r.prevHash, r) !== r.hash)
        throw new AuditIntegrityError(chain, seq, `chain ${chain}: the record at seq ${seq} does not hash or link as written; not signed`);
      hashes.push(r.hash);
      prev = r.hash;
      if (hashes.length === limit) break;
    }
    return hashes;
  }

  /** Continues from the chain's last checkpoint, once its signature and frontier check out. */
  async #resume(chain: string): Promise<{ last: StoredCheckpoint | undefined; frontier: MerkleFrontier }> {
    const last = await this.#o.store.checkpoints.latest(chain);
    if (last === undefined) {
      const head = await this.#o.store.audit.range(chain, 1, 1);
      if (head[0] !== undefined && head[0].seq !== 1)
        throw new AuditIntegrityError(chain, 1, `chain ${chain} starts at seq ${head[0].seq} and has no checkpoint to continue from`);
      return { last: undefined, frontier: new MerkleFrontier() };
    }
    let payload;
    try {
      payload = await this.#o.verifier.verify(last.jws);
    } catch (err) {
      throw new AuditIntegrityError(
        chain,
        last.seq,
        `chain ${chain}: the last checkpoint (seq ${last.seq}) does not verify: ${(err as CheckpointInvalidError).message}`,
      );
    }
    if (payload.chain !== chain || payload.seq !== last.seq || payload.head !== last.head || payload.root !== last.root) {
      throw new AuditIntegrityError(chain, last.seq, `chain ${chain}: the last checkpoint's columns disagree with its signed payload`);
    }
    let frontier: MerkleFrontier | undefined;
    try {
      frontier = new MerkleFrontier(JSON.parse(last.frontier) as FrontierJson);
    } catch {
      frontier = undefined;
    }
    if (frontier === undefined || frontier.size !== payload.seq || frontier.root().toString('hex') !== payload.root) {
      frontier = await this.#rebuild(chain, payload.seq, payload.root);
    }
    return { last, frontier };
  }

  /** The frontier at `size` from the records themselves, when the stored one cannot be used. */
  async #rebuild(chain: string, size: number, root: string): Promise<MerkleFrontier> {
    const frontier = new MerkleFrontier();
    let seq = 0;
    while (seq < size) {
      const page = await this.#o.store.audit.range(chain, seq + 1, Math.min(PAGE, size - seq));
      for (const r of page) {
        if (r.seq !== seq + 1)
          throw new AuditIntegrityError(
            chain,
            seq + 1,
            `chain ${chain}: cannot rebuild the Merkle tree, records from seq ${seq + 1} are missing`,
          );
        seq += 1;
        frontier.push(recordLeaf(r.hash));
      }
      if (page.length === 0)
        throw new AuditIntegrityError(
          chain,
          seq + 1,
          `chain ${chain}: cannot rebuild the Merkle tree, records from seq ${seq + 1} are missing`,
        );
    }
    if (frontier.root().toString('hex') !== root)
      throw new AuditIntegrityError(
        chain,
        size,
        `chain ${chain}: the records up to the last checkpoint (seq ${size}) do not give its signed root`,
      );
    return frontier;
  }
}
