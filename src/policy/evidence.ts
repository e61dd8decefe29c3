import type { AcceptedEvidence, EvidenceLevel } from './types.js';

/** The evidence a policy that requires consent accepts when it names none: either level, whoever recorded it. */
export const DEFAULT_EVIDENCE: readonly AcceptedEvidence[] = Object.freeze(['citizen-signed', 'recorded-by-caseworker']);

/**
 * Whether a consent of `level`, recorded by `recordedBy` (an administration), counts for a
 * policy accepting `accepted` when the data goes to `recipient` at the request of `caller` (the
 * recipient itself for a query, the sender for a notification): citizen-signed if the policy
 * accepts it; a caseworker's record if the policy accepts recorded-by-caseworker, or accepts
 * recorded-by-other-administration and it was recorded neither by the recipient nor by the
 * administration asking for the exchange (neither could then have made it up for itself).
 */
export function evidenceAccepted(
  accepted: readonly AcceptedEvidence[],
  level: EvidenceLevel,
  recordedBy: string,
  exchange: { readonly recipient: string; readonly caller: string },
): boolean {
  if (level === 'citizen-signed') return accepted.includes('citizen-signed');
  if (accepted.includes('recorded-by-caseworker')) return true;
  return accepted.includes('recorded-by-other-administration') && recordedBy !== exchange.recipient && recordedBy !== exchange.caller;
}
