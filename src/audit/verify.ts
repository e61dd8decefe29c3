import type { AuditStore, StoredAuditPage, StoredAuditRow } from '../store/types.js';
import { GENESIS, recordHash } from './chain.js';
import type { ChainHead } from './trail.js';
import type { AuditRecord } from './types.js';
import { erasedRow, FastRowCheck, type RowLink } from './verify-row.js';

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
  | 'retention-unproven'
  /** A record's content was erased, and no documented erasure under its purpose's retention explains it (src/audit/erasure.ts). */
  | 'erasure-unproven';

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
  /** Rows read per page (the next page is read while one is checked). Default 1000. */
  readonly pageSize?: number;
  /**
   * Called with each record's seq and hash once the record has passed every check, in seq order;
   * a problem it returns ends the verification there (signed checkpoints and Merkle roots are
   * checked this way).
   */
  readonly onRecord?: (record: ChainHead) => ChainProblem | undefined | Promise<ChainProblem | undefined>;
  /**
   * Called with each record whose content was erased (`erasedBy` set), once it sits in place,
   * links to the record before it and its search columns agree with it: its hash cannot be
   * recomputed from what is left, so this decides whether the erasure is documented and due
   * (ErasureCheck in erasure.ts); a problem it returns ends the verification there. Without it,
   * an erased record fails as a record whose content does not match its hash.
   */
  readonly onErased?: (record: AuditRecord) => ChainProblem | undefined | Promise<ChainProblem | undefined>;
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
 * Rows are read with AuditStore.scanPage when the store has it, and each is first given to the
 * fast check (verify-row.ts), which hashes the stored canonical text as it is. From a row it does
 * not pass, the rest of the page is read again with scan and checked as before, parsed and
 * serialised again, which decides what is wrong and where. A store without scanPage is read
 * with scan throughout.
 *
 * Without a trusted head, removing records from the end of the chain (or rewriting the whole
 * tail consistently) cannot be told from a shorter chain: that is what signed checkpoints are
 * for; pass the latest one as `trustedHead`, and a verified one as `anchor`.
 *
 * @example
 * const result = await verifyChain(store, 'gw-1');
 * if (!result.ok) console.log(result.problem); // { seq: 42, kind: 'hash-mismatch', message: ... }
 */
export async function verifyChain(
  store: { readonly audit: AuditStore },
  chain: string,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  const pageSize = options.pageSize ?? 1000;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new TypeError('verifyChain: pageSize must be a positive integer');
  let fromSeq = options.fromSeq ?? 1;
  if (options.anchor !== undefined) {
    if (options.fromSeq !== undefined && options.fromSeq !== options.anchor.seq + 1)
      throw new TypeError('verifyChain: fromSeq must be anchor.seq + 1 when both are given');
    fromSeq = options.anchor.seq + 1;
  }
  if (!Number.isSafeInteger(fromSeq) || fromSeq < 1) throw new TypeError('verifyChain: fromSeq must be a positive integer');

  const rows = new RowStream(store.audit, chain, fromSeq, pageSize);
  const fast = new FastRowCheck();
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

  // Awaits only between pages (and for onRecord), not for every row.
  while (rows.hasRow() || (await rows.fill())) {
    const at = rows.seq();
    if (at > expected) return fail(expected, 'gap', `records ${range(expected, at - 1)} are missing: removed from the chain`);
    const page = rows.fastPage();
    let quick: RowLink | undefined;
    let erased: AuditRecord | undefined;
    if (page !== undefined) {
      quick = fast.check(page, rows.index, chain);
      if (quick === undefined && options.onErased !== undefined) {
        erased = erasedRow(page, rows.index, chain);
        if (erased !== undefined) quick = { prevHash: erased.prevHash, hash: erased.hash };
      }
      if (quick === undefined) {
        // Not shown good: read the rest of this page as scan reads it, and check it that way.
        await rows.rescanRest();
        continue;
      }
    }
    const stored = quick === undefined ? rows.stored() : undefined;
    const record = stored?.record;
    if (stored !== undefined) {
      if (record === undefined) return fail(at, 'malformed', `the record stored at seq ${at} cannot be read`);
      if (record.chain !== chain) return fail(at, 'wrong-chain', `the record stored at seq ${at} was written for another chain`);
      if (record.seq !== at) {
        if (typeof record.seq !== 'number' || !Number.isSafeInteger(record.seq))
          return fail(at, 'malformed', `the record stored at seq ${at} has no valid seq`);
        if (record.seq > at) {
          const following = await rows.following();
          if (following?.record?.seq === at) {
            return fail(
              at,
              'reordered',
              `the record stored at seq ${at} was written as seq ${record.seq}, and the record written as seq ${at} follows it: records are out of order`,
            );
          }
          return fail(
            at,
            'gap',
            `the record stored at seq ${at} was written as seq ${record.seq}: records ${range(at, record.seq - 1)} were removed and the rest renumbered`,
          );
        }
        const inserted = at - record.seq;
        return fail(
          record.seq,
          'inserted',
          `the record stored at seq ${at} was written as seq ${record.seq}: ${inserted === 1 ? `the record at seq ${record.seq} was` : `the records at seq ${range(record.seq, at - 1)} were`} inserted into the chain`,
        );
      }
    }
    const prevHash: unknown = quick !== undefined ? quick.prevHash : record?.prevHash;
    if (prev !== undefined && prevHash !== prev) {
      if (prevPrev !== undefined && prevHash === prevPrev) {
        return fail(at - 1, 'inserted', `the record at seq ${at - 1} is not part of the chain: the record at seq ${at} links past it`);
      }
      return fail(
        at,
        'prev-mismatch',
        `the record at seq ${at} does not link to the record at seq ${at - 1}: that record was changed or replaced`,
      );
    }
    let hash: string;
    if (erased === undefined && record?.erasedBy !== undefined && options.onErased !== undefined && typeof record.hash === 'string') {
      // Content erased: what is left cannot be hashed again; its columns must agree, and its erasure be documented.
      if (stored !== undefined && stored.columnMismatch.length > 0) {
        return fail(
          at,
          'column-mismatch',
          `the search columns of the record at seq ${at} were changed (${stored.columnMismatch.join(', ')}): they no longer match the record`,
        );
      }
      erased = record;
    }
    if (erased !== undefined) {
      const found = await options.onErased!(erased);
      if (found !== undefined) return fail(found.seq, found.kind, found.message);
      hash = erased.hash;
    } else if (quick !== undefined) {
      hash = quick.hash;
    } else {
      let computed: string | undefined;
      try {
        computed = record === undefined ? undefined : recordHash(record.prevHash, record);
      } catch {
        computed = undefined;
      }
      if (record === undefined || computed === undefined || computed !== record.hash) {
        return fail(at, 'hash-mismatch', `the record at seq ${at} was changed after it was written: its content does not match its hash`);
      }
      if (stored !== undefined && stored.columnMismatch.length > 0) {
        return fail(
          at,
          'column-mismatch',
          `the search columns of the record at seq ${at} were changed (${stored.columnMismatch.join(', ')}): they no longer match the record`,
        );
      }
      hash = record.hash;
    }
    if (options.trustedHead !== undefined && at === options.trustedHead.seq && hash !== options.trustedHead.hash) {
      return fail(
        at,
        'head-mismatch',
        `the record at seq ${at} is not the record the trusted head names: the chain was rewritten up to here`,
      );
    }
    if (options.onRecord !== undefined) {
      const found = options.onRecord({ seq: at, hash });
      const problem = found instanceof Promise ? await found : found;
      if (problem !== undefined) return fail(problem.seq, problem.kind, problem.message);
    }
    prevPrev = prev;
    prev = hash;
    last = { seq: at, hash };
    checked += 1;
    expected = at + 1;
    rows.index += 1;
  }

  if (options.trustedHead !== undefined && expected <= options.trustedHead.seq) {
    return fail(
      expected,
      'truncated',
      `the chain ends at seq ${expected - 1}, but the trusted head is at seq ${options.trustedHead.seq}: records ${range(expected, options.trustedHead.seq)} were removed`,
    );
  }
  return { ok: true, chain, checked, ...(last !== undefined ? { last } : {}) };
}

function range(from: number, to: number): string {
  return from === to ? `${from}` : `${from}-${to}`;
}

/** A page of rows as scanPage reads them (for the fast check), or as scan reads them. */
type Page =
  { readonly fast: StoredAuditPage; readonly size: number } | { readonly stored: readonly StoredAuditRow[]; readonly size: number };

const seqAt = (page: Page, i: number): number => ('fast' in page ? (page.fast.seq[i] as number) : (page.stored[i] as StoredAuditRow).seq);

/**
 * The rows of a chain in seq order, a page at a time, read with scanPage when the store has it
 * (with scan otherwise). The next page is asked for as soon as one arrives, so that the store
 * reads it while this one is checked. `index` is the current row of the current page.
 */
class RowStream {
  readonly #audit: AuditStore;
  readonly #chain: string;
  readonly #pageSize: number;
  #page: Page | undefined;
  index = 0;
  #next: Promise<Page> | undefined;

  constructor(audit: AuditStore, chain: string, fromSeq: number, pageSize: number) {
    this.#audit = audit;
    this.#chain = chain;
    this.#pageSize = pageSize;
    this.#next = this.#read(fromSeq);
  }

  /** Whether the current page has a row at `index`. */
  hasRow(): boolean {
    return this.#page !== undefined && this.index < this.#page.size;
  }

  /** Moves to the next page; false at the end of the chain. */
  async fill(): Promise<boolean> {
    while (!this.hasRow()) {
      if (this.#next === undefined) return false;
      const page = await this.#next;
      this.#next = page.size === this.#pageSize ? this.#read(seqAt(page, page.size - 1) + 1) : undefined;
      this.#page = page;
      this.index = 0;
    }
    return true;
  }

  /** The seq the current row is stored at. */
  seq(): number {
    return seqAt(this.#page as Page, this.index);
  }

  /** The current page, when it was read with scanPage. */
  fastPage(): StoredAuditPage | undefined {
    const page = this.#page as Page;
    return 'fast' in page ? page.fast : undefined;
  }

  /** The current row as scan reads it (after rescanRest, or from a store without scanPage). */
  stored(): StoredAuditRow {
    const page = this.#page as Page;
    if (!('stored' in page)) throw new TypeError('verifyChain: the current row was not read with scan');
    return page.stored[this.index] as StoredAuditRow;
  }

  /** Replaces the rest of the current page (from the current row) by scan's reading of the same seqs. */
  async rescanRest(): Promise<void> {
    const page = this.#page as Page;
    const lastSeq = seqAt(page, page.size - 1);
    const rows = await this.#audit.scan(this.#chain, this.seq(), page.size - this.index);
    const stored = rows.filter((r) => r.seq <= lastSeq);
    this.#page = { stored, size: stored.length };
    this.index = 0;
  }

  /** The row after the current one, as scan reads it. */
  async following(): Promise<StoredAuditRow | undefined> {
    let page = this.#page as Page;
    let i = this.index + 1;
    if (i >= page.size) {
      if (this.#next === undefined) return undefined;
      page = await this.#next;
      i = 0;
      if (page.size === 0) return undefined;
    }
    if ('stored' in page) return page.stored[i];
    const seq = seqAt(page, i);
    const [row] = await this.#audit.scan(this.#chain, seq, 1);
    return row?.seq === seq ? row : undefined;
  }

  #read(fromSeq: number): Promise<Page> {
    const audit = this.#audit;
    const read: Promise<Page> =
      audit.scanPage !== undefined
        ? audit.scanPage(this.#chain, fromSeq, this.#pageSize).then((fast) => ({ fast, size: fast.seq.length }))
        : audit.scan(this.#chain, fromSeq, this.#pageSize).then((stored) => ({ stored, size: stored.length }));
    // Read ahead: if the verification ends before it is needed, a failure of this read concerns nobody.
    read.catch(() => undefined);
    return read;
  }
}
