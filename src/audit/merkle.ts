import { createHash } from 'node:crypto';

/**
 * Merkle trees in the style of Certificate Transparency (RFC 6962 §2.1, RFC 9162 §2.1): a leaf
 * is hashed as SHA-256(0x00 || data) and an interior node as SHA-256(0x01 || left || right),
 * so a leaf can never pass for a node. The tree over n leaves splits at the largest power of
 * two below n, which makes every left subtree perfect and aligned.
 *
 * The audit trail's leaves are the record hashes (32 bytes each, see chain.ts): leaf i (from 0)
 * is the record at seq i + 1. A signed checkpoint names the root over records 1..seq; an
 * inclusion proof shows that one record is in it without handing over the rest.
 */

const LEAF = Buffer.from([0x00]);
const NODE = Buffer.from([0x01]);

/** The root of an empty tree: SHA-256 of nothing. */
export const EMPTY_ROOT = createHash('sha256').digest();

/** SHA-256(0x00 || data). */
export function leafHash(data: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF).update(data).digest();
}

/** The leaf of an audit record: SHA-256(0x00 || the 32 bytes of its hex record hash). */
export function recordLeaf(recordHashHex: string): Buffer {
  if (typeof recordHashHex !== 'string' || !/^[0-9a-f]{64}$/.test(recordHashHex))
    throw new TypeError('recordLeaf: a record hash is 64 lower-case hex digits');
  return leafHash(Buffer.from(recordHashHex, 'hex'));
}

/** SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE).update(left).update(right).digest();
}

/** The largest power of two strictly below n (n >= 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The root over leaf hashes, straight from the definition (RFC 6962 MTH). For tests and small
 * trees; the checkpointer keeps a MerkleFrontier instead.
 */
export function rootOf(leaves: readonly Uint8Array[]): Buffer {
  if (leaves.length === 0) return EMPTY_ROOT;
  if (leaves.length === 1) return Buffer.from(leaves[0] as Uint8Array);
  const k = splitPoint(leaves.length);
  return nodeHash(rootOf(leaves.slice(0, k)), rootOf(leaves.slice(k)));
}

/** A perfect, aligned subtree: the 2^level leaves from index·2^level. */
export interface PerfectNode {
  readonly level: number;
  readonly index: number;
}

/** A perfect subtree with its hash. */
export interface HashedNode extends PerfectNode {
  readonly hash: Buffer;
}

/** A frontier as stored beside a checkpoint: the tree size and its perfect subtrees, hex. */
export interface FrontierJson {
  readonly size: number;
  readonly nodes: readonly { readonly level: number; readonly index: number; readonly hash: string }[];
}

/**
 * The right edge of a growing tree: the roots of the perfect subtrees that make up leaves
 * 0..size-1, largest first (one per set bit of size). O(log n) memory, O(1) amortised per leaf,
 * and the root is a right fold of it. Appending reports each perfect subtree it completes, so
 * the caller can keep the upper levels for inclusion proofs.
 *
 * @example
 * const f = new MerkleFrontier();
 * for (const r of records) f.push(recordLeaf(r.hash));
 * f.root().toString('hex') // the tree head over those records
 */
export class MerkleFrontier {
  #size: number;
  #nodes: HashedNode[];

  constructor(from?: FrontierJson) {
    if (from === undefined) {
      this.#size = 0;
      this.#nodes = [];
      return;
    }
    if (!Number.isSafeInteger(from.size) || from.size < 0 || !Array.isArray(from.nodes))
      throw new TypeError('MerkleFrontier: not a frontier');
    // The nodes must be exactly the decomposition of size: one per set bit, largest first.
    let covered = 0;
    const nodes: HashedNode[] = [];
    // (Array.isArray widens the nodes to any[]; they are read as the JSON they claim to be and checked one by one.)
    for (const n of from.nodes as FrontierJson['nodes']) {
      if (!Number.isInteger(n.level) || n.level < 0 || n.level > 52 || typeof n.hash !== 'string' || !/^[0-9a-f]{64}$/.test(n.hash))
        throw new TypeError('MerkleFrontier: not a frontier');
      const width = 2 ** n.level;
      if (
        covered % width !== 0 ||
        n.index !== covered / width ||
        (nodes.length > 0 && n.level >= (nodes[nodes.length - 1] as HashedNode).level)
      ) {
        throw new TypeError('MerkleFrontier: the nodes do not decompose the tree size');
      }
      covered += width;
      nodes.push({ level: n.level, index: n.index, hash: Buffer.from(n.hash, 'hex') });
    }
    if (covered !== from.size) throw new TypeError('MerkleFrontier: the nodes do not cover the tree size');
    this.#size = from.size;
    this.#nodes = nodes;
  }

  get size(): number {
    return this.#size;
  }

  /** The perfect subtrees, largest (leftmost) first. */
  get nodes(): readonly HashedNode[] {
    return this.#nodes;
  }

  /** Appends a leaf hash; calls `completed` for every perfect subtree of level >= 1 it closes. */
  push(leaf: Uint8Array, completed?: (node: HashedNode) => void): void {
    let node: HashedNode = { level: 0, index: this.#size, hash: Buffer.from(leaf) };
    this.#size += 1;
    for (
      let top = this.#nodes[this.#nodes.length - 1];
      top !== undefined && top.level === node.level;
      top = this.#nodes[this.#nodes.length - 1]
    ) {
      this.#nodes.pop();
      node = { level: node.level + 1, index: top.index / 2, hash: nodeHash(top.hash, node.hash) };
      completed?.(node);
    }
    this.#nodes.push(node);
  }

  /** The tree head over every leaf pushed so far. */
  root(): Buffer {
    const last = this.#nodes[this.#nodes.length - 1];
    if (last === undefined) return EMPTY_ROOT;
    let acc = last.hash;
    for (let i = this.#nodes.length - 2; i >= 0; i--) acc = nodeHash((this.#nodes[i] as HashedNode).hash, acc);
    return acc;
  }

  toJSON(): FrontierJson {
    return { size: this.#size, nodes: this.#nodes.map((n) => ({ level: n.level, index: n.index, hash: n.hash.toString('hex') })) };
  }
}

/**
 * The perfect subtrees whose fold is the hash of leaves [from, to), for `from` aligned to the
 * largest power of two not above to - from (as every range in an audit path is).
 */
export function decompose(from: number, to: number): PerfectNode[] {
  const out: PerfectNode[] = [];
  let at = from;
  while (at < to) {
    let level = 0;
    while (2 ** (level + 1) <= to - at && at % 2 ** (level + 1) === 0) level += 1;
    out.push({ level, index: at / 2 ** level });
    at += 2 ** level;
  }
  return out;
}

/** Folds the hashes of a decomposition (see decompose) into the hash of the whole range. */
export function foldRange(hashes: readonly Uint8Array[]): Buffer {
  if (hashes.length === 0) throw new TypeError('foldRange: an empty range has no hash');
  let acc: Buffer = Buffer.from(hashes[hashes.length - 1] as Uint8Array);
  for (let i = hashes.length - 2; i >= 0; i--) acc = nodeHash(hashes[i] as Uint8Array, acc);
  return acc;
}

/**
 * The audit path of leaf `index` in the tree of `size` leaves (RFC 6962 §2.1.1 PATH), as the
 * ranges whose hashes make it up, nearest the leaf first. Each range is given by the perfect
 * subtrees that fold into it, so that a caller holding stored subtree hashes needs no leaves.
 */
export function auditPathRanges(index: number, size: number): PerfectNode[][] {
  if (!Number.isSafeInteger(size) || size < 1 || !Number.isSafeInteger(index) || index < 0 || index >= size) {
    throw new TypeError('auditPathRanges: need 0 <= index < size');
  }
  const path: PerfectNode[][] = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (index < lo + k) {
      path.push(decompose(lo + k, hi));
      hi = lo + k;
    } else {
      path.push(decompose(lo, lo + k));
      lo += k;
    }
  }
  return path.reverse();
}

/** The audit path of a leaf from the leaf hashes themselves (tests, small trees, exports). */
export function auditPath(index: number, leaves: readonly Uint8Array[]): Buffer[] {
  return auditPathRanges(index, leaves.length).map((range) =>
    foldRange(range.map((n) => rootOf(leaves.slice(n.index * 2 ** n.level, (n.index + 1) * 2 ** n.level)))),
  );
}

/**
 * Checks an inclusion proof (RFC 9162 §2.1.3.2): that the leaf with this hash is leaf `index`
 * of the tree of `size` leaves whose root is `root`.
 */
export function verifyInclusion(index: number, size: number, leaf: Uint8Array, path: readonly Uint8Array[], root: Uint8Array): boolean {
  if (!Number.isSafeInteger(size) || !Number.isSafeInteger(index) || index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(Buffer.from(root));
}
