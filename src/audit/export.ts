import { createHash, randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { CodedError } from '../errors.js';
import { canonicalJson } from '../lib/digest.js';
import { projectRoot } from '../lib/root.js';
import type { AuditExportEntry, StoredCheckpoint } from '../store/audit-checkpoints.js';
import type { Store } from '../store/types.js';
import { GENESIS, recordHash } from './chain.js';
import type { CheckpointPayload, CheckpointVerifier } from './checkpoint.js';
import { ErasureCheck } from './erasure.js';
import { MerkleFrontier, recordLeaf, type FrontierJson } from './merkle.js';
import { parseErasureReasons } from './reasons.js';
import { verificationStatuses } from './search.js';
import type { AuditRecord } from './types.js';

/**
 * The offline export: a folder a third party can verify without the gateway, with nothing but
 * Node.js (src/audit/offline/verify-export.mjs, copied into the folder):
 *
 *   manifest.json               what is in it (format below)
 *   keys.jwks.json              the gateway's public checkpoint keys (JWK Set; kid = RFC 7638 thumbprint)
 *   verify-export.mjs           the standalone verifier
 *   chains/<chain>/checkpoints.jsonl     one signed checkpoint per line: {"seq":…,"jws":"…"}
 *   chains/<chain>/records-<from>-<to>.jsonl   the records in seq order, one canonical JSON per line
 *   chains/<chain>/erasures.jsonl        when records of the export had their content erased: per
 *                                        admin record documenting an erasure, one line
 *                                        {"admin": the record, "proof": its inclusion proof,
 *                                        "erased": [[seq, digest], …] every erasure entry naming it}
 *
 * Records are exported up to the chain's last signed checkpoint; every segment file ends at a
 * checkpoint. An export that starts after seq 1 (a later export, or after a retention deletion)
 * carries the checkpoint it starts from and its Merkle frontier as its anchor. The export is
 * checked while it is written (links, hashes, signatures, roots): a trail that does not verify
 * is not exported, and an export is recorded in the store only once complete, which is what
 * allows the retention rule to delete the records it holds.
 */
export const EXPORT_FORMAT = 'snitflade-audit-export';

export interface ExportManifest {
  readonly format: typeof EXPORT_FORMAT;
  readonly version: 1;
  readonly gateway: string;
  readonly exportedAt: string;
  readonly keys: string;
  readonly verifier: string;
  readonly chains: readonly ExportedChain[];
}

export interface ExportedChain {
  readonly chain: string;
  readonly dir: string;
  readonly fromSeq: number;
  readonly toSeq: number;
  /** The checkpoint the export starts from, when fromSeq > 1. */
  readonly anchor?: { readonly checkpoint: string; readonly frontier: FrontierJson };
  readonly checkpoints: string;
  /** The documentation of erased records in the export (see above), when it holds any. */
  readonly erasures?: string;
  readonly segments: readonly {
    readonly file: string;
    readonly fromSeq: number;
    readonly toSeq: number;
    readonly records: number;
    readonly sha256: string;
  }[];
}

export interface ExportOptions {
  /** The folder to write; created, and it must be empty if it exists. */
  readonly out: string;
  /** Only these chains (default: every chain with a checkpoint). */
  readonly chains?: readonly string[];
  /** Start at (about) this seq: the export starts right after the last checkpoint before it. */
  readonly fromSeq?: number;
  /** Records per segment file, at least (segments end at checkpoints). Default 100000. */
  readonly segmentRecords?: number;
  readonly onProgress?: (progress: { readonly chain: string; readonly done: number; readonly total: number }) => void;
}

export interface ExportDeps {
  readonly store: Pick<Store, 'audit' | 'checkpoints'>;
  readonly verifier: CheckpointVerifier;
  readonly gatewayId: string;
}

/** The trail does not verify where the export reads it: nothing is recorded as exported. */
export class ExportIntegrityError extends CodedError {
  readonly code = 'ERR_AUDIT_EXPORT_INTEGRITY';
  constructor(chain: string, seq: number, message: string) {
    super(`chain ${chain}, seq ${seq}: ${message}; the export was stopped`);
  }
}

/** The standalone verifier, shipped in every export. */
export const OFFLINE_VERIFIER = path.join(projectRoot(), 'src', 'audit', 'offline', 'verify-export.mjs');

/**
 * Writes the export and records it in the store (one entry per chain).
 *
 * @example
 * const { manifest } = await exportTrail({ store, verifier, gatewayId }, { out: 'exports/2026-01' });
 */
export async function exportTrail(
  deps: ExportDeps,
  options: ExportOptions,
): Promise<{ manifest: ExportManifest; manifestDigest: string; entries: AuditExportEntry[] }> {
  const out = path.resolve(options.out);
  if (existsSync(out) && readdirSync(out).length > 0) throw new TypeError(`exportTrail: ${out} is not empty; export into a new folder`);
  mkdirSync(out, { recursive: true });
  const segmentRecords = options.segmentRecords ?? 100_000;
  if (!Number.isInteger(segmentRecords) || segmentRecords < 1)
    throw new TypeError('exportTrail: segmentRecords must be a positive integer');

  const chains = options.chains ?? (await deps.store.checkpoints.chains());
  const exported: ExportedChain[] = [];
  for (const chain of chains) {
    const c = await exportChain(deps, out, chain, options.fromSeq ?? 1, segmentRecords, options.onProgress);
    if (c !== undefined) exported.push(c);
  }

  writeFileSync(path.join(out, 'keys.jwks.json'), `${JSON.stringify(deps.verifier.jwks(), null, 2)}\n`);
  copyFileSync(OFFLINE_VERIFIER, path.join(out, 'verify-export.mjs'));
  writeFileSync(path.join(out, 'README.txt'), README);
  const manifest: ExportManifest = {
    format: EXPORT_FORMAT,
    version: 1,
    gateway: deps.gatewayId,
    exportedAt: new Date().toISOString(),
    keys: 'keys.jwks.json',
    verifier: 'verify-export.mjs',
    chains: exported,
  };
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  writeFileSync(path.join(out, 'manifest.json'), text);
  const manifestDigest = createHash('sha256').update(text).digest('hex');
  const entries: AuditExportEntry[] = [];
  for (const c of exported) {
    const entry = {
      id: randomUUID(),
      chain: c.chain,
      fromSeq: c.fromSeq,
      toSeq: c.toSeq,
      time: manifest.exportedAt,
      location: out,
      manifestDigest,
    };
    await deps.store.checkpoints.recordExport(entry);
    entries.push(entry);
  }
  return { manifest, manifestDigest, entries };
}

async function exportChain(
  deps: ExportDeps,
  out: string,
  chain: string,
  fromSeq: number,
  segmentRecords: number,
  onProgress: ExportOptions['onProgress'],
): Promise<ExportedChain | undefined> {
  const { store, verifier } = deps;
  const latest = await store.checkpoints.latest(chain);
  if (latest === undefined) return undefined; // nothing sealed yet
  const mark = await store.checkpoints.retention(chain);
  const startCandidate = Math.max(mark?.throughSeq ?? 0, fromSeq - 1);
  const start = startCandidate > 0 ? await store.checkpoints.atOrBefore(chain, startCandidate) : undefined;
  const startSeq = Math.max(start?.seq ?? 0, mark?.throughSeq ?? 0);
  if (startSeq >= latest.seq) return undefined; // nothing new sealed since
  const fail = (seq: number, message: string): never => {
    throw new ExportIntegrityError(chain, seq, message);
  };

  let frontier = new MerkleFrontier();
  let anchor: ExportedChain['anchor'];
  let prevHash = GENESIS;
  if (startSeq > 0) {
    if (start === undefined || start.seq !== startSeq) return fail(startSeq, 'there is no checkpoint to start the export from');
    const payload = await verified(verifier, start, fail);
    const f = new MerkleFrontier(JSON.parse(start.frontier) as FrontierJson);
    if (f.size !== startSeq || f.root().toString('hex') !== payload.root)
      fail(startSeq, 'the Merkle frontier stored with the starting checkpoint does not give its signed root');
    frontier = f;
    prevHash = payload.head;
    anchor = { checkpoint: start.jws, frontier: f.toJSON() };
  }

  const dirName = `chain-${chain}`;
  const dir = path.join(out, 'chains', dirName);
  mkdirSync(dir, { recursive: true });
  const checkpointLines: string[] = [];
  const segments: { file: string; fromSeq: number; toSeq: number; records: number; sha256: string }[] = [];
  const erasures = new ErasureCheck(store, verifier);
  const erasedBy = new Set<string>();
  let seq = startSeq;
  let previousCheckpoint = startSeq;
  let afterSeq = startSeq;
  const total = latest.seq - startSeq;

  let segment:
    | { from: number; file: string; handle: Awaited<ReturnType<typeof open>>; hash: ReturnType<typeof createHash>; records: number }
    | undefined;
  const closeSegment = async (): Promise<void> => {
    if (segment === undefined) return;
    await segment.handle.sync();
    await segment.handle.close();
    const finalName = `records-${segment.from}-${seq}.jsonl`;
    renameSync(path.join(dir, segment.file), path.join(dir, finalName));
    segments.push({
      file: `chains/${dirName}/${finalName}`,
      fromSeq: segment.from,
      toSeq: seq,
      records: segment.records,
      sha256: segment.hash.digest('hex'),
    });
    segment = undefined;
  };

  while (afterSeq < latest.seq) {
    const checkpoints = await store.checkpoints.list(chain, afterSeq, 1000);
    if (checkpoints.length === 0) break;
    for (const c of checkpoints) {
      if (c.seq > latest.seq) break;
      afterSeq = c.seq;
      const payload = await verified(verifier, c, fail);
      if (payload.prev !== previousCheckpoint) fail(c.seq, `the checkpoint before it (seq ${payload.prev}) is missing`);
      previousCheckpoint = c.seq;
      // The records up to this checkpoint.
      while (seq < c.seq) {
        if (segment === undefined) {
          const file = `.records-${seq + 1}.partial`;
          segment = { from: seq + 1, file, handle: await open(path.join(dir, file), 'wx', 0o600), hash: createHash('sha256'), records: 0 };
        }
        const page = await store.audit.range(chain, seq + 1, Math.min(1000, c.seq - seq));
        if (page.length === 0) fail(seq + 1, 'the record is missing');
        let text = '';
        for (const r of page) {
          seq += 1;
          if (r.seq !== seq || r.chain !== chain) fail(seq, 'the record stored here is out of place');
          if (r.erasedBy !== undefined) {
            // Content erased under its purpose's retention: it links in place, and its erasure is documented and was due.
            if (r.prevHash !== prevHash || typeof r.hash !== 'string' || !/^[0-9a-f]{64}$/.test(r.hash))
              fail(seq, 'the record does not link as written');
            const problem = await erasures.check(r);
            if (problem !== undefined) fail(seq, problem.message);
            erasedBy.add(r.erasedBy);
          } else if (r.prevHash !== prevHash || recordHash(r.prevHash, r) !== r.hash)
            fail(seq, 'the record does not hash or link as written');
          prevHash = r.hash;
          frontier.push(recordLeaf(r.hash));
          text += `${canonicalJson(r)}\n`;
        }
        segment.hash.update(text);
        segment.records += page.length;
        await segment.handle.write(text);
        onProgress?.({ chain, done: seq - startSeq, total });
      }
      if (payload.head !== prevHash) fail(c.seq, 'the record here is not the one the signed checkpoint names');
      if (frontier.root().toString('hex') !== payload.root) fail(c.seq, 'the records up to here do not give the signed Merkle root');
      checkpointLines.push(JSON.stringify({ seq: c.seq, jws: c.jws }));
      if (segment !== undefined && (segment.records >= segmentRecords || c.seq === latest.seq)) await closeSegment();
    }
  }
  await closeSegment();
  writeFileSync(path.join(dir, 'checkpoints.jsonl'), checkpointLines.map((l) => `${l}\n`).join(''));
  if (erasedBy.size > 0) writeFileSync(path.join(dir, 'erasures.jsonl'), await erasureLines(deps, chain, erasedBy, fail));
  return {
    chain,
    dir: `chains/${dirName}`,
    fromSeq: startSeq + 1,
    toSeq: latest.seq,
    ...(anchor !== undefined ? { anchor } : {}),
    checkpoints: `chains/${dirName}/checkpoints.jsonl`,
    ...(erasedBy.size > 0 ? { erasures: `chains/${dirName}/erasures.jsonl` } : {}),
    segments,
  };
}

/**
 * The documentation of the erasures a chain's export holds erased records of: per admin record,
 * the record itself with its inclusion proof against its chain's latest signed checkpoint (the
 * retention job seals it before it erases), the erasure's signature (erasurePayload in
 * erasure.ts), and every erasure entry naming it.
 */
async function erasureLines(
  deps: ExportDeps,
  chain: string,
  auditIds: ReadonlySet<string>,
  fail: (seq: number, message: string) => never,
): Promise<string> {
  let text = '';
  for (const auditId of [...auditIds].sort()) {
    const { records } = await deps.store.audit.search({ auditId, kind: 'admin', limit: 10 });
    const admin = records.find((r: AuditRecord) => parseErasureReasons(r.reasons) !== undefined);
    if (admin === undefined) return fail(0, `the record documenting an erasure in chain ${chain} is missing`);
    const [status] = await verificationStatuses(deps, [admin], { proofs: true });
    if (status?.status !== 'verified' || status.proof === undefined)
      return fail(
        admin.seq,
        `the record documenting an erasure in chain ${chain} is not proven in a signed checkpoint of chain ${admin.chain}`,
      );
    const erased: [number, string][] = [];
    for (let after: { chain: string; seq: number } | undefined; ;) {
      const page = await deps.store.checkpoints.erasedBy(auditId, after, 1000);
      for (const e of page) erased.push([e.seq, e.digest]);
      after = page[page.length - 1];
      if (page.length < 1000 || after === undefined) break;
    }
    const signature = await deps.store.checkpoints.erasureSignature(auditId);
    if (signature === undefined)
      return fail(admin.seq, `the erasure documented by the record at seq ${admin.seq} of chain ${admin.chain} is not signed`);
    text += `${JSON.stringify({ admin: JSON.parse(canonicalJson(admin)) as unknown, proof: status.proof, signature, erased })}\n`;
  }
  return text;
}

async function verified(
  verifier: CheckpointVerifier,
  c: StoredCheckpoint,
  fail: (seq: number, message: string) => never,
): Promise<CheckpointPayload> {
  let payload: CheckpointPayload;
  try {
    payload = await verifier.verify(c.jws);
  } catch (err) {
    return fail(c.seq, `the checkpoint does not verify (${(err as Error).message})`);
  }
  if (payload.chain !== c.chain || payload.seq !== c.seq) fail(c.seq, 'the checkpoint was signed for another chain or seq');
  return payload;
}

const README = `Snitflade audit trail export
============================

This folder holds records of the Snitflade gateway's audit trail with the checkpoints the
gateway signed over them. Check it with Node.js 18 or newer, nothing else:

    node verify-export.mjs .

It checks every record's hash and its link to the record before it, the Merkle root each
signed checkpoint names, and each checkpoint's ES256 signature against keys.jwks.json, and
names the first record that does not verify. Before relying on keys.jwks.json, compare the key
id (kid) it prints with the one the municipality published, or pin it:

    node verify-export.mjs . --kid <published key id>

verify-export.mjs is short and has no dependencies: read it before you run it.
See docs/AUDIT.md in the Snitflade repository for the format.
`;
