import type { AuditStore, StoredAuditRow } from '../store/types.js';
import type { AuditRecord } from './types.js';
import { GENESIS, recordHash } from './chain.js';
import type { ChainHead } from './trail.js';

export type ChainProblemKind =
  /** A record's content no longer matches its hash: it was changed after it was written. */
  | 'hash-mismatch'
  /** A record does not link to the one before it: that one was changed (and rehashed) or replaced. */
  | 'prev-mismatch'
  /** Records are missing before this seq: removed. */
  | 'gap'
  /** A record that the trail never wrote sits in the chain at this seq. */
  | 'inserted'
  /** The record stored at this seq was written at another position: records were swapped or moved. */
  | 'reordered'
  /** The search columns of this row disagree with its record: the row was edited behind the trail's back. */
  | 'column-mismatch'
  /** The stored record cannot be read. */
  | 'malformed'
  /** The stored record belongs to another chain. */
  | 'wrong-chain'
  /** The chain ends before a seq that a trusted head (e.g. a signed checkpoint) says existed. */
  | 'truncated'
  /** The record at the trusted head's seq is not the one the trusted head names. */
  | 'head-mismatch'
  /** A signed checkpoint does not verify (signature, key, payload), or one was removed from the sequence. */
  | 'checkpoint-invalid'
  /** The record at a signed checkpoint's seq is not the one the checkpoint names: the chain was rewritten up to here. */
  | 'checkpoint-mismatch'
  /** The records up to a signed checkpoint do not give the Merkle root it names. */
  | 'root-mismatch'
  /** The chain starts after seq 1, and no documented retention deletion explains it. */
  | 'retention-unproven';

export interface ChainProblem {
  /** Where the problem is: the first seq that cannot be trusted. */
  readonly seq: number;
  readonly kind: ChainProblemKind;
  /** For the DPO: what was found, in seq numbers only. */
  readonly message: string;
}

export interface VerifyOptions {
  /** Start here (default 1). Without `anchor`, the first record's prevHash is taken on trust. */
  readonly fromSeq?: number;
  /**
   * A record known to be good (e.g. from a signed checkpoint): verification starts right after
   * it and checks that the next record links to it. Sets fromSeq to anchor.seq + 1.
   */
  readonly anchor?: ChainHead;
  /** A head known to be good: the chain must reach it, with this hash at this seq. */
  readonly trustedHead?: ChainHead;
  /** Rows read per page. Default 1000. */
  readonly pageSize?: number;
  /**
   * Called with each record once it has passed every check, in seq order; a problem it returns
   * ends the verification there (signed checkpoints and Merkle roots are checked this way).
   */
  readonly onRecord?: (record: AuditRecord) => ChainProblem | undefined | Promise<ChainProblem | undefined>;
}

export interface VerifyResult {
  readonly ok: boolean;
  readonly chain: string;
  /** Records checked and found good. */
  readonly checked: number;
  /** The last record found good: an anchor for the next, incremental verification. */
  readonly last?: ChainHead;
  readonly problem?: ChainProblem;
}

/**
 * Verifies a chain by streaming through it page by page: every record must sit at the seq it
 * was written for, link to the record before it and hash to its stored hash, and its search
 * columns must agree with it. Stops at the first problem and says where it is and what kind.
 *
 * Without a trusted head, removing records from the end of the chain (or rewriting the whole
 * tail consistently) cannot be told from a shorter chain: that is what signed checkpoints are
 * for; pass the latest one as `trustedHead`, and a verified one as `anchor`.
 *
 * @example
 * const result = await verifyChain(store, 'gw-1');
 * if (!result.ok) console.log(result.problem); // { seq: 42, kind: 'hash-mismatch', message: ... }
 */
export async function verifyChain(store: { readonly audit: AuditStore }, chain: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  const pageSize = options.pageSize ?? 1000;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new TypeError('verifyChain: pageSize must be a positive integer');
  let fromSeq = options.fromSeq ?? 1;
  if (options.anchor !== undefined) {
    if (options.fromSeq !== undefined && options.fromSeq !== options.anchor.seq + 1) throw new TypeError('verifyChain: fromSeq must be anchor.seq + 1 when both are given');
    fromSeq = options.anchor.seq + 1;
  }
  if (!Number.isSafeInteger(fromSeq) || fromSeq < 1) throw new TypeError('verifyChain: fromSeq must be a positive integer');

  const rows = new RowStream(store.audit, chain, fromSeq, pageSize);
  let expected = fromSeq;
  let prev: string | undefined = options.anchor?.hash ?? (fromSeq === 1 ? GENESIS : undefined);
  let prevPrev: string | undefined;
  let checked = 0;
  let last: ChainHead | undefined;
  const fail = (seq: number, kind: ChainProblemKind, message: string): VerifyResult => ({
    ok: false,
    chain,
    checked,
    ...(last !== undefined ? { last } : {}),
    problem: { seq, kind, message },
  });

  for (let row = await rows.next(); row !== undefined; row = await rows.next()) {
    const at = row.seq;
    if (at > expected) return fail(expected, 'gap', `records ${range(expected, at - 1)} are missing: removed from the chain`);
    const record = row.record;
    if (record === undefined) return fail(at, 'malformed', `the record stored at seq ${at} cannot be read`);
    if (record.chain !== chain) return fail(at, 'wrong-chain', `the record stored at seq ${at} was written for another chain`);
    if (record.seq !== at) {
      if (typeof record.seq !== 'number' || !Number.isSafeInteger(record.seq)) return fail(at, 'malformed', `the record stored at seq ${at} has no valid seq`);
      if (record.seq > at) {
        const following = await rows.peek();
        if (following?.record?.seq === at) {
          return fail(at, 'reordered', `the record stored at seq ${at} was written as seq ${record.seq}, and the record written as seq ${at} follows it: records are out of order`);
        }
        return fail(at, 'gap', `the record stored at seq ${at} was written as seq ${record.seq}: records ${range(at, record.seq - 1)} were removed and the rest renumbered`);
      }
      const inserted = at - record.seq;
      return fail(record.seq, 'inserted', `the record stored at seq ${at} was written as seq ${record.seq}: ${inserted === 1 ? `the record at seq ${record.seq} was` : `the records at seq ${range(record.seq, at - 1)} were`} inserted into the chain`);
    }
    if (prev !== undefined && record.prevHash !== prev) {
      if (prevPrev !== undefined && record.prevHash === prevPrev) {
        return fail(at - 1, 'inserted', `the record at seq ${at - 1} is not part of the chain: the record at seq ${at} links past it`);
      }
      return fail(at, 'prev-mismatch', `the record at seq ${at} does not link to the record at seq ${at - 1}: that record was changed or replaced`);
    }
    let hash: string | undefined;
    try {
      hash = recordHash(record.prevHash, record);
    } catch {
      hash = undefined;
    }
    if (hash === undefined || hash !== record.hash) return fail(at, 'hash-mismatch', `the record at seq ${at} was changed after it was written: its content does not match its hash`);
    if (row.columnMismatch.length > 0) {
      return fail(at, 'column-mismatch', `the search columns of the record at seq ${at} were changed (${row.columnMismatch.join(', ')}): they no longer match the record`);
    }
    if (options.trustedHead !== undefined && at === options.trustedHead.seq && record.hash !== options.trustedHead.hash) {
      return fail(at, 'head-mismatch', `the record at seq ${at} is not the record the trusted head names: the chain was rewritten up to here`);
    }
    if (options.onRecord !== undefined) {
      const problem = await options.onRecord(record);
      if (problem !== undefined) return fail(problem.seq, problem.kind, problem.message);
    }
    prevPrev = prev;
    prev = record.hash;
    last = { seq: at, hash: record.hash };
    checked += 1;
    expected = at + 1;
  }

  if (options.trustedHead !== undefined && expected <= options.trustedHead.seq) {
    return fail(expected, 'truncated', `the chain ends at seq ${expected - 1}, but the trusted head is at seq ${options.trustedHead.seq}: records ${range(expected, options.trustedHead.seq)} were removed`);
  }
  return { ok: true, chain, checked, ...(last !== undefined ? { last } : {}) };
}

function range(from: number, to: number): string {
  return from === to ? `${from}` : `${from}-${to}`;
}

/** The rows of a chain in seq order, fetched a page at a time, with one row of look-ahead. */
class RowStream {
  readonly #store: AuditStore;
  readonly #chain: string;
  readonly #pageSize: number;
  #nextSeq: number;
  #buffer: StoredAuditRow[] = [];
  #done = false;

  constructor(store: AuditStore, chain: string, fromSeq: number, pageSize: number) {
    this.#store = store;
    this.#chain = chain;
    this.#nextSeq = fromSeq;
    this.#pageSize = pageSize;
  }

  async next(): Promise<StoredAuditRow | undefined> {
    await this.#fill();
    return this.#buffer.shift();
  }

  async peek(): Promise<StoredAuditRow | undefined> {
    await this.#fill();
    return this.#buffer[0];
  }

  async #fill(): Promise<void> {
    if (this.#buffer.length > 0 || this.#done) return;
    const page = await this.#store.scan(this.#chain, this.#nextSeq, this.#pageSize);
    if (page.length < this.#pageSize) this.#done = true;
    const last = page[page.length - 1];
    if (last !== undefined) this.#nextSeq = last.seq + 1;
    this.#buffer = page;
  }
}
