import type { DenyReason } from '../audit/reasons.js';
import type { Administration, DataCategory } from '../contracts/types.js';
import type { LocalText } from '../lib/local-text.js';
import type { PolicyComponents } from './approvals/digest.js';

export interface Purpose {
  readonly id: string; // e.g. plan-coordination
  readonly title: LocalText;
  readonly description: LocalText;
  /** The legal bases under which this purpose may be pursued, as text (statute and section, in Danish). */
  readonly legalBases: readonly string[];
  /** How long disclosures for this purpose are kept in the audit trail, ISO 8601 duration (e.g. P5Y). */
  readonly retention: string;
  /** The longest a consent for this purpose may run, ISO 8601 duration (e.g. P1Y); absent: P1Y. */
  readonly consentMaxDuration?: string;
}

export interface LegalBasis {
  /** GDPR article, e.g. "Art. 6(1)(e)". */
  readonly gdpr: string;
  /** Art. 9 basis when special categories are released, e.g. "Art. 9(2)(h)". */
  readonly gdprSpecial?: string;
  /** The national provisions as text, statute and section, e.g. "Forvaltningsloven § 28, stk. 1". */
  readonly national: string;
  /** Why the basis fits the flow and what the municipality must confirm, in Danish and English. */
  readonly description: LocalText;
}

/**
 * How a consent is evidenced (src/consent/types.ts):
 * - citizen-signed: an artefact signed by a consent service the municipality trusts;
 * - recorded-by-caseworker: a paper or verbal consent recorded by any administration's caseworker;
 * - recorded-by-other-administration: such a record, made by an administration other than the
 *   one receiving the data (so the recipient cannot have made it up).
 */
export type EvidenceLevel = 'citizen-signed' | 'recorded-by-caseworker';
export type AcceptedEvidence = EvidenceLevel | 'recorded-by-other-administration';

export interface ConsentRequirement {
  readonly required: boolean;
  /** What the consent must cover beyond citizen, recipient and purpose: these data categories. */
  readonly categories?: readonly DataCategory[];
  /** The evidence the policy accepts; the loader fills in the default (citizen-signed, recorded-by-caseworker). */
  readonly evidence: readonly AcceptedEvidence[];
}

/**
 * Need to know (policy clause `relation:`): the relations with the citizen, in the relations
 * register, that must be in force on the day of the request for the policy to permit.
 */
export interface RelationRequirement {
  /** The receiving administration (the requester of a query, the recipient of a notification) holds one in one of these capacities. */
  readonly requester: readonly string[];
  /**
   * The other side (the provider of a query, the sender of a notification) holds one too: in
   * one of these capacities, or in any capacity ('any'). Absent: not required.
   */
  readonly provider?: readonly string[] | 'any';
  /** The requester's relation names the token's caseworker as the responsible caseworker (query policies only). */
  readonly sameCaseworker: boolean;
}

/** A relation as a decision relies on it (RelationStore.active's answer, without the citizen). */
export interface RelationFact {
  readonly id: string;
  readonly version: number;
  readonly administration: string;
  readonly capacity: string;
  readonly caseworker: string | null;
  readonly from: string;
  readonly to: string | null;
}

/**
 * Whom a policy is about (policy clause `subject:`): the citizen's age range on the day of the
 * request, in completed years, both ends inclusive ("max: 29" is up to the day before the 30th
 * birthday). The age comes from the CPR number's date and century digit; a citizen whose age
 * cannot be determined is out of scope.
 */
export interface SubjectRequirement {
  readonly age: { readonly min?: number; readonly max?: number };
}

export interface Policy {
  readonly id: string;
  readonly version: number;
  readonly example: boolean; // an example awaiting legal review
  readonly title: LocalText;
  readonly contract: string;
  /**
   * Who receives the released fields, and so whom the evaluator matches: for a query policy the
   * requesting administrations and the roles of the asking system; for a notification policy the
   * recipient administrations and the roles a receiving system must hold (the file says
   * `recipient:`, and the loader copies it here).
   */
  readonly requester: { readonly administrations: readonly Administration[]; readonly roles: readonly string[] };
  /** Set for notification policies only: the recipients as written in the file (same as `requester`). */
  readonly recipient?: { readonly administrations: readonly Administration[]; readonly roles: readonly string[] };
  readonly purpose: string;
  readonly legalBasis: LegalBasis;
  readonly consent: ConsentRequirement;
  /** Need to know: the relations that must be in force (see RelationRequirement). Absent: none required. */
  readonly relation?: RelationRequirement;
  /** Whom the policy is about: the citizen's age range (see SubjectRequirement). Absent: any citizen. */
  readonly subject?: SubjectRequirement;
  readonly fields: readonly string[];
  readonly validity: { readonly from: string; readonly to?: string }; // ISO dates, inclusive
  /** The role that owns the policy (not a person). */
  readonly owner: LocalText;
  readonly file: string;
  /**
   * What approvers sign: hex SHA-256 over the digests of the policy file, the contract it names
   * and its purpose entry, each of the RFC 8785 canonical JSON of the document as parsed (every
   * field as written, the version included; not comments or layout); approvals/digest.ts. Set by
   * loadPolicySet with `components`; absent on a policy built in memory.
   */
  readonly contentDigest?: string;
  /** The three digests the content digest is made of. */
  readonly components?: PolicyComponents;
  /** The valid approvals the rule set was loaded with (src/policy/approvals/); absent when it has none. */
  readonly approvals?: PolicyApprovals;
}

/**
 * The approvals a policy is in force with (docs/POLICY-APPROVALS.md): who signed its canonical
 * content and when, and one digest over its content digest and those signatures, which each
 * decision's audit record names next to the policy version.
 */
export interface PolicyApprovals {
  /** hex SHA-256 (approvalsDigest in approvals/digest.ts). */
  readonly digest: string;
  /** In approver order. */
  readonly approvals: readonly { readonly approver: string; readonly title: string; readonly signedAt: string }[];
}

/** What the evaluator needs to know about a request. Holds no CPR number. */
export interface DecisionRequest {
  readonly contract: string;
  /** The administration that would receive the fields: the caller of a query, the recipient of a notification. */
  readonly administration: Administration;
  readonly roles: readonly string[];
  readonly purpose: string;
  readonly requestedFields: readonly string[];
  readonly at: Date;
  /**
   * The administration on the other side: the provider of a query, the sender of a notification.
   * Needed by a policy whose relation clause names `provider`; without it such a policy denies.
   */
  readonly provider?: Administration;
  /** The token's caseworker (for `sameCaseworker`); without it such a policy denies. */
  readonly caseworker?: string | null;
  /**
   * The citizen's age in completed years on the request's day in Copenhagen, computed from the
   * CPR number where it is known (src/exchange/subject.ts); null when it cannot be determined.
   * Never the CPR number or the birth date. Without it a policy with a `subject:` clause denies.
   */
  readonly subjectAge?: number | null;
  /**
   * Replaying a recorded decision (`snitflade impact`): the record holds no age, so a `subject:`
   * clause is taken as met. Never set on a live request.
   */
  readonly subjectAssumedInScope?: boolean;
}

/**
 * What the consent source answered: `evidence` when a consent in force covers the release but
 * rests on evidence the policy does not accept (e.g. the recipient's own record of a paper form).
 */
export type ConsentStatus = 'active' | 'missing' | 'withdrawn' | 'expired' | 'scope' | 'evidence' | 'unavailable';

export interface ConsentEvidence {
  readonly status: ConsentStatus;
  readonly consentId?: string;
  /** Digest of the signed consent receipt (or, for an artefact found at a consent service, of the artefact); audit records cite it. */
  readonly receiptDigest?: string;
  /** The level of the consent relied on (status active). */
  readonly level?: EvidenceLevel;
}

export type Decision =
  | {
      readonly decision: 'permit';
      readonly policy: Policy;
      /** policy.fields ∩ requested, in the contract's field order. Never empty. */
      readonly fields: readonly string[];
      readonly consent?: ConsentEvidence;
      /** The relations the policy's `relation:` clause relied on, in id order; absent without one. */
      readonly relations?: readonly RelationFact[];
      /** Human-readable trace, policy by policy (for explain and the DPO). */
      readonly trace: readonly string[];
    }
  | {
      readonly decision: 'deny';
      readonly reasons: readonly DenyReason[];
      /** The policy closest to permitting, if any (for the audit trail). */
      readonly policy?: Policy;
      readonly consent?: ConsentEvidence;
      readonly trace: readonly string[];
    };

/** A loaded, validated, frozen set of purposes and policies. Swapped whole on reload. */
export interface PolicySet {
  /** SHA-256 over the canonical content of every policy and purpose file. */
  readonly digest: string;
  readonly purposes: ReadonlyMap<string, Purpose>;
  readonly policies: readonly Policy[];
  /** Policies for (contract, administration), via an index; never a scan of all policies. */
  candidates(contract: string, administration: Administration): readonly Policy[];
}

/** An administration of the municipality (policies/administrations.yaml). */
export interface AdministrationInfo {
  readonly id: Administration; // e.g. BIF
  readonly name: { readonly da: string; readonly en: string };
}

/** What `loadPolicySet` returns: a PolicySet that also knows the administrations it was checked against. */
export interface LoadedPolicySet extends PolicySet {
  readonly administrations: ReadonlyMap<string, AdministrationInfo>;
  /**
   * hex SHA-256 of the RFC 8785 canonical JSON of administrations.yaml as parsed: what its
   * approvers sign (approvals/registries.ts). Set by loadPolicySet.
   */
  readonly administrationsDigest?: string;
}
