import { canonicalJson, sha256hex } from '../../lib/digest.js';

/**
 * The digests of signed policies (docs/POLICY-APPROVALS.md).
 *
 * What an approver signs is what the policy *means*, and a policy means more than its own file:
 * the contract it names says what each permitted field holds and who provides it, and its purpose
 * (in purposes.yaml) says how long a consent may run and how long the records are kept. So the
 * digest signed covers three documents, each as parsed (every field as written; not comments,
 * key order or layout), each serialised as RFC 8785 canonical JSON (canonicalJson: keys sorted, no
 * whitespace, numbers and strings as ECMAScript writes them) and hashed with SHA-256:
 *
 *   policy    the policy file
 *   contract  the contract file it names (schemas/<contract>.json)
 *   purpose   its entry in purposes.yaml
 *
 * and the policy's content digest is SHA-256 of the canonical JSON of those three digests,
 * `{"contract":"<hex>","policy":"<hex>","purpose":"<hex>"}`. An approval's header repeats the
 * three, so a stale approval says which of them changed.
 */

/** hex SHA-256 of the canonical JSON of a parsed document: a policy file, a contract, a purpose entry, a registry file. */
export function policyContentDigest(document: unknown): string {
  return sha256hex(canonicalJson(document));
}

/** The digests of what a policy's approval covers (each policyContentDigest of its document). */
export interface PolicyComponents {
  readonly policy: string;
  readonly contract: string;
  readonly purpose: string;
}

/** The names of the components, in the order messages list them. */
export const POLICY_COMPONENTS = ['policy', 'contract', 'purpose'] as const;

/**
 * The content digest an approver signs: over the digests of the policy, its contract and its purpose.
 *
 * @example
 *   const digest = dependentContentDigest({ policy: '…', contract: '…', purpose: '…' });
 */
export function dependentContentDigest(components: PolicyComponents): string {
  return sha256hex(canonicalJson({ policy: components.policy, contract: components.contract, purpose: components.purpose }));
}

/**
 * The digest a decision's audit record names next to the policy version: over the policy's content
 * digest and the approvals it is in force with (their compact JWS, sorted), so the record points
 * at exactly which signed content was applied and who had approved it.
 *
 * @example
 *   approvalsDigest(policy.contentDigest, ['eyJhbGciOiJFUzI1NiIs...'])
 */
export function approvalsDigest(contentDigest: string, signatures: readonly string[]): string {
  return sha256hex(canonicalJson({ policy: contentDigest, approvals: [...signatures].sort() }));
}
