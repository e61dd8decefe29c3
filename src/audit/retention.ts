import type { Purpose } from '../policy/types.js';
import { RetentionInUseError, type AuditExportEntry, type ChainFence, type StoredCheckpoint } from '../store/audit-checkpoints.js';
import type { Store } from '../store/types.js';
import { recordHash } from './chain.js';
import type { CheckpointSigner, CheckpointVerifier } from './checkpoint.js';
import { auditEntry } from './entry.js';
import { ERASABLE_KINDS, erasedRecord, erasureDigest, erasureListDigest, erasurePayload, purposeCutoff } from './erasure.js';
import { MerkleFrontier, type FrontierJson } from './merkle.js';
import { erasureReasons, retentionReasons, type ErasureDocument } from './reasons.js';
import type { AuditEntry, AuditRecord } from './types.js';
import { newAuditId } from './id.js';

/**
 * The retention rules. The global one (`audit.retentionDays`, applyRetention): records older than
 * the retention period are deleted, whole segments at a time (up to a signed checkpoint), and only
 * once an export holds them with their checkpoints. Before anything is deleted, an admin record
 * documenting the deletion is made durable in the trail, and the chain's retention mark names the
 * checkpoint verification continues from.
 *
 * Each purpose's own (its `retention` in purposes.yaml, applyPurposeRetention): the exchanges'
 * records of a purpose are erased once past that period, and only once an export holds them;
 * their content goes, what the chain needs to verify stays (src/audit/erasure.ts).
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

/**
 * Deletes what remains of records 1..throughSeq, a batch per transaction; then forgets the
 * erasure entries no record left needs (those of erasures whose records are all deleted now).
 */
async function finishDeletion(store: Pick<Store, 'checkpoints'>, chain: string, throughSeq: number, batch: number): Promise<number> {
  let deleted = 0;
  for (
    let n = await store.checkpoints.deleteThrough(chain, throughSeq, batch);
    n > 0;
    n = await store.checkpoints.deleteThrough(chain, throughSeq, batch)
  )
    deleted += n;
  await store.checkpoints.forgetErasures(chain, throughSeq);
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

/** What the purposes' retention needs besides the global rule's: the rules in force, and a way to seal the trail. */
export interface PurposeRetentionDeps extends RetentionDeps {
  /** The rule set in force, read once per run: its purposes (each with its retention) and its digest. */
  readonly policies: () => { readonly purposes: ReadonlyMap<string, Pick<Purpose, 'retention'>>; readonly digest: string };
  /**
   * Signs a checkpoint over what this instance's trail holds now (Checkpointer.checkpoint): the
   * admin record is sealed before anything is erased. Resolves the checkpoint signed, or undefined
   * when none was; nothing is erased unless a checkpoint of the admin record's chain covers it.
   */
  readonly seal: () => Promise<StoredCheckpoint | undefined>;
  /** Signs each erasure with the checkpoint key (erasurePayload in erasure.ts), once its admin record is sealed. */
  readonly signer: Pick<CheckpointSigner, 'signErasure'>;
}

/** The shortest retention a purpose may have and still be applied, by default (audit.minimumPurposeRetention). */
export const MINIMUM_PURPOSE_RETENTION = 'P1Y';

export interface PurposeRetentionOptions {
  readonly now?: Date;
  /** Only these chains (default: every chain with a checkpoint). */
  readonly chains?: readonly string[];
  /** Records erased under one admin record, in one transaction (during which the SQLite store does nothing else). Default 1000. */
  readonly batch?: number;
  /** The retention job's lease (lockRetention), whose fence every erasure carries. */
  readonly fence?: ChainFence;
  /**
   * A purpose whose retention is shorter than this (ISO 8601 duration) is not applied: its
   * records are kept (and the outcome names it). Default MINIMUM_PURPOSE_RETENTION.
   */
  readonly minimumRetention?: string;
}

export interface ErasureOutcome {
  readonly chain: string;
  readonly erased: number;
  /** The admin records that document the erasures (one per batch). */
  readonly auditIds: readonly string[];
  /**
   * not-exported: records past their purpose's retention that no export holds yet were kept;
   * integrity: a record past retention does not match its hash, and nothing more of the chain
   * was erased (verify the trail: the evidence stays); not-sealed: the checkpoint asked for does
   * not cover the admin record documenting the erasure, and nothing more of the chain was erased.
   */
  readonly skipped?: 'not-exported' | 'integrity' | 'not-sealed';
  readonly message?: string;
  /**
   * Records whose search columns (purpose, time) put them past retention, but whose own hashed
   * purpose and time do not: they were kept, and are evidence that the columns were changed.
   */
  readonly mismatched?: readonly number[];
  /** Purposes whose retention is shorter than the minimum: not applied, their records kept. */
  readonly belowMinimum?: readonly { readonly purpose: string; readonly retention: string }[];
}

/**
 * Applies each purpose's retention to every chain: the records of the kinds it erases
 * (ERASABLE_KINDS) whose purpose's retention has passed (purposeCutoff) and that an export holds
 * are erased. Per batch, first the admin record documenting the erasure is made durable and
 * sealed by a signed checkpoint (deps.seal), then the records are erased in one transaction with
 * their erasure entries. Records without a purpose, of another kind, or of a purpose the rules no
 * longer name are never erased by this rule (the global rule still deletes them). A reload that
 * changes a purpose's retention applies from the next run; a longer retention brings nothing back.
 *
 * @example
 * await applyPurposeRetention({ store, verifier, append: (e) => trail.append(e), policies, seal: () => checkpointer.checkpoint() });
 */
export async function applyPurposeRetention(deps: PurposeRetentionDeps, options: PurposeRetentionOptions = {}): Promise<ErasureOutcome[]> {
  const batch = options.batch ?? 1000;
  if (!Number.isInteger(batch) || batch < 1) throw new TypeError('applyPurposeRetention: batch must be a positive integer');
  const now = options.now ?? new Date();
  const rules = deps.policies();
  const latest = purposeCutoff(options.minimumRetention ?? MINIMUM_PURPOSE_RETENTION, now);
  const cutoffs = new Map<string, { retention: string; before: string }>();
  const belowMinimum: { purpose: string; retention: string }[] = [];
  for (const [id, purpose] of [...rules.purposes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const before = purposeCutoff(purpose.retention, now);
    if (Date.parse(before) > Date.parse(latest)) belowMinimum.push({ purpose: id, retention: purpose.retention });
    else cutoffs.set(id, { retention: purpose.retention, before });
  }
  const chains = options.chains ?? (await deps.store.checkpoints.chains());
  const out: ErasureOutcome[] = [];
  for (const chain of chains) {
    const outcome = await eraseChain(deps, chain, cutoffs, rules.digest, batch, options.fence);
    out.push(belowMinimum.length > 0 ? { ...outcome, belowMinimum } : outcome);
  }
  return out;
}

async function eraseChain(
  deps: PurposeRetentionDeps,
  chain: string,
  cutoffs: ReadonlyMap<string, { readonly retention: string; readonly before: string }>,
  policySet: string,
  batch: number,
  fence: ChainFence | undefined,
): Promise<ErasureOutcome> {
  const { store } = deps;
  const current = (await store.checkpoints.retention(chain))?.throughSeq ?? 0;
  const covered = exportedThrough(await store.checkpoints.exports(chain), current);
  const marks = await store.checkpoints.erasureMarks(chain);
  const auditIds: string[] = [];
  const mismatched: number[] = [];
  let erased = 0;
  let pending: AuditRecord[] = [];
  let notExported: { seq: number; purpose: string } | undefined;

  /** Erases the pending records; false when the checkpoint asked for did not seal their admin record (nothing erased). */
  const flush = async (): Promise<boolean> => {
    if (pending.length === 0) return true;
    const records = pending;
    pending = [];
    const export_ = covered.entry as AuditExportEntry;
    const auditId = newAuditId();
    const writes = records.map((r) => {
      const left = erasedRecord(r, auditId);
      return { record: left, digest: erasureDigest(left) };
    });
    const purposes = new Set(records.map((r) => r.purpose as string));
    const doc: ErasureDocument = {
      chain,
      erased: writes.length,
      digest: erasureListDigest(writes.map((w) => ({ seq: w.record.seq, digest: w.digest }))),
      exportId: export_.id,
      cutoffs: new Map([...cutoffs].filter(([id]) => purposes.has(id))),
    };
    const admin = await deps.append(
      auditEntry('admin', {
        auditId,
        requestId: auditId,
        caller: null,
        policySet,
        reasons: erasureReasons(doc),
        responseDigest: export_.manifestDigest,
      }),
    );
    const sealed = await deps.seal();
    if (sealed === undefined || sealed.chain !== admin.chain || sealed.seq < admin.seq) return false;
    await store.checkpoints.addErasureSignature(chain, auditId, await deps.signer.signErasure(erasurePayload(doc, admin)));
    await store.checkpoints.erase(writes, fence);
    auditIds.push(auditId);
    erased += writes.length;
    return true;
  };
  const unsealed = (): ErasureOutcome => ({
    chain,
    erased,
    auditIds,
    ...(mismatched.length > 0 ? { mismatched } : {}),
    skipped: 'not-sealed',
    message: `the checkpoint signed for the record documenting an erasure in chain ${chain} does not cover it; nothing more of the chain was erased (is this instance still holding its chain?)`,
  });

  for (const [purpose, cutoff] of cutoffs) {
    const from = marks.get(purpose);
    if (from !== undefined && Date.parse(from) >= Date.parse(cutoff.before)) continue;
    let after = from !== undefined ? { time: from, seq: 0 } : undefined;
    let through = cutoff.before;
    for (let done = false; !done;) {
      const page = await store.checkpoints.expiring({
        chain,
        purpose,
        before: cutoff.before,
        ...(after !== undefined ? { after } : {}),
        limit: 1000,
      });
      for (const r of page) {
        if (r.erasedBy !== undefined || !ERASABLE_KINDS.has(r.kind)) continue;
        if (r.seq > covered.seq || covered.entry === undefined) {
          // Not exported yet: this purpose goes no further than here until an export holds it.
          notExported ??= { seq: r.seq, purpose };
          through = r.time;
          done = true;
          break;
        }
        let intact: boolean;
        try {
          intact = recordHash(r.prevHash, r) === r.hash;
        } catch {
          intact = false;
        }
        if (!intact) {
          if (!(await flush())) return unsealed();
          return {
            chain,
            erased,
            auditIds,
            ...(mismatched.length > 0 ? { mismatched } : {}),
            skipped: 'integrity',
            message: `the record at seq ${r.seq} of chain ${chain} is past its purpose's retention but does not match its hash; nothing more of the chain was erased (run snitflade audit verify)`,
          };
        }
        // The index read is of search columns a database writer can change: what is erased is
        // what the record's own (hashed) purpose and time put past retention, nothing else.
        if (r.purpose !== purpose || !(Date.parse(r.time) < Date.parse(cutoff.before))) {
          mismatched.push(r.seq);
          continue;
        }
        pending.push(r);
        if (pending.length >= batch && !(await flush())) return unsealed();
      }
      const last = page[page.length - 1];
      if (page.length < 1000 || last === undefined) done = true;
      else after = { time: last.time, seq: last.seq };
    }
    if (!(await flush())) return unsealed();
    await store.checkpoints.markErasure(chain, purpose, through);
  }
  return {
    chain,
    erased,
    auditIds,
    ...(mismatched.length > 0 ? { mismatched } : {}),
    ...(notExported !== undefined
      ? {
          skipped: 'not-exported' as const,
          message: `records of chain ${chain} from seq ${notExported.seq} on are past their purpose's retention (${notExported.purpose}) but not exported; export them first (snitflade audit export)`,
        }
      : {}),
  };
}

/** What one run of the retention job did: the global rule's deletions and each purpose's erasures, or nothing (another instance runs it). */
export type RetentionRun =
  | { readonly busy: true }
  | { readonly busy: false; readonly deleted: readonly RetentionOutcome[]; readonly erased: readonly ErasureOutcome[] };

/**
 * One run of the retention job: takes its lease (one instance at a time applies the rules; when
 * another holds it, resolves `{ busy: true }` and does nothing), applies the global rule when a
 * retention period is given, then each purpose's unless `purposes` is false, and lets the lease go.
 *
 * @example
 * const run = await applyRetentionRules(deps, { retentionDays: 3650, purposes: true });
 */
export async function applyRetentionRules(
  deps: PurposeRetentionDeps,
  options: { readonly retentionDays?: number; readonly purposes: boolean; readonly minimumPurposeRetention?: string; readonly now?: Date },
): Promise<RetentionRun> {
  let lease;
  try {
    lease = await deps.store.checkpoints.lockRetention();
  } catch (err) {
    if (err instanceof RetentionInUseError) return { busy: true };
    throw err;
  }
  try {
    const now = options.now !== undefined ? { now: options.now } : {};
    const deleted = options.retentionDays !== undefined ? await applyRetention(deps, { retentionDays: options.retentionDays, ...now }) : [];
    const erased = options.purposes
      ? await applyPurposeRetention(deps, {
          ...now,
          ...(lease.fence !== undefined ? { fence: lease.fence } : {}),
          ...(options.minimumPurposeRetention !== undefined ? { minimumRetention: options.minimumPurposeRetention } : {}),
        })
      : [];
    return { busy: false, deleted, erased };
  } finally {
    await lease.release();
  }
}
