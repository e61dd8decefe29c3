import { canonicalJson, sha256hex } from '../../lib/digest.js';

/**
 * The digests of signed policies (docs/POLICY-APPROVALS.md).
 *
 * A policy's content digest is of its meaning, not of its bytes: the policy file as parsed (every
 * field as written, the version included), serialised as RFC 8785 canonical JSON (canonicalJson:
 * keys sorted, no whitespace, numbers and strings as ECMAScript writes them), then SHA-256. A
 * comment, the order of keys or the layout of the YAML does not change it; any change to a value
 * does. It is what an approver signs.
 */

/** hex SHA-256 of the canonical JSON of a parsed policy document. */
export function policyContentDigest(document: unknown): string {
  return sha256hex(canonicalJson(document));
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
