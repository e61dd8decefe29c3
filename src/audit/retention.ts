import type { AuditExportEntry } from '../store/audit-checkpoints.js';
import type { Store } from '../store/types.js';
import type { CheckpointVerifier } from './checkpoint.js';
import { auditEntry } from './entry.js';
import { MerkleFrontier, type FrontierJson } from './merkle.js';
import { retentionReasons } from './reasons.js';
import type { AuditEntry, AuditRecord } from './types.js';
import { newAuditId } from './id.js';

/**
 * The retention rule: records older than the retention period are deleted, whole segments at a
 * time (up to a signed checkpoint), and only once an export holds them with their checkpoints.
 * Before anything is deleted, an admin record documenting the deletion is made durable in the
 * trail, and the chain's retention mark names the checkpoint verification continues from.
 */

export interface RetentionDeps {
  readonly store: Pick<Store, 'audit' | 'checkpoints'>;
  readonly verifier: CheckpointVerifier;
  /** Appends the admin record (this instance's trail). */
  readonly append: (entry: AuditEntry) => Promise<AuditRecord>;
}

export interface RetentionOptions {
  readonly retentionDays: number;
  readonly now?: Date;
  /** Only these chains (default: every chain with a checkpoint). */
  readonly chains?: readonly string[];
  /** Records deleted per transaction. Default 5000. */
  readonly batch?: number;
}

export type RetentionOutcome =
  | { readonly chain: string; readonly deleted: number; readonly throughSeq: number; readonly auditId: string; readonly exportId: string }
  | {
      readonly chain: string;
      readonly deleted: 0;
      readonly skipped: 'nothing-expired' | 'not-exported' | 'checkpoint-invalid';
      readonly message: string;
    };

/**
 * Applies the retention rule to every chain; resolves what was done per chain.
 *
 * @example
 * await applyRetention({ store, verifier, append: (e) => trail.append(e) }, { retentionDays: 1826 });
 */
export async function applyRetention(deps: RetentionDeps, options: RetentionOptions): Promise<RetentionOutcome[]> {
  if (!Number.isFinite(options.retentionDays) || options.retentionDays <= 0)
    throw new TypeError('applyRetention: retentionDays must be positive');
  const batch = options.batch ?? 5000;
  const now = options.now ?? new Date();
  const cutoff = new Date(now.getTime() - options.retentionDays * 86_400_000).toISOString();
  const chains = options.chains ?? (await deps.store.checkpoints.chains());
  const out: RetentionOutcome[] = [];
  for (const chain of chains) out.push(await retainChain(deps, chain, cutoff, batch, now));
  return out;
}

async function retainChain(deps: RetentionDeps, chain: string, cutoff: string, batch: number, now: Date): Promise<RetentionOutcome> {
  const { store } = deps;
  const mark = await store.checkpoints.retention(chain);
  const current = mark?.throughSeq ?? 0;
  // Every record up to a checkpoint signed before the cutoff was written before it.
  const expired = await store.checkpoints.lastBefore(chain, cutoff);
  if (expired === undefined || expired.seq <= current) {
    if (mark !== undefined) await finishDeletion(store, chain, current, batch); // a deletion interrupted earlier
    return { chain, deleted: 0, skipped: 'nothing-expired', message: `no segment of chain ${chain} is past the retention period` };
  }
  const covered = exportedThrough(await store.checkpoints.exports(chain), current);
  const limit = Math.min(expired.seq, covered.seq);
  const target = limit > current ? await store.checkpoints.atOrBefore(chain, limit) : undefined;
  if (target === undefined || target.seq <= current || covered.entry === undefined) {
    return {
      chain,
      deleted: 0,
      skipped: 'not-exported',
      message: `records ${current + 1}-${expired.seq} of chain ${chain} are past the retention period but not exported; export them first (snitflade audit export)`,
    };
  }
  // Verification will continue from this checkpoint: it must be signed and its frontier sound.
  try {
    const payload = await deps.verifier.verify(target.jws);
    const frontier = new MerkleFrontier(JSON.parse(target.frontier) as FrontierJson);
    if (
      payload.chain !== chain ||
      payload.seq !== target.seq ||
      frontier.size !== target.seq ||
      frontier.root().toString('hex') !== payload.root
    )
      throw new Error('the checkpoint does not match its signed payload');
  } catch (err) {
    return {
      chain,
      deleted: 0,
      skipped: 'checkpoint-invalid',
      message: `the checkpoint of chain ${chain} at seq ${target.seq} cannot anchor the rest of the chain: ${(err as Error).message}`,
    };
  }

  const auditId = newAuditId();
  await deps.append(
    auditEntry('admin', {
      auditId,
      requestId: auditId,
      caller: null,
      reasons: retentionReasons(chain, target.seq, covered.entry.id),
      responseDigest: covered.entry.manifestDigest,
    }),
  );
  await store.checkpoints.markRetention({ chain, throughSeq: target.seq, auditId, exportId: covered.entry.id, time: now.toISOString() });
  const deleted = await finishDeletion(store, chain, target.seq, batch);
  return { chain, deleted, throughSeq: target.seq, auditId, exportId: covered.entry.id };
}

/** Deletes what remains of records 1..throughSeq, a batch per transaction. */
async function finishDeletion(store: Pick<Store, 'checkpoints'>, chain: string, throughSeq: number, batch: number): Promise<number> {
  let deleted = 0;
  for (
    let n = await store.checkpoints.deleteThrough(chain, throughSeq, batch);
    n > 0;
    n = await store.checkpoints.deleteThrough(chain, throughSeq, batch)
  )
    deleted += n;
  return deleted;
}

/** How far, from `current` on, exports cover the chain without a gap, and the export reaching furthest. */
function exportedThrough(exports: readonly AuditExportEntry[], current: number): { seq: number; entry?: AuditExportEntry } {
  let seq = current;
  let entry: AuditExportEntry | undefined;
  for (let moved = true; moved;) {
    moved = false;
    for (const e of exports) {
      if (e.fromSeq <= seq + 1 && e.toSeq > seq) {
        seq = e.toSeq;
        entry = e;
        moved = true;
      }
    }
  }
  return entry === undefined ? { seq } : { seq, entry };
}
