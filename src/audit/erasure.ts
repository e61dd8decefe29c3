import { canonicalJson, sha256hex } from '../lib/digest.js';
import { copenhagenDate, dayStart, subtractDuration } from '../policy/dates.js';
import type { ErasureEntry } from '../store/audit-checkpoints.js';
import type { Store } from '../store/types.js';
import { recordHash } from './chain.js';
import type { CheckpointVerifier, ErasurePayload } from './checkpoint.js';
import { parseErasureReasons, type ErasureDocument } from './reasons.js';
import type { AuditKind, AuditRecord } from './types.js';
import type { ChainProblem } from './verify.js';

/**
 * Erasure under the purposes' retention: once a record is past its purpose's retention
 * (purposes.yaml) and an export holds it, its content is erased where it stands. Records of
 * every purpose are interleaved in one hash chain, so they cannot be deleted as a segment the way
 * the global retention rule deletes (retention.ts); what is left of an erased record is what the
 * chain and its signed Merkle tree need, and what shows the erasure was due:
 *
 *   - its place: chain, seq, prevHash and hash (so the next record still links to it, and the
 *     leaf SHA-256(0x00 || hash) is still the one the signed checkpoints cover);
 *   - its ids (id, auditId, requestId), time, kind and purpose;
 *   - `erasedBy`: the audit id of the admin record that documents the erasure.
 *
 * Every other member is null or empty: no pseudonym, caller, caseworker, case, fields, policy,
 * consent or digest is left. Its hash can no longer be recomputed from it, so what is left is
 * bound otherwise. The erasure writes, in the transaction that erases, an erasure entry per
 * record (the store's audit_erasure: chain, seq, the admin record's audit id, and the SHA-256 of
 * what is left, erasureDigest); and before that transaction, the admin record is made durable
 * and sealed by a signed checkpoint: it names the chain, how many records it erases, the digest
 * of their entries (erasureListDigest), the export that holds them whole, and per purpose the
 * retention in force and the cutoff it gives (erasureReasons in reasons.ts). Once the checkpoint
 * seals the admin record, the erasure is signed with the checkpoint key (erasurePayload: the admin
 * record's place, audit id, hash and time, and all it documents), and the signature is stored by
 * the admin record's audit id: someone who can write to the database but does not hold the key
 * cannot document an erasure of their own. ErasureCheck is how verification reads an erased record
 * against that.
 */

/** The kinds of record a purpose's retention erases: the exchanges (decisions, releases, refusals, notifications). */
export const ERASABLE_KINDS: ReadonlySet<AuditKind> = new Set<AuditKind>(['decision', 'release', 'refusal', 'notification']);

/**
 * What an erasure leaves of a record (see above), documented by the admin record `by`.
 *
 * @example
 * const left = erasedRecord(record, adminAuditId); // left.subject === null, left.hash === record.hash
 */
export function erasedRecord(record: AuditRecord, by: string): AuditRecord {
  return {
    kind: record.kind,
    auditId: record.auditId,
    requestId: record.requestId,
    contract: null,
    caller: null,
    caseworker: null,
    caseRef: null,
    purpose: record.purpose,
    subject: null,
    policy: null,
    policySet: null,
    legalBasis: null,
    decision: null,
    reasons: [],
    fields: { requested: [], released: [], withheld: [], dropped: [] },
    consent: null,
    tokenDigest: null,
    upstream: null,
    responseDigest: null,
    status: null,
    latencyMs: null,
    id: record.id,
    chain: record.chain,
    seq: record.seq,
    time: record.time,
    prevHash: record.prevHash,
    hash: record.hash,
    erasedBy: by,
  };
}

/** Whether the record is marked erased (whether its erasure is documented is ErasureCheck's question). */
export const isErased = (record: AuditRecord): boolean => record.erasedBy !== undefined;

/** The SHA-256 (hex) of what an erasure left of a record: its erasure entry's digest. */
export function erasureDigest(erased: AuditRecord): string {
  return sha256hex(canonicalJson(erased));
}

/**
 * The digest an erasure record documents: SHA-256 (hex) over one line `<seq>:<digest>\n` per
 * erased record, by seq.
 */
export function erasureListDigest(entries: readonly Pick<ErasureEntry, 'seq' | 'digest'>[]): string {
  return sha256hex(entries.map((e) => `${e.seq}:${e.digest}\n`).join(''));
}

/**
 * The cutoff of a retention period at an instant: the start (Copenhagen time) of the day that
 * lies `retention` (ISO 8601, e.g. P2Y) before that instant's day. A record written before it
 * has been kept for the whole period: written on 5 March 2024, a record of a P2Y purpose is kept
 * through 5 March 2026 and erased from 6 March 2026 on.
 *
 * @example
 * purposeCutoff('P2Y', new Date('2026-03-06T12:00:00Z')); // '2024-03-05T23:00:00.000Z' (6 March 2024, 00:00 in Copenhagen)
 */
export function purposeCutoff(retention: string, at: Date): string {
  return new Date(dayStart(subtractDuration(copenhagenDate(at), retention))).toISOString();
}

/**
 * What the signature of an erasure covers: the admin record that documents it (chain, seq, audit
 * id, hash), its time, and everything it documents (erasureReasons).
 *
 * @example
 * const jws = await signer.signErasure(erasurePayload(document, admin));
 */
export function erasurePayload(
  doc: ErasureDocument,
  admin: Pick<AuditRecord, 'chain' | 'seq' | 'auditId' | 'hash' | 'time'>,
): ErasurePayload {
  return {
    v: 1,
    chain: doc.chain,
    admin: { chain: admin.chain, seq: admin.seq, auditId: admin.auditId, hash: admin.hash },
    erased: doc.erased,
    digest: doc.digest,
    exportId: doc.exportId,
    cutoffs: Object.fromEntries([...doc.cutoffs].map(([purpose, c]) => [purpose, { retention: c.retention, before: c.before }])),
    time: admin.time,
  };
}

/** An erasure record as read for verification: what it documents, or why it does not document an erasure. */
type Documented = (ErasureDocument & { readonly time: string }) | { readonly problem: string };

/** Erasure entries are read for this many seqs at a time. */
const BLOCK = 1024;
/** Blocks of entries kept while a chain is read in seq order. */
const BLOCKS_KEPT = 4;

/**
 * Checks erased records against the documentation of their erasure. An erased record passes when
 *
 *   - what is left of it is exactly what erasedRecord leaves (nothing more);
 *   - the erasure entry stored for its chain and seq names the admin record it names, with the
 *     digest of what is left of it (else it was changed after its erasure: `hash-mismatch`);
 *   - that admin record exists, once (no other record carries its audit id), is intact, and
 *     documents an erasure of this chain; the erasure's signature (erasurePayload) verifies under
 *     a trusted checkpoint key and covers exactly that record and what it documents; a signed
 *     checkpoint of its chain, signed no earlier than the record's time, covers its seq; its
 *     cutoffs are no later than its retention periods allow at the record's own time; and every
 *     erasure entry naming it gives, counted and digested, what it documents (so no entry was
 *     added, removed or changed);
 *   - the record is of a kind the purposes' retention erases, and was written before the cutoff
 *     the admin record documents for its purpose.
 *
 * Anything else is `erasure-unproven`: content erased without a documented erasure, or before its
 * purpose's retention had passed. The admin record's own integrity is its chain's verification.
 * That the erased record's hash is the one the chain and the signed checkpoints hold is checked
 * where the record is read in place (verifyChain, the export). Reads are cached: one check per
 * verification.
 *
 * @example
 * const erasures = new ErasureCheck(store, verifier);
 * const problem = await erasures.check(record); // undefined: documented and due
 */
export class ErasureCheck {
  readonly #store: Pick<Store, 'audit' | 'checkpoints'>;
  readonly #verifier: CheckpointVerifier;
  readonly #blocks = new Map<string, Promise<Map<number, ErasureEntry>>>();
  readonly #documents = new Map<string, Promise<Documented>>();

  constructor(store: Pick<Store, 'audit' | 'checkpoints'>, verifier: CheckpointVerifier) {
    this.#store = store;
    this.#verifier = verifier;
  }

  /** Undefined when the erased record passes (see above); the problem otherwise. */
  async check(record: AuditRecord): Promise<ChainProblem | undefined> {
    const seq = record.seq;
    const unproven = (why: string): ChainProblem => ({
      seq,
      kind: 'erasure-unproven',
      message: `the content of the record at seq ${seq} was erased, but ${why}`,
    });
    const by = record.erasedBy;
    let text: string | undefined;
    try {
      text = canonicalJson(record);
      if (typeof by !== 'string' || canonicalJson(erasedRecord(record, by)) !== text) text = undefined;
    } catch {
      text = undefined;
    }
    if (text === undefined || typeof by !== 'string') return unproven('what is left of it is not what an erasure leaves');
    const entry = (await this.#block(record.chain, seq)).get(seq);
    if (entry === undefined || entry.auditId !== by) return unproven('no documented erasure names it');
    if (entry.digest !== sha256hex(text))
      return {
        seq,
        kind: 'hash-mismatch',
        message: `the record at seq ${seq} was changed after its content was erased: it is not what its erasure recorded`,
      };
    const doc = await this.#document(by);
    if ('problem' in doc) return unproven(doc.problem);
    if (doc.chain !== record.chain) return unproven('the record documenting its erasure names another chain');
    const cutoff = record.purpose === null ? undefined : doc.cutoffs.get(record.purpose);
    if (!ERASABLE_KINDS.has(record.kind) || cutoff === undefined || !(Date.parse(record.time) < Date.parse(cutoff.before)))
      return unproven("its purpose's retention had not passed when it was erased");
    return undefined;
  }

  #block(chain: string, seq: number): Promise<Map<number, ErasureEntry>> {
    const block = Math.floor((seq - 1) / BLOCK);
    const key = `${chain}\n${block}`;
    let loading = this.#blocks.get(key);
    if (loading === undefined) {
      loading = this.#store.checkpoints
        .erasures(chain, block * BLOCK + 1, (block + 1) * BLOCK + 1)
        .then((entries) => new Map(entries.map((e) => [e.seq, e])));
      this.#blocks.set(key, loading);
      if (this.#blocks.size > BLOCKS_KEPT) this.#blocks.delete(this.#blocks.keys().next().value as string);
    }
    return loading;
  }

  #document(auditId: string): Promise<Documented> {
    let loading = this.#documents.get(auditId);
    if (loading === undefined) {
      loading = readDocument(this.#store, this.#verifier, auditId);
      this.#documents.set(auditId, loading);
    }
    return loading;
  }
}

async function readDocument(
  store: Pick<Store, 'audit' | 'checkpoints'>,
  verifier: CheckpointVerifier,
  auditId: string,
): Promise<Documented> {
  const { records } = await store.audit.search({ auditId, limit: 10 });
  const named = records.filter((r) => r.auditId === auditId);
  if (named.length === 0) return { problem: 'no audit record documents its erasure' };
  if (named.length > 1) return { problem: 'more than one audit record carries the audit id of the record documenting its erasure' };
  const admin = named[0] as AuditRecord;
  const doc = admin.kind === 'admin' && admin.erasedBy === undefined ? parseErasureReasons(admin.reasons) : undefined;
  if (doc === undefined) return { problem: 'no audit record documents its erasure' };
  let intact: boolean;
  try {
    intact = recordHash(admin.prevHash, admin) === admin.hash;
  } catch {
    intact = false;
  }
  if (!intact) return { problem: 'the record documenting its erasure does not match its hash' };

  // Signed with the checkpoint key: only the retention job, holding the key, documents an erasure.
  const jws = await store.checkpoints.erasureSignature(auditId);
  if (jws === undefined) return { problem: 'its erasure is not signed with a checkpoint key' };
  let signed: ErasurePayload;
  try {
    signed = await verifier.verifyErasure(jws);
  } catch (err) {
    return { problem: `the signature of its erasure does not verify (${(err as Error).message})` };
  }
  if (canonicalJson(signed) !== canonicalJson(erasurePayload(doc, admin)))
    return { problem: 'the signature of its erasure is not over the record documenting it' };

  // Sealed by a signed checkpoint of its own chain, signed no earlier than the record was written.
  const [sealing] = await store.checkpoints.list(admin.chain, admin.seq - 1, 1);
  let sealed = false;
  if (sealing !== undefined) {
    try {
      const p = await verifier.verify(sealing.jws);
      sealed = p.chain === admin.chain && p.seq === sealing.seq && p.seq >= admin.seq && Date.parse(p.time) >= Date.parse(admin.time);
    } catch {
      sealed = false;
    }
  }
  if (!sealed) return { problem: 'no signed checkpoint seals the record documenting its erasure' };

  const at = new Date(admin.time);
  for (const [, c] of doc.cutoffs) {
    let latest: number;
    try {
      latest = Date.parse(purposeCutoff(c.retention, at));
    } catch {
      latest = Number.NaN;
    }
    if (!(Date.parse(c.before) <= latest))
      return { problem: 'the record documenting its erasure states a cutoff its retention period did not allow' };
  }
  const entries: ErasureEntry[] = [];
  for (let after: ErasureEntry | undefined; ;) {
    const page = await store.checkpoints.erasedBy(auditId, after, 1000);
    entries.push(...page);
    after = page[page.length - 1];
    if (page.length < 1000 || after === undefined) break;
  }
  if (entries.some((e) => e.chain !== doc.chain) || entries.length !== doc.erased || erasureListDigest(entries) !== doc.digest)
    return { problem: 'the erasure entries stored are not those the record documenting the erasure names' };
  return { ...doc, time: admin.time };
}
