import { CodedError } from '../errors.js';
import { MERKLE_STORED_LEVEL, type StoredCheckpoint } from '../store/audit-checkpoints.js';
import type { Store } from '../store/types.js';
import { recordHash } from './chain.js';
import type { CheckpointPayload, CheckpointVerifier } from './checkpoint.js';
import {
  auditPathRanges,
  foldRange,
  nodeHash,
  recordLeaf,
  rootOf,
  verifyInclusion,
  type FrontierJson,
  type PerfectNode,
} from './merkle.js';
import type { AuditRecord } from './types.js';

/**
 * That one record is in a chain's Merkle tree as signed by a checkpoint (RFC 6962 audit path).
 * With the record and the gateway's public key, anyone can check it; see verifyInclusionProof
 * and the offline verifier.
 */
export interface InclusionProof {
  readonly chain: string;
  /** The record's seq: leaf seq - 1 of the tree. */
  readonly seq: number;
  /** The tree size: the checkpoint's seq. */
  readonly treeSize: number;
  /** Hex hashes of the audit path, nearest the leaf first. */
  readonly path: readonly string[];
  /** The signed checkpoint (compact JWS) whose root the path leads to. */
  readonly checkpoint: string;
}

/** A record or node the proof needs is not in the store (deleted, or never sealed). */
export class ProofUnavailableError extends CodedError {
  readonly code = 'ERR_AUDIT_PROOF_UNAVAILABLE';
}

const key = (n: PerfectNode): string => `${n.level}:${n.index}`;

/**
 * Builds inclusion proofs for records of one chain from the stored upper levels of its Merkle
 * tree and, for the lowest levels, from the records themselves (one block of 64 per proof,
 * cached across the proofs of one builder).
 *
 * @example
 * const proofs = await new ProofBuilder(store, 'gw1').prove([17, 42], checkpoint);
 */
export class ProofBuilder {
  readonly #store: Pick<Store, 'audit' | 'checkpoints'>;
  readonly #chain: string;
  readonly #known = new Map<string, Buffer>();
  readonly #blocks = new Map<number, Promise<Map<number, Buffer>>>();

  /** `retained`: the frontier of the checkpoint at the retention mark, whose subtrees stand in for deleted records. */
  constructor(store: Pick<Store, 'audit' | 'checkpoints'>, chain: string, retained?: FrontierJson) {
    this.#store = store;
    this.#chain = chain;
    for (const n of retained?.nodes ?? []) this.#known.set(key(n), Buffer.from(n.hash, 'hex'));
  }

  /**
   * Proofs of the records at these seqs against the checkpoint (each seq <= checkpoint.seq);
   * a seq whose proof cannot be built (a record it needs is gone) maps to the error.
   */
  async prove(seqs: readonly number[], checkpoint: StoredCheckpoint): Promise<Map<number, InclusionProof | ProofUnavailableError>> {
    if (checkpoint.chain !== this.#chain) throw new TypeError('ProofBuilder: the checkpoint is of another chain');
    const paths = new Map<number, PerfectNode[][]>();
    for (const seq of seqs) {
      if (!Number.isSafeInteger(seq) || seq < 1 || seq > checkpoint.seq)
        throw new TypeError(`ProofBuilder: seq ${seq} is not covered by the checkpoint at seq ${checkpoint.seq}`);
      paths.set(seq, auditPathRanges(seq - 1, checkpoint.seq));
    }
    // One query for every stored node any of the paths needs.
    const high = new Map<string, PerfectNode>();
    for (const ranges of paths.values())
      for (const range of ranges)
        for (const n of range) if (n.level >= MERKLE_STORED_LEVEL && !this.#known.has(key(n))) high.set(key(n), n);
    for (const n of await this.#store.checkpoints.nodes(this.#chain, [...high.values()]))
      this.#known.set(key(n), Buffer.from(n.hash, 'hex'));

    const out = new Map<number, InclusionProof | ProofUnavailableError>();
    for (const [seq, ranges] of paths) {
      try {
        const path: string[] = [];
        for (const range of ranges) path.push(foldRange(await Promise.all(range.map((n) => this.#node(n)))).toString('hex'));
        out.set(seq, { chain: this.#chain, seq, treeSize: checkpoint.seq, path, checkpoint: checkpoint.jws });
      } catch (err) {
        if (!(err instanceof ProofUnavailableError)) throw err;
        out.set(seq, err);
      }
    }
    return out;
  }

  /** The proof of one record; throws ProofUnavailableError when it cannot be built. */
  async proveOne(seq: number, checkpoint: StoredCheckpoint): Promise<InclusionProof> {
    const proof = (await this.prove([seq], checkpoint)).get(seq);
    if (proof === undefined || proof instanceof Error) throw proof ?? new ProofUnavailableError(`no proof for seq ${seq}`);
    return proof;
  }

  async #node(n: PerfectNode): Promise<Buffer> {
    const known = this.#known.get(key(n));
    if (known !== undefined) return known;
    let hash: Buffer;
    if (n.level < MERKLE_STORED_LEVEL) {
      const width = 2 ** n.level;
      const first = n.index * width; // leaf index; the record at seq first + 1
      const block = await this.#block(Math.floor(first / 2 ** MERKLE_STORED_LEVEL));
      const leaves: Buffer[] = [];
      for (let i = first; i < first + width; i++) {
        const leaf = block.get(i + 1);
        if (leaf === undefined)
          throw new ProofUnavailableError(
            `chain ${this.#chain}: the record at seq ${i + 1} is not in the store; no proof can be built through it`,
          );
        leaves.push(leaf);
      }
      hash = rootOf(leaves);
    } else {
      // Not stored (e.g. sealed before nodes were kept): from its two halves.
      hash = nodeHash(
        await this.#node({ level: n.level - 1, index: n.index * 2 }),
        await this.#node({ level: n.level - 1, index: n.index * 2 + 1 }),
      );
    }
    this.#known.set(key(n), hash);
    return hash;
  }

  /** The leaf hashes of one block of 2^MERKLE_STORED_LEVEL records, by seq. */
  #block(block: number): Promise<Map<number, Buffer>> {
    let loading = this.#blocks.get(block);
    if (loading === undefined) {
      const size = 2 ** MERKLE_STORED_LEVEL;
      loading = this.#store.audit.range(this.#chain, block * size + 1, size).then((records) => {
        const leaves = new Map<number, Buffer>();
        for (const r of records) if (r.seq <= (block + 1) * size) leaves.set(r.seq, recordLeaf(r.hash));
        return leaves;
      });
      this.#blocks.set(block, loading);
    }
    return loading;
  }
}

export type InclusionCheck =
  | { readonly ok: true; readonly checkpoint: CheckpointPayload }
  | { readonly ok: false; readonly reason: 'checkpoint-invalid' | 'wrong-checkpoint' | 'not-included'; readonly message: string };

/**
 * Checks that this record, as it reads now, is in the tree the signed checkpoint names: the
 * record's hash is recomputed from its content (a changed record fails even if its stored hash
 * was left alone), and the audit path must lead from it to the signed root.
 */
export async function verifyInclusionProof(
  record: AuditRecord,
  proof: InclusionProof,
  verifier: CheckpointVerifier,
): Promise<InclusionCheck> {
  let hash: string;
  try {
    hash = recordHash(record.prevHash, record);
  } catch {
    hash = '';
  }
  return verifyHashInclusion(record, hash, proof, verifier);
}

/**
 * Checks that the hash a record whose content was erased still carries (src/audit/erasure.ts) is
 * in the tree the signed checkpoint names: what is left of the record cannot be hashed again, so
 * its stored hash is the leaf. Whether the erasure is documented is ErasureCheck's question.
 */
export function verifyErasedInclusionProof(
  record: AuditRecord,
  proof: InclusionProof,
  verifier: CheckpointVerifier,
): Promise<InclusionCheck> {
  return verifyHashInclusion(
    record,
    typeof record.hash === 'string' && /^[0-9a-f]{64}$/.test(record.hash) ? record.hash : '',
    proof,
    verifier,
  );
}

async function verifyHashInclusion(
  record: AuditRecord,
  hash: string,
  proof: InclusionProof,
  verifier: CheckpointVerifier,
): Promise<InclusionCheck> {
  let payload: CheckpointPayload;
  try {
    payload = await verifier.verify(proof.checkpoint);
  } catch (err) {
    return { ok: false, reason: 'checkpoint-invalid', message: (err as Error).message };
  }
  if (payload.chain !== record.chain || payload.seq !== proof.treeSize || proof.seq !== record.seq || record.seq > payload.seq) {
    return {
      ok: false,
      reason: 'wrong-checkpoint',
      message: 'the proof is for another record, chain or tree size than the checkpoint names',
    };
  }
  if (hash === '') return { ok: false, reason: 'not-included', message: 'the record cannot be hashed' };
  const leaf = recordLeaf(hash);
  const path = proof.path.map((h) => Buffer.from(h, 'hex'));
  if (
    proof.path.some((h) => !/^[0-9a-f]{64}$/.test(h)) ||
    !verifyInclusion(record.seq - 1, payload.seq, leaf, path, Buffer.from(payload.root, 'hex'))
  ) {
    return {
      ok: false,
      reason: 'not-included',
      message: `the record at seq ${record.seq} is not the one the checkpoint at seq ${payload.seq} includes`,
    };
  }
  return { ok: true, checkpoint: payload };
}
