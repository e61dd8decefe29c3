import type { ConsentQuery, ConsentSource } from '../consent/types.js';
import type { Contract, DataCategory } from '../contracts/types.js';
import { CONSENT_DENIAL } from '../audit/reasons.js';
import type { ConsentCheck } from '../policy/evaluate.js';
import type { AcceptedEvidence, ConsentEvidence, ConsentStatus, Policy } from '../policy/types.js';
import type { DenyReason } from '../audit/reasons.js';
import type { ExchangeDeps } from './deps.js';

/** What a consent must cover for one release: its query without the citizen and the moment. */
export type ConsentRequirement = Omit<ConsentQuery, 'cpr' | 'at'>;

/**
 * The part of step 4 (policy) that asks the consent source, for a query and for each recipient
 * of a notification: the check `decide` calls for a policy that requires consent, releasing
 * `fields` of `contract` from the administration `source` (the provider of a query, the sender
 * of a notification) to the administration `recipient`.
 *
 * @example
 *   decide(rules.policies, rules.contracts, request, consentCheck(deps, checked.cpr, { recipient: 'BIF', source: 'SOF' }, checked.contract, at));
 */
export function consentCheck(deps: ExchangeDeps, cpr: string, parties: Parties, contract: Contract, at: Date): ConsentCheck {
  return (policy, fields) => checkConsent(deps, cpr, parties, policy, contract.id, categoriesOf(contract, fields), fields, at);
}

/** Who receives the data, whom it comes from, and who asked for the exchange (the recipient of a query, the sender of a notification). */
export interface Parties {
  readonly recipient: string;
  readonly source: string;
  readonly caller: string;
}

/** The consent step of a decision, fail closed: a look-up that throws denies. */
export async function checkConsent(
  deps: ExchangeDeps,
  cpr: string,
  parties: Parties,
  policy: Policy,
  contract: string,
  categories: readonly DataCategory[],
  fields: readonly string[],
  at: Date,
): Promise<ConsentEvidence> {
  try {
    return await ask(deps.consent, cpr, consentRequirement(parties, policy, contract, categories, fields), at);
  } catch {
    return { status: 'unavailable' };
  }
}

/** What the consent must cover (the policy's purpose, the fields' categories, each once) and the evidence the policy accepts. */
export function consentRequirement(
  parties: Parties,
  policy: Policy,
  contract: string,
  categories: readonly DataCategory[],
  fields: readonly string[],
): ConsentRequirement {
  return {
    recipient: parties.recipient,
    source: parties.source,
    caller: parties.caller,
    evidence: policy.consent.evidence,
    purpose: policy.purpose,
    contract,
    categories: [...new Set(categories)],
    fields,
  };
}

/** The data categories of `fields` of `contract`, in the same order. */
export function categoriesOf(contract: Contract, fields: readonly string[]): DataCategory[] {
  return fields.map((f) => contract.fields[f]!.category);
}

/**
 * A queued delivery's requirement when it is checked again before sending: as stored, with the
 * sender as the source and the caller (rows queued before evidence levels name neither), and the
 * evidence the policy accepts now (`evidence`: a policy tightened since the row was queued holds
 * for it); when the policy is gone, what the row says, and for a row from before evidence levels
 * only citizen-signed consent (fail closed: the lenient default of then is not assumed).
 */
export function storedRequirement(
  stored: Omit<ConsentRequirement, 'source' | 'caller' | 'evidence'> & {
    readonly source?: string;
    readonly evidence?: readonly AcceptedEvidence[];
  },
  sender: string,
  evidence: readonly AcceptedEvidence[] | undefined,
): ConsentRequirement {
  return { ...stored, source: stored.source ?? sender, caller: sender, evidence: evidence ?? stored.evidence ?? ['citizen-signed'] };
}

/**
 * The consent a queued delivery relied on, asked again just before it is sent (a withdrawal
 * stops what was queued before it). Fail closed: a look-up that throws, or answers with a status
 * the policy evaluator does not know, is `unavailable`.
 */
export async function recheckConsent(
  source: ConsentSource,
  cpr: string,
  requirement: ConsentRequirement,
  at: Date,
): Promise<ConsentEvidence> {
  try {
    const evidence = await ask(source, cpr, requirement, at);
    const status = (evidence as Partial<ConsentEvidence> | null | undefined)?.status;
    return status === 'active' || (typeof status === 'string' && Object.hasOwn(CONSENT_DENIAL, status))
      ? evidence
      : { status: 'unavailable' };
  } catch {
    return { status: 'unavailable' };
  }
}

function ask(source: ConsentSource, cpr: string, r: ConsentRequirement, at: Date): Promise<ConsentEvidence> {
  return source.check({
    cpr,
    recipient: r.recipient,
    source: r.source,
    caller: r.caller,
    evidence: r.evidence,
    purpose: r.purpose,
    contract: r.contract,
    categories: r.categories,
    fields: r.fields,
    at,
  });
}

/** The deny reason for a consent that is not active, the same as the policy evaluator gives. */
export function consentDenial(status: Exclude<ConsentStatus, 'active'>): DenyReason {
  return CONSENT_DENIAL[status];
}
