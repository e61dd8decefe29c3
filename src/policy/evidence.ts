import type { AcceptedEvidence, EvidenceLevel } from './types.js';

/** The evidence a policy that requires consent accepts when it names none: either level, whoever recorded it. */
export const DEFAULT_EVIDENCE: readonly AcceptedEvidence[] = Object.freeze(['citizen-signed', 'recorded-by-caseworker']);

/**
 * Whether a consent of `level`, recorded by `recordedBy` (an administration), counts for a
 * policy accepting `accepted` when the data goes to `recipient`: citizen-signed if the policy
 * accepts it; a caseworker's record if the policy accepts recorded-by-caseworker, or accepts
 * recorded-by-other-administration and it was not recorded by the recipient itself.
 */
export function evidenceAccepted(
  accepted: readonly AcceptedEvidence[],
  level: EvidenceLevel,
  recordedBy: string,
  recipient: string,
): boolean {
  if (level === 'citizen-signed') return accepted.includes('citizen-signed');
  return accepted.includes('recorded-by-caseworker') || (accepted.includes('recorded-by-other-administration') && recordedBy !== recipient);
}
