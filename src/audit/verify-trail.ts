import type { RetentionMark, StoredCheckpoint } from '../store/audit-checkpoints.js';
import type { Store } from '../store/types.js';
import type { CheckpointPayload, CheckpointVerifier } from './checkpoint.js';
import { ErasureCheck } from './erasure.js';
import { MerkleFrontier, recordLeaf, type FrontierJson } from './merkle.js';
import { documentsRetention } from './reasons.js';
import type { ChainHead } from './trail.js';
import { verifyChain, type ChainProblem, type ChainProblemKind } from './verify.js';

export interface ChainVerification {
  readonly chain: string;
  readonly ok: boolean;
  /** Records checked and found good. */
  readonly checked: number;
  /** The first seq verified (1, or the record after the retention mark or the trusted checkpoint). */
  readonly fromSeq: number;
  /** The last record found good. */
  readonly head?: ChainHead;
  /** Signed checkpoints checked along the way. */
  readonly checkpoints: number;
  /** The last signed checkpoint found good. */
  readonly lastCheckpoint?: { readonly seq: number; readonly time: string; readonly root: string };
  /** Records after the last good checkpoint: protected by the hash chain only, until the next checkpoint. */
  readonly unsealed: number;
  /** Records 1..throughSeq were deleted under the retention rule after export. */
  readonly retained?: { readonly throughSeq: number; readonly time: string; readonly auditId: string };
  /** Records checked whose content was erased under their purpose's retention, each erasure documented and due (absent: none). */
  readonly erased?: number;
  readonly problem?: ChainProblem;
}

export interface TrailVerification {
  readonly ok: boolean;
  readonly verifiedAt: string;
  readonly chains: readonly ChainVerification[];
}

export interface VerifyTrailDeps {
  readonly store: Pick<Store, 'audit' | 'checkpoints'>;
  readonly verifier: CheckpointVerifier;
}

export interface VerifyChainOptions {
  /**
   * Start after this stored checkpoint (its seq) instead of the start of the chain: the records
   * up to it are taken on trust (e.g. verified before), the checkpoint's signature is checked.
   */
  readonly fromCheckpoint?: number;
  /** Records read per page. Default 1000. */
  readonly pageSize?: number;
  /** Called as records are checked: `done` of `total` (total is an estimate from the chain's head). */
  readonly onProgress?: (progress: { readonly chain: string; readonly done: number; readonly total: number }) => void;
}

const problem = (seq: number, kind: ChainProblemKind, message: string): ChainProblem => ({ seq, kind, message });

/**
 * Verifies every chain in the store (those with records and those with checkpoints only):
 * each record in place, hashed and linked (verifyChain), and each signed checkpoint: its
 * signature under a key the gateway trusts, no checkpoint missing from the sequence, the record
 * at its seq the one it names, and the Merkle root over the records up to it the one it signs.
 * A deletion under the retention rule is accepted only at a signed checkpoint and with the admin
 * record that documents it; a record whose content was erased under its purpose's retention only
 * with a documented erasure that was due (ErasureCheck in erasure.ts). Stops each chain at its
 * first problem and says where and what.
 *
 * @example
 * const report = await verifyTrail({ store, verifier });
 * report.chains.filter((c) => !c.ok).map((c) => c.problem) // [{ seq: 42, kind: 'hash-mismatch', ... }]
 */
export async function verifyTrail(
  deps: VerifyTrailDeps,
  options: { readonly chains?: readonly string[] } & Omit<VerifyChainOptions, 'fromCheckpoint'> = {},
): Promise<TrailVerification> {
  const chains = options.chains ?? [...new Set([...(await deps.store.audit.chains()), ...(await deps.store.checkpoints.chains())])].sort();
  const results: ChainVerification[] = [];
  for (const chain of chains) results.push(await verifySealedChain(deps, chain, options));
  return { ok: results.every((r) => r.ok), verifiedAt: new Date().toISOString(), chains: results };
}

/** Verifies one chain with its checkpoints; see verifyTrail. */
export async function verifySealedChain(
  deps: VerifyTrailDeps,
  chain: string,
  options: VerifyChainOptions = {},
): Promise<ChainVerification> {
  const { store, verifier } = deps;
  const mark = await store.checkpoints.retention(chain);
  const base = {
    chain,
    checkpoints: 0,
    unsealed: 0,
    ...(mark !== undefined ? { retained: { throughSeq: mark.throughSeq, time: mark.time, auditId: mark.auditId } } : {}),
  };
  const failAt = (p: ChainProblem, fromSeq: number): ChainVerification => ({ ...base, ok: false, checked: 0, fromSeq, problem: p });

  // Where verification starts: seq 1, the retention mark, or a trusted checkpoint after it.
  let anchor: { checkpoint: StoredCheckpoint; payload: CheckpointPayload; frontier: MerkleFrontier } | undefined;
  if (mark !== undefined) {
    const start = await startAt(deps, chain, mark.throughSeq, 'retention mark');
    if ('problem' in start) return failAt(start.problem, mark.throughSeq + 1);
    const documented = await retentionDocumented(store, chain, mark);
    if (documented !== undefined) return failAt(documented, mark.throughSeq + 1);
    anchor = start;
  }
  if (options.fromCheckpoint !== undefined && options.fromCheckpoint > (anchor?.payload.seq ?? 0)) {
    const start = await startAt(deps, chain, options.fromCheckpoint, 'trusted checkpoint');
    if ('problem' in start) return failAt(start.problem, options.fromCheckpoint + 1);
    anchor = start;
  }
  const fromSeq = (anchor?.payload.seq ?? 0) + 1;
  const frontier = anchor?.frontier ?? new MerkleFrontier();

  // The checkpoints after the start, a page at a time, in seq order.
  let pending: StoredCheckpoint[] = [];
  let listedTo = anchor?.payload.seq ?? 0;
  let exhausted = false;
  const nextCheckpoint = async (): Promise<StoredCheckpoint | undefined> => {
    if (pending.length === 0 && !exhausted) {
      pending = await store.checkpoints.list(chain, listedTo, 1000);
      if (pending.length < 1000) exhausted = true;
      const last = pending[pending.length - 1];
      if (last !== undefined) listedTo = last.seq;
    }
    return pending[0];
  };

  let checkpoints = 0;
  let previous = anchor?.payload.seq ?? 0;
  let lastCheckpoint: ChainVerification['lastCheckpoint'] =
    anchor !== undefined ? { seq: anchor.payload.seq, time: anchor.payload.time, root: anchor.payload.root } : undefined;
  const checkCheckpoint = async (c: StoredCheckpoint, record: ChainHead | undefined): Promise<ChainProblem | undefined> => {
    let payload: CheckpointPayload;
    try {
      payload = await verifier.verify(c.jws);
    } catch (err) {
      return problem(c.seq, 'checkpoint-invalid', `the checkpoint at seq ${c.seq} does not verify: ${(err as Error).message}`);
    }
    if (payload.chain !== chain || payload.seq !== c.seq)
      return problem(c.seq, 'checkpoint-invalid', `the checkpoint stored at seq ${c.seq} was signed for another chain or seq`);
    if (payload.prev !== previous) {
      return payload.prev > previous
        ? problem(
            payload.prev,
            'checkpoint-invalid',
            `the checkpoint at seq ${payload.prev} is missing: the checkpoint at seq ${c.seq} names it as the one before`,
          )
        : problem(c.seq, 'checkpoint-invalid', `the checkpoint at seq ${c.seq} does not follow the one at seq ${previous}`);
    }
    if (record === undefined) return undefined;
    if (payload.head !== record.hash) {
      // The record the checkpoint names may still be there, one place further: this one was inserted.
      const [following] = await store.audit.scan(chain, c.seq + 1, 1);
      if (following?.record?.seq === c.seq && following.record.hash === payload.head) {
        return problem(
          c.seq,
          'inserted',
          `the record at seq ${c.seq} is not part of the chain: the record the signed checkpoint names follows it`,
        );
      }
      return problem(
        c.seq,
        'checkpoint-mismatch',
        `the record at seq ${c.seq} is not the one the signed checkpoint names: the chain was rewritten up to here`,
      );
    }
    if (frontier.root().toString('hex') !== payload.root)
      return problem(
        c.seq,
        'root-mismatch',
        `the records up to seq ${c.seq} do not give the Merkle root the checkpoint at seq ${c.seq} signs`,
      );
    previous = c.seq;
    checkpoints += 1;
    lastCheckpoint = { seq: c.seq, time: payload.time, root: payload.root };
    return undefined;
  };

  const head = await store.audit.head(chain);
  const total = Math.max(0, (head?.seq ?? 0) - fromSeq + 1);
  let done = 0;
  const step = Math.max(1, Math.floor(total / 100));
  const erasures = new ErasureCheck(store, verifier);
  let erased = 0;
  const result = await verifyChain(store, chain, {
    ...(anchor !== undefined ? { anchor: { seq: anchor.payload.seq, hash: anchor.payload.head } } : {}),
    ...(options.pageSize !== undefined ? { pageSize: options.pageSize } : {}),
    onErased: async (record) => {
      const found = await erasures.check(record);
      if (found === undefined) erased += 1;
      return found;
    },
    onRecord: (record) => {
      frontier.push(recordLeaf(record.hash));
      done += 1;
      if (options.onProgress !== undefined && (done % step === 0 || done === total)) options.onProgress({ chain, done, total });
      const atCheckpoint = (c: StoredCheckpoint | undefined): Promise<ChainProblem | undefined> | undefined => {
        if (c === undefined || c.seq > record.seq) return undefined;
        pending.shift();
        return checkCheckpoint(c, record);
      };
      // Between checkpoints, without a promise per record: only a checkpoint list to read, or a checkpoint, waits.
      return pending.length > 0 || exhausted ? atCheckpoint(pending[0]) : nextCheckpoint().then(atCheckpoint);
    },
  });
  let p = result.problem;
  if (p === undefined) {
    // Checkpoints beyond the last record: the records they sealed were removed from the end.
    const c = await nextCheckpoint();
    if (c !== undefined) {
      const last = result.last?.seq ?? fromSeq - 1;
      p =
        (await checkCheckpoint(c, undefined)) ??
        problem(
          last + 1,
          'truncated',
          `the chain ends at seq ${last}, but a signed checkpoint covers it up to seq ${c.seq}: records ${last + 1}-${c.seq} were removed`,
        );
    }
  }
  const lastSeq = result.last?.seq ?? fromSeq - 1;
  return {
    ...base,
    ok: p === undefined,
    checked: result.checked,
    fromSeq,
    ...(result.last !== undefined ? { head: result.last } : {}),
    checkpoints,
    ...(lastCheckpoint !== undefined ? { lastCheckpoint } : {}),
    unsealed: Math.max(0, lastSeq - (lastCheckpoint?.seq ?? 0)),
    ...(erased > 0 ? { erased } : {}),
    ...(p !== undefined ? { problem: p } : {}),
  };
}

/** A stored checkpoint to start from: signed by a trusted key, with a frontier that gives its root. */
async function startAt(
  deps: VerifyTrailDeps,
  chain: string,
  seq: number,
  what: string,
): Promise<{ checkpoint: StoredCheckpoint; payload: CheckpointPayload; frontier: MerkleFrontier } | { problem: ChainProblem }> {
  const c = await deps.store.checkpoints.atOrBefore(chain, seq);
  if (c === undefined || c.seq !== seq)
    return {
      problem: problem(
        seq,
        what === 'retention mark' ? 'retention-unproven' : 'checkpoint-invalid',
        `there is no checkpoint at seq ${seq} (the ${what})`,
      ),
    };
  let payload: CheckpointPayload;
  try {
    payload = await deps.verifier.verify(c.jws);
  } catch (err) {
    return {
      problem: problem(seq, 'checkpoint-invalid', `the checkpoint at seq ${seq} (the ${what}) does not verify: ${(err as Error).message}`),
    };
  }
  if (payload.chain !== chain || payload.seq !== seq)
    return { problem: problem(seq, 'checkpoint-invalid', `the checkpoint stored at seq ${seq} was signed for another chain or seq`) };
  let frontier: MerkleFrontier | undefined;
  try {
    frontier = new MerkleFrontier(JSON.parse(c.frontier) as FrontierJson);
  } catch {
    frontier = undefined;
  }
  if (frontier === undefined || frontier.size !== seq || frontier.root().toString('hex') !== payload.root) {
    return {
      problem: problem(
        seq,
        'checkpoint-invalid',
        `the Merkle frontier stored with the checkpoint at seq ${seq} does not give its signed root`,
      ),
    };
  }
  return { checkpoint: c, payload, frontier };
}

/** The admin record that documents a retention deletion must exist and say what was deleted. */
async function retentionDocumented(store: Pick<Store, 'audit'>, chain: string, mark: RetentionMark): Promise<ChainProblem | undefined> {
  const { records } = await store.audit.search({ auditId: mark.auditId, kind: 'admin', limit: 10 });
  const documented = records.some((r) => documentsRetention(r.reasons, chain, mark.throughSeq));
  return documented
    ? undefined
    : problem(
        mark.throughSeq + 1,
        'retention-unproven',
        `records 1-${mark.throughSeq} are gone, and no audit record documents their deletion under the retention rule`,
      );
}
