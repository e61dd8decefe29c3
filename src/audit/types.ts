/**
 * An audit record holds no data values and no CPR number (ARCHITECTURE invariant 5): field
 * names, digests, a keyed pseudonym of the citizen, who asked, why, under which rule, and what
 * was decided and released.
 */
export type AuditKind =
  | 'decision' // the policy decision (permit or deny), written before anything is forwarded
  | 'release' // what was released (or why nothing was), written before the response is sent
  | 'refusal' // a request refused before a decision could be made (token, contract, body)
  | 'consent' // a consent recorded or withdrawn
  | 'relation' // a relation registered, changed, ended or searched (the relations register)
  | 'notification' // a notification accepted, delivered or dead-lettered
  | 'admin' // operations: policy reload, retention etc.
  | 'dpo-access'; // the DPO searched the trail, verified it or made a citizen's access report

export interface AuditEntry {
  readonly kind: AuditKind;
  /** The exchange this record belongs to; the decision and release records of one request share it. */
  readonly auditId: string;
  readonly requestId: string;
  readonly contract: string | null;
  readonly caller: { readonly system: string; readonly administration: string } | null;
  readonly caseworker: string | null;
  readonly caseRef: string | null;
  readonly purpose: string | null;
  /** Keyed pseudonym of the CPR number: "<keyId>:<base64url HMAC-SHA256>". */
  readonly subject: string | null;
  /**
   * The policy applied: id and version and, for a policy in force with approvals (signed policies,
   * docs/POLICY-APPROVALS.md), `approvals`, the digest over its content and its approvals. Absent
   * when it has none, so older records hash as before.
   */
  readonly policy: { readonly id: string; readonly version: number; readonly approvals?: string } | null;
  readonly policySet: string | null; // digest of the policy set in force
  readonly legalBasis: string | null;
  readonly decision: 'permit' | 'deny' | null;
  /** Reason codes: those of audit/reasons.ts (a deny reason, a delivery state ...), or an error code of errors.ts. */
  readonly reasons: readonly string[];
  readonly fields: {
    readonly requested: readonly string[];
    readonly released: readonly string[];
    readonly withheld: readonly string[];
    /** Names the provider sent that are not in the contract. */
    readonly dropped: readonly string[];
  };
  readonly consent: string | null; // receipt digest of the consent relied on
  /**
   * Notifications only: the recipient system this record is about (the caller is the sender).
   * Absent on every other record, so older records hash as before.
   */
  readonly recipient?: { readonly system: string; readonly administration: string };
  readonly tokenDigest: string | null; // SHA-256 of the caller's token, as evidence
  readonly upstream: { readonly status: number | null; readonly latencyMs: number } | null;
  readonly responseDigest: string | null;
  readonly status: number | null; // HTTP status given to the caller
  readonly latencyMs: number | null;
}

/** An entry as stored: placed on a chain and hashed. */
export interface AuditRecord extends AuditEntry {
  readonly id: string; // unique per record
  readonly chain: string; // one chain per gateway instance
  readonly seq: number; // 1, 2, 3 ... within the chain
  readonly time: string; // ISO 8601 UTC, millisecond precision
  readonly prevHash: string; // hex; 64 zeros for seq 1
  readonly hash: string; // hex SHA-256 over prevHash and the canonical record
  /**
   * Only on a record whose content was erased under its purpose's retention (src/audit/erasure.ts):
   * the audit id of the admin record that documents the erasure. What is left of such a record is
   * its place (chain, seq, prevHash, hash), its ids, time, kind and purpose; every other member is
   * null or empty. Its hash can no longer be recomputed from it; see ErasureCheck.
   */
  readonly erasedBy?: string;
}
