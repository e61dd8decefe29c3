import { callerSchemaErrors, contractAjv } from '../contracts/ajv.js';
import { CONTRACT_ID } from '../contracts/meta-schema.js';
import { GatewayError } from '../errors.js';
import { POLICY_ID, PURPOSE_ID } from '../policy/schemas.js';
import type { StoredCheckpoint } from '../store/audit-checkpoints.js';
import { InvalidCursorError, type AuditQuery, type Store } from '../store/types.js';
import { recordHash } from './chain.js';
import type { CheckpointVerifier } from './checkpoint.js';
import { ErasureCheck } from './erasure.js';
import type { FrontierJson } from './merkle.js';
import type { Pseudonymizer } from './pseudonym.js';
import { ProofBuilder, verifyErasedInclusionProof, verifyInclusionProof, type InclusionProof } from './proof.js';
import type { AuditKind, AuditRecord } from './types.js';

/**
 * The DPO's search of the audit trail (POST /v1/audit/search): filters by citizen (the CPR
 * number is turned into its pseudonym under every key still held, so the trail never holds the
 * number), calling system, caseworker, contract, purpose, policy, decision, reason code, kind
 * and time; newest first in a stable total order, paged with an opaque cursor; each result with
 * its verification status.
 */

const TEXT = '^[\\x21-\\x7e][\\x20-\\x7e]*$';
const KINDS: readonly AuditKind[] = ['decision', 'release', 'refusal', 'consent', 'relation', 'notification', 'admin', 'dpo-access'];

export const MAX_DPO_PAGE = 200;

export const auditSearchSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    cpr: { type: 'string', format: 'cpr' },
    callerSystem: { type: 'string', pattern: '^[a-z0-9][a-z0-9.-]*$', maxLength: 100 },
    administration: { type: 'string', pattern: '^[A-Z]{2,8}$', maxLength: 8 },
    caseworker: { type: 'string', pattern: TEXT, maxLength: 200, format: 'no-cpr' },
    contract: { type: 'string', pattern: CONTRACT_ID, maxLength: 128 },
    purpose: { type: 'string', pattern: PURPOSE_ID, maxLength: 64 },
    policy: { type: 'string', pattern: POLICY_ID, maxLength: 100 },
    decision: { enum: ['permit', 'deny'] },
    reason: { type: 'string', pattern: '^[A-Za-z0-9_.=:-]+$', maxLength: 100, format: 'no-cpr' },
    kind: { enum: KINDS },
    chain: { type: 'string', pattern: '^[A-Za-z0-9._-]+$', maxLength: 64, format: 'no-cpr' },
    auditId: { type: 'string', pattern: '^[A-Za-z0-9-]+$', maxLength: 64, format: 'no-cpr' },
    from: { type: 'string', format: 'date-time', maxLength: 40 },
    to: { type: 'string', format: 'date-time', maxLength: 40 },
    cursor: { type: 'string', pattern: '^[A-Za-z0-9_-]+$', maxLength: 1024 },
    limit: { type: 'integer', minimum: 1, maximum: MAX_DPO_PAGE },
    proofs: { type: 'boolean' },
  },
} as const;

export interface AuditSearchRequest {
  readonly cpr?: string;
  readonly callerSystem?: string;
  readonly administration?: string;
  readonly caseworker?: string;
  readonly contract?: string;
  readonly purpose?: string;
  readonly policy?: string;
  readonly decision?: 'permit' | 'deny';
  readonly reason?: string;
  readonly kind?: AuditKind;
  readonly chain?: string;
  readonly auditId?: string;
  readonly from?: string;
  readonly to?: string;
  readonly cursor?: string;
  /** Default 50, at most 200. */
  readonly limit?: number;
  /** Include each result's inclusion proof, for handing one record to a third party. */
  readonly proofs?: boolean;
}

const ajv = contractAjv({ allErrors: true });
const validateSearch = ajv.compile(auditSearchSchema);

/** The search body, validated; throws AUDIT_QUERY_INVALID naming schema paths. */
export function parseAuditSearch(body: unknown): AuditSearchRequest {
  if (!validateSearch(body)) throw new GatewayError('AUDIT_QUERY_INVALID', { errors: callerSchemaErrors(validateSearch.errors) });
  const b = body as AuditSearchRequest;
  if (b.from !== undefined && b.to !== undefined && Date.parse(b.from) >= Date.parse(b.to))
    throw new GatewayError('AUDIT_QUERY_INVALID', { errors: [{ path: '/to', message: 'must be after from' }] });
  return b;
}

export type VerificationStatus =
  /** The record, as it reads now, is included in a signed checkpoint (its inclusion proof checks out). */
  | 'verified'
  /** Written after the chain's last checkpoint; its hash is intact. It will be sealed by the next checkpoint. */
  | 'pending'
  /** The record does not match its hash, or is not the record the signed checkpoint includes. */
  | 'failed'
  /**
   * The record's content was erased under its purpose's retention: its erasure is documented and
   * was due (ErasureCheck), and the hash it still carries is in a signed checkpoint.
   */
  | 'erased';

export interface RecordVerification {
  readonly status: VerificationStatus;
  /** The checkpoint the record was checked against. */
  readonly checkpoint?: { readonly seq: number; readonly time: string };
  readonly reason?: string;
  readonly proof?: InclusionProof;
}

export interface SearchDeps {
  readonly store: Pick<Store, 'audit' | 'checkpoints'>;
  readonly pseudonyms: Pseudonymizer;
  readonly verifier: CheckpointVerifier;
}

export interface AuditSearchResult {
  readonly record: AuditRecord;
  readonly verification: RecordVerification;
}

/**
 * One page of search results with their verification status.
 *
 * @example
 * const page = await searchAuditTrail(deps, { cpr: '0101909901', limit: 20 });
 * page.results[0].verification.status // 'verified'
 */
export async function searchAuditTrail(
  deps: SearchDeps,
  request: AuditSearchRequest,
): Promise<{ results: AuditSearchResult[]; next?: string }> {
  const query: AuditQuery = {
    ...(request.cpr !== undefined ? { subject: deps.pseudonyms.all(request.cpr) } : {}),
    ...(request.callerSystem !== undefined ? { callerSystem: request.callerSystem } : {}),
    ...(request.administration !== undefined ? { administration: request.administration } : {}),
    ...(request.caseworker !== undefined ? { caseworker: request.caseworker } : {}),
    ...(request.contract !== undefined ? { contract: request.contract } : {}),
    ...(request.purpose !== undefined ? { purpose: request.purpose } : {}),
    ...(request.policy !== undefined ? { policy: request.policy } : {}),
    ...(request.decision !== undefined ? { decision: request.decision } : {}),
    ...(request.reason !== undefined ? { reason: request.reason } : {}),
    ...(request.kind !== undefined ? { kind: request.kind } : {}),
    ...(request.chain !== undefined ? { chain: request.chain } : {}),
    ...(request.auditId !== undefined ? { auditId: request.auditId } : {}),
    ...(request.from !== undefined ? { from: request.from } : {}),
    ...(request.to !== undefined ? { to: request.to } : {}),
    ...(request.cursor !== undefined ? { after: request.cursor } : {}),
    limit: Math.min(request.limit ?? 50, MAX_DPO_PAGE),
  };
  const page = await searchRecords(deps.store, query);
  const statuses = await verificationStatuses(deps, page.records, { proofs: request.proofs === true });
  const results = page.records.map((record, i) => ({ record, verification: statuses[i] as RecordVerification }));
  return page.next !== undefined ? { results, next: page.next } : { results };
}

/**
 * The verification status of each record: proven against its chain's latest signed checkpoint
 * (recomputing the record's hash from its content), pending when written after it, failed
 * otherwise; a record whose content was erased under its purpose's retention is `erased` when
 * its erasure checks out and its stored hash is proven. For the DPO's search results and pages.
 */
export async function verificationStatuses(
  deps: Omit<SearchDeps, 'pseudonyms'>,
  records: readonly AuditRecord[],
  options: { proofs?: boolean } = {},
): Promise<RecordVerification[]> {
  const out = new Array<RecordVerification>(records.length);
  const erasures = new ErasureCheck(deps.store, deps.verifier);
  const byChain = new Map<string, number[]>();
  records.forEach((r, i) => byChain.set(r.chain, [...(byChain.get(r.chain) ?? []), i]));
  for (const [chain, indexes] of byChain) {
    const latest = await deps.store.checkpoints.latest(chain);
    let checkpointOk: { seq: number; time: string } | undefined;
    let checkpointProblem: string | undefined;
    if (latest !== undefined) {
      try {
        const p = await deps.verifier.verify(latest.jws);
        checkpointOk = { seq: p.seq, time: p.time };
      } catch (err) {
        checkpointProblem = `the chain's latest checkpoint does not verify: ${(err as Error).message}`;
      }
    }
    const covered = indexes.filter((i) => latest !== undefined && (records[i] as AuditRecord).seq <= latest.seq);
    const proofs =
      covered.length > 0 && checkpointOk !== undefined
        ? await builderFor(deps.store, chain).then((b) =>
            b.prove(
              covered.map((i) => (records[i] as AuditRecord).seq),
              latest as StoredCheckpoint,
            ),
          )
        : new Map();
    for (const i of indexes) {
      const record = records[i] as AuditRecord;
      if (latest === undefined || record.seq > latest.seq) {
        out[i] = hashIntact(record)
          ? { status: 'pending' }
          : { status: 'failed', reason: 'the record does not match its hash: it was changed after it was written' };
        continue;
      }
      if (checkpointOk === undefined) {
        out[i] = { status: 'failed', reason: checkpointProblem ?? 'the checkpoint does not verify' };
        continue;
      }
      const proof = proofs.get(record.seq) as InclusionProof | Error | undefined;
      if (proof === undefined || proof instanceof Error) {
        out[i] = { status: 'failed', checkpoint: checkpointOk, reason: proof?.message ?? 'no inclusion proof' };
        continue;
      }
      if (record.erasedBy !== undefined) {
        const problem = await erasures.check(record);
        const check = problem === undefined ? await verifyErasedInclusionProof(record, proof, deps.verifier) : undefined;
        out[i] =
          check?.ok === true
            ? { status: 'erased', checkpoint: checkpointOk, ...(options.proofs === true ? { proof } : {}) }
            : { status: 'failed', checkpoint: checkpointOk, reason: problem?.message ?? (check as { message: string }).message };
        continue;
      }
      const check = await verifyInclusionProof(record, proof, deps.verifier);
      out[i] = check.ok
        ? { status: 'verified', checkpoint: checkpointOk, ...(options.proofs === true ? { proof } : {}) }
        : { status: 'failed', checkpoint: checkpointOk, reason: check.message };
    }
  }
  return out;
}

function hashIntact(r: AuditRecord): boolean {
  try {
    return recordHash(r.prevHash, r) === r.hash;
  } catch {
    return false;
  }
}

/** A proof builder that knows the subtrees standing in for records deleted under the retention rule. */
async function builderFor(store: Pick<Store, 'audit' | 'checkpoints'>, chain: string): Promise<ProofBuilder> {
  const mark = await store.checkpoints.retention(chain);
  if (mark === undefined) return new ProofBuilder(store, chain);
  const at = await store.checkpoints.atOrBefore(chain, mark.throughSeq);
  let retained: FrontierJson | undefined;
  try {
    retained = at !== undefined && at.seq === mark.throughSeq ? (JSON.parse(at.frontier) as FrontierJson) : undefined;
  } catch {
    retained = undefined;
  }
  return new ProofBuilder(store, chain, retained);
}

/**
 * One page of the trail's records matching a query, newest first, without their verification
 * status. A cursor this gateway did not hand out is AUDIT_QUERY_INVALID.
 */
export async function searchRecords(store: Pick<Store, 'audit'>, query: AuditQuery): Promise<{ records: AuditRecord[]; next?: string }> {
  try {
    return await store.audit.search(query);
  } catch (err) {
    if (err instanceof InvalidCursorError)
      throw new GatewayError('AUDIT_QUERY_INVALID', { errors: [{ path: '/cursor', message: 'is not a cursor this gateway handed out' }] });
    throw err;
  }
}

/** A record by its id (not its audit id). */
export function recordById(deps: { readonly store: Pick<Store, 'dpo'> }, id: string): Promise<AuditRecord | undefined> {
  return deps.store.dpo.record(id);
}

/** The records of one exchange (one audit id), newest first, at most `limit`. */
export async function exchangeRecords(
  deps: { readonly store: Pick<Store, 'audit'> },
  auditId: string,
  limit: number,
): Promise<AuditRecord[]> {
  return (await deps.store.audit.search({ auditId, limit })).records;
}
