/**
 * What the audit trail keeps beside its records: signed checkpoints with the Merkle frontier at
 * each, the upper levels of each chain's Merkle tree (for inclusion proofs without reading the
 * whole trail), the exports made, the retention mark of each chain, and the lease that makes
 * one running instance the only writer of its chain. One interface, a SQLite and a PostgreSQL
 * implementation (sqlite-audit-checkpoints.ts, postgres-audit-checkpoints.ts).
 */

import type { AuditRecord } from '../audit/types.js';
import { CodedError } from '../errors.js';

/** A signed checkpoint as stored. The JWS is the evidence; the other columns index it. */
export interface StoredCheckpoint {
  readonly chain: string;
  /** Tree size: the checkpoint covers records 1..seq. */
  readonly seq: number;
  readonly time: string; // ISO 8601 UTC, when signed
  readonly head: string; // hex
  readonly root: string; // hex
  readonly prev: number;
  readonly jws: string;
  /** The Merkle frontier at seq (JSON of FrontierJson): where the next checkpoint continues. Not signed; checked against the signed root before use. */
  readonly frontier: string;
}

/** A perfect subtree of a chain's Merkle tree (levels from MERKLE_STORED_LEVEL up are kept). */
export interface StoredMerkleNode {
  readonly level: number;
  readonly index: number;
  readonly hash: string; // hex
}

/** Subtrees of at least 2^6 = 64 leaves are stored; smaller ones are computed from the records. */
export const MERKLE_STORED_LEVEL = 6;

/** One export of a chain's records (with their checkpoints) to a folder. */
export interface AuditExportEntry {
  readonly id: string;
  readonly chain: string;
  readonly fromSeq: number;
  /** The last record exported: always the seq of a signed checkpoint. */
  readonly toSeq: number;
  readonly time: string;
  /** Where it was written (a folder name, for the operator). */
  readonly location: string;
  /** SHA-256 of the export's manifest.json, hex. */
  readonly manifestDigest: string;
}

/** Records 1..throughSeq of the chain were deleted under the retention rule, after export. */
export interface RetentionMark {
  readonly chain: string;
  /** Always the seq of a signed checkpoint: verification continues from it. */
  readonly throughSeq: number;
  /** The admin audit record that documents the deletion. */
  readonly auditId: string;
  readonly exportId: string;
  readonly time: string;
}

/**
 * A record whose content was erased under its purpose's retention (src/audit/erasure.ts): the
 * admin record that documents the erasure, and the SHA-256 (hex) of what was left of the record.
 */
export interface ErasureEntry {
  readonly chain: string;
  readonly seq: number;
  /** The audit id of the admin record that documents the erasure. */
  readonly auditId: string;
  readonly digest: string;
}

/** One record to erase: what is left of it (with `erasedBy` set) and the digest of that, for its erasure entry. */
export interface ErasureWrite {
  readonly record: AuditRecord;
  readonly digest: string;
}

/** The records a purpose's retention may erase next (AuditCheckpointStore.expiring). */
export interface ExpiringQuery {
  readonly chain: string;
  readonly purpose: string;
  /** Written before this time (ISO). */
  readonly before: string;
  /** After this position in (time, seq) order (exclusive); absent: from the first record. */
  readonly after?: { readonly time: string; readonly seq: number };
  readonly limit: number;
}

/**
 * The one name under which the retention job takes its lease (lockRetention): not a chain id
 * (those never hold a space), so no gateway instance can hold it as its chain.
 */
export const RETENTION_LEASE = 'retention job';

/**
 * What a write of the chain's holder carries to prove it holds the lease: the generation the
 * holder got when it took the lease. A store that checks it does so in the write's own
 * transaction and refuses the write (ChainLeaseLostError) when the lease has moved on.
 */
export interface ChainFence {
  readonly chain: string;
  readonly generation: number;
}

/** Held by the one running instance that writes a chain. */
export interface ChainLease {
  readonly chain: string;
  /** True once the lease was lost (e.g. the database connection holding it broke) and not yet regained. */
  readonly lost: boolean;
  /**
   * The fence of the current holding, a new object each time the lease is taken (again);
   * undefined while the lease is lost, and where the lock cannot be lost while the process
   * lives, so there is nothing to prove (SQLite).
   */
  readonly fence: ChainFence | undefined;
  release(): Promise<void>;
}

/** A store error about one audit chain, named in `chain`. */
export abstract class ChainError extends CodedError {
  readonly chain: string;
  constructor(chain: string, message: string) {
    super(message);
    this.chain = chain;
  }
}

/** This instance does not hold its chain's lease (lost, or taken since by another process): nothing was written. */
export class ChainLeaseLostError extends ChainError {
  readonly code = 'ERR_AUDIT_CHAIN_LEASE_LOST';
}

/** Another running instance holds the chain: two instances must not share an instance id. */
export class ChainInUseError extends ChainError {
  readonly code = 'ERR_AUDIT_CHAIN_IN_USE';
}

/** The refusal of a write whose fence is no longer the chain's current one. */
export function leaseMovedOn(fence: ChainFence): ChainLeaseLostError {
  return new ChainLeaseLostError(
    fence.chain,
    `chain ${fence.chain}: this instance no longer holds the chain's lease (generation ${fence.generation} is not the current one); nothing was written`,
  );
}

/** Another running instance is applying the retention rules (lockRetention): this one leaves it to that one. */
export class RetentionInUseError extends ChainError {
  readonly code = 'ERR_AUDIT_RETENTION_IN_USE';
}

/** An erasure found a record already erased, or not the record it read (its id changed): nothing was written. */
export class ErasureConflictError extends ChainError {
  readonly code = 'ERR_AUDIT_ERASURE_CONFLICT';
}

/** A checkpoint at this seq of this chain is already stored. Nothing was written. */
export class CheckpointConflictError extends CodedError {
  readonly code = 'ERR_AUDIT_CHECKPOINT_CONFLICT';
  constructor(chain: string, seq: number) {
    super(`a checkpoint of chain ${chain} at seq ${seq} already exists`);
  }
}

export interface AuditCheckpointStore {
  /**
   * Stores a checkpoint and the Merkle nodes completed since the previous one; all or nothing.
   * With a fence, only while it is the chain's current one (else ChainLeaseLostError).
   */
  add(checkpoint: StoredCheckpoint, nodes: readonly StoredMerkleNode[], fence?: ChainFence): Promise<void>;
  /** Every chain that has a checkpoint (a chain whose records were all deleted still shows here). */
  chains(): Promise<string[]>;
  /** The chain's checkpoint with the highest seq. */
  latest(chain: string): Promise<StoredCheckpoint | undefined>;
  /** Checkpoints with seq > afterSeq, ascending, at most `limit`. */
  list(chain: string, afterSeq: number, limit: number): Promise<StoredCheckpoint[]>;
  /** The checkpoint with the highest seq <= seq. */
  atOrBefore(chain: string, seq: number): Promise<StoredCheckpoint | undefined>;
  /** The checkpoint with the highest seq signed before `time` (ISO). */
  lastBefore(chain: string, time: string): Promise<StoredCheckpoint | undefined>;
  /** The stored Merkle nodes among those asked for (missing ones are left out). */
  nodes(chain: string, wanted: readonly { readonly level: number; readonly index: number }[]): Promise<StoredMerkleNode[]>;
  recordExport(entry: AuditExportEntry): Promise<void>;
  /** The chain's exports, by toSeq ascending. */
  exports(chain: string): Promise<AuditExportEntry[]>;
  retention(chain: string): Promise<RetentionMark | undefined>;
  /** Sets the chain's retention mark (it only moves forward). */
  markRetention(mark: RetentionMark): Promise<void>;
  /** Deletes at most `limit` records of the chain with seq <= throughSeq; resolves the number deleted. */
  deleteThrough(chain: string, throughSeq: number, limit: number): Promise<number>;
  /**
   * Records of the chain with the purpose, written before `before`, in (time, seq) order after
   * `after`, at most `limit` (erased ones included): what the purpose's retention may erase next.
   * Reads the purpose's search index.
   */
  expiring(query: ExpiringQuery): Promise<AuditRecord[]>;
  /**
   * Erases records, in one transaction, all or nothing: each record stored at the chain and seq
   * of an ErasureWrite, with the same id, is replaced by what is left of it (its text and search
   * columns), and its erasure entry is stored (auditId: the record's `erasedBy`). Rejects with
   * ErasureConflictError, writing nothing, when a record is not there with that id or has an
   * erasure entry already. With a fence (the retention lease's), only while it is current.
   */
  erase(erasures: readonly ErasureWrite[], fence?: ChainFence): Promise<void>;
  /**
   * Forgets the erasure entries no record left needs: those of each admin record whose entries
   * all lie at or before `throughSeq` of the chain (records the global retention rule deleted).
   * Resolves the number forgotten. An admin record with an entry after it keeps all of its own,
   * which its digest covers.
   */
  forgetErasures(chain: string, throughSeq: number): Promise<number>;
  /** The chain's erasure entries with fromSeq <= seq < toSeq, by seq. */
  erasures(chain: string, fromSeq: number, toSeq: number): Promise<ErasureEntry[]>;
  /** The erasure entries naming this admin record, by (chain, seq), after `after` (exclusive), at most `limit`. */
  erasedBy(auditId: string, after: { readonly chain: string; readonly seq: number } | undefined, limit: number): Promise<ErasureEntry[]>;
  /**
   * Per purpose, how far the purposes' retention has gone through the chain: every record of the
   * purpose written before that time (ISO) is erased, or was not of a kind it erases.
   */
  erasureMarks(chain: string): Promise<Map<string, string>>;
  /** Sets a purpose's erasure mark in the chain (it only moves forward). */
  markErasure(chain: string, purpose: string, throughTime: string): Promise<void>;
  /**
   * Stores the signature of an erasure of the chain (a JWS, see ErasurePayload in
   * audit/checkpoint.ts) by the audit id of the admin record documenting it. Rejects with
   * ErasureConflictError, writing nothing, when that audit id has a signature already.
   */
  addErasureSignature(chain: string, auditId: string, jws: string): Promise<void>;
  /** The signature stored for the erasure the admin record with this audit id documents. */
  erasureSignature(auditId: string): Promise<string | undefined>;
  /**
   * Takes the lease of the retention job (RETENTION_LEASE), so that one instance at a time
   * applies the retention rules to the store's chains. Rejects with RetentionInUseError when
   * another running instance holds it. Held as lockChain holds a chain.
   */
  lockRetention(): Promise<ChainLease>;
  /**
   * Takes the chain for this process. Rejects with ChainInUseError if another running instance
   * holds it. PostgreSQL: a session advisory lock on a connection of its own, held until
   * release, and a new generation of the chain's lease row (the fence). SQLite: an exclusive
   * lock on a small database file beside the store, held by a connection of this process; the
   * kernel releases it when the process ends, however it ends.
   */
  lockChain(chain: string, options?: { onLost?: (err: Error) => void; onRegained?: () => void }): Promise<ChainLease>;
}

// ---------------------------------------------------------------------------------------------
// Shared by both implementations

export interface CheckpointRow {
  chain: string;
  seq: number | string;
  time: string | Date;
  head: string;
  root: string;
  prev: number | string;
  jws: string;
  frontier: string;
}

export function fromCheckpointRow(r: CheckpointRow): StoredCheckpoint {
  return {
    chain: r.chain,
    seq: Number(r.seq),
    time: r.time instanceof Date ? r.time.toISOString() : r.time,
    head: r.head,
    root: r.root,
    prev: Number(r.prev),
    jws: r.jws,
    frontier: r.frontier,
  };
}

export interface ExportRow {
  id: string;
  chain: string;
  from_seq: number | string;
  to_seq: number | string;
  time: string | Date;
  location: string;
  manifest_digest: string;
}

export function fromExportRow(r: ExportRow): AuditExportEntry {
  return {
    id: r.id,
    chain: r.chain,
    fromSeq: Number(r.from_seq),
    toSeq: Number(r.to_seq),
    time: r.time instanceof Date ? r.time.toISOString() : r.time,
    location: r.location,
    manifestDigest: r.manifest_digest,
  };
}

export interface RetentionRow {
  chain: string;
  through_seq: number | string;
  audit_id: string;
  export_id: string;
  time: string | Date;
}

export function fromRetentionRow(r: RetentionRow): RetentionMark {
  return {
    chain: r.chain,
    throughSeq: Number(r.through_seq),
    auditId: r.audit_id,
    exportId: r.export_id,
    time: r.time instanceof Date ? r.time.toISOString() : r.time,
  };
}

export interface ErasureRow {
  chain: string;
  seq: number | string;
  audit_id: string;
  digest: string;
}

export function fromErasureRow(r: ErasureRow): ErasureEntry {
  return { chain: r.chain, seq: Number(r.seq), auditId: r.audit_id, digest: r.digest };
}

/** Checks erasures before they are written: each names what is left of a record, erased by an admin record. */
export function checkErasures(erasures: readonly ErasureWrite[]): void {
  for (const e of erasures) {
    const r = e.record;
    if (
      typeof r?.chain !== 'string' ||
      !Number.isSafeInteger(r.seq) ||
      typeof r.id !== 'string' ||
      typeof r.erasedBy !== 'string' ||
      r.subject !== null ||
      typeof e.digest !== 'string'
    )
      throw new TypeError('AuditCheckpointStore.erase: not an erased record');
  }
}

export function checkCheckpoint(c: StoredCheckpoint): void {
  if (
    typeof c.chain !== 'string' ||
    !Number.isSafeInteger(c.seq) ||
    c.seq < 1 ||
    typeof c.jws !== 'string' ||
    typeof c.frontier !== 'string'
  ) {
    throw new TypeError('AuditCheckpointStore.add: not a checkpoint');
  }
}
