import { copenhagenDate, dayEnd } from '../policy/dates.js';
import type { ConsentEvidence } from '../policy/types.js';
import type { StoredConsent } from '../store/consents.js';
import { evidenceAccepted } from '../policy/evidence.js';
import { evidenceLevel, type ConsentEvent, type ConsentQuery, type ConsentRecord, type ConsentState } from './types.js';

/**
 * A consent as a decision weighs it: as stored, and whether the case relation it is tied to has
 * ended (then it has ended too).
 */
export interface ConsentCandidate extends Pick<StoredConsent, 'state' | 'consent'> {
  readonly relationEnded?: boolean;
}

/** The state of a stored consent on a Copenhagen day: a withdrawal wins, then the period and its relation. */
export function consentState(stored: ConsentCandidate, day: string): ConsentState | 'not-yet' {
  if (stored.state === 'withdrawn') return 'withdrawn';
  if (day > stored.consent.scope.validTo || stored.relationEnded === true) return 'expired';
  if (day < stored.consent.scope.validFrom) return 'not-yet';
  return 'active';
}

/**
 * True when the consent covers this recipient, source, purpose and every category to be
 * released: a category is covered when the consent lists it, or lists the whole contract. A
 * consent recorded before sources were named covers any source.
 */
export function covers(
  consent: ConsentRecord,
  q: Pick<ConsentQuery, 'recipient' | 'purpose' | 'contract' | 'categories'> & { readonly source?: string },
): boolean {
  const s = consent.scope;
  if (!s.recipients.includes(q.recipient) || !s.purposes.includes(q.purpose)) return false;
  if (s.sources !== undefined && (q.source === undefined || !s.sources.includes(q.source))) return false;
  const wholeContract = s.contracts.includes(q.contract);
  return q.categories.every((c) => wholeContract || s.categories.includes(c));
}

/**
 * The answer for one release, from the citizen's consents as they stand right now (the
 * registry's, and those a consent service holds in force):
 *
 * - active: a consent in force today (not withdrawn, within its period, its relation if any in
 *   force) covers the recipient, the source, the purpose and every released field's category
 *   (or the contract), on evidence the policy accepts; the first such one is cited;
 * - evidence: one in force covers it, but none on evidence the policy accepts;
 * - withdrawn: no active one, but one that would cover it was withdrawn;
 * - expired: no active or withdrawn one, but one that would cover it ended before today;
 * - scope: the citizen has a consent in force (or not yet in force), but it covers another
 *   recipient, purpose, contract or kind of data, or starts later;
 * - missing: nothing of the above.
 */
export function consentStatus(
  consents: readonly ConsentCandidate[],
  q: Pick<ConsentQuery, 'recipient' | 'source' | 'caller' | 'evidence' | 'purpose' | 'contract' | 'categories' | 'at'>,
): ConsentEvidence {
  const day = copenhagenDate(q.at);
  let withdrawn: ConsentCandidate | undefined;
  let expired: ConsentCandidate | undefined;
  let unaccepted = false;
  let other = false;
  for (const stored of consents) {
    const state = consentState(stored, day);
    const fits = covers(stored.consent, q);
    if (fits && state === 'active') {
      const c = stored.consent;
      const level = evidenceLevel(c.evidence);
      if (evidenceAccepted(q.evidence, level, c.recordedBy.administration, q)) {
        return { status: 'active', consentId: c.id, receiptDigest: c.receiptDigest, level };
      }
      unaccepted = true;
    } else if (fits && state === 'withdrawn') withdrawn ??= stored;
    else if (fits && state === 'expired') expired ??= stored;
    else if (state === 'active' || state === 'not-yet') other = true;
  }
  if (unaccepted) return { status: 'evidence' };
  if (withdrawn) return { status: 'withdrawn', consentId: withdrawn.consent.id };
  if (expired) return { status: 'expired', consentId: expired.consent.id };
  return { status: other ? 'scope' : 'missing' };
}

/** The history as shown: the stored events, and the expiry (end of validTo) once it has passed. */
export function consentHistory(stored: StoredConsent, now: Date): { state: ConsentState; events: ConsentEvent[] } {
  const day = copenhagenDate(now);
  const state = consentState(stored, day);
  const events: ConsentEvent[] = stored.events.map((e) => ({
    type: e.type,
    at: e.at,
    actor: e.actor,
    auditId: e.auditId,
    reason: e.reason,
  }));
  const endsAt = new Date(dayEnd(stored.consent.scope.validTo)).toISOString();
  const withdrawnAt = stored.events.find((e) => e.type === 'withdrawn')?.at;
  if (day > stored.consent.scope.validTo && (withdrawnAt === undefined || withdrawnAt > endsAt)) {
    events.push({ type: 'expired', at: endsAt, actor: null, auditId: null, reason: null });
    events.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  }
  return { state: state === 'not-yet' ? 'active' : state, events };
}
