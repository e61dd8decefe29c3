import type { Administration, DataCategory } from '../contracts/types.js';
import type { AcceptedEvidence, ConsentEvidence, EvidenceLevel } from '../policy/types.js';

/** What a consent must cover for one release. Holds the CPR number: never log or store it. */
export interface ConsentQuery {
  readonly cpr: string;
  /** The receiving administration. */
  readonly recipient: string;
  /** The administration the data comes from: the provider of a query, the sender of a notification. */
  readonly source: string;
  /** The administration that asked for the exchange: the recipient of a query, the sender of a notification. */
  readonly caller: string;
  /** The evidence the policy accepts (the policy's consent.evidence). */
  readonly evidence: readonly AcceptedEvidence[];
  readonly purpose: string;
  readonly contract: string;
  /** Categories of the fields that would be released. */
  readonly categories: readonly DataCategory[];
  readonly fields: readonly string[];
  readonly at: Date;
}

/**
 * Where consents are looked up. The embedded default is the gateway's own registry; an adapter
 * to a national or municipal consent service implements the same interface. A look-up that
 * fails or times out must resolve { status: 'unavailable' } or throw: both deny (fail closed).
 * No implementation may cache an answer beyond one request: a withdrawal takes effect at once.
 */
export interface ConsentSource {
  check(query: ConsentQuery): Promise<ConsentEvidence>;
}

// ---------------------------------------------------------------------------------------------
// The gateway's own registry

/**
 * A consent service that issues consent artefacts (src/consent/artefact.ts): Digitalt Samtykke
 * through an adapter, or the demo's simulated service. Asked at decision time for the artefacts
 * in force for a citizen, so that a withdrawal the citizen makes there is honoured on the next
 * request. The caller verifies every artefact returned; the channel is not trusted for it.
 */
export interface ConsentService {
  /** The issuer id (`iss`) of the artefacts it returns. */
  readonly issuer: string;
  /**
   * The compact artefacts in force for the citizen right now, unverified. Rejects when the
   * service fails, answers anything unexpected, or `signal` aborts (the caller's timeout).
   */
  inForce(cpr: string, signal: AbortSignal): Promise<readonly string[]>;
}

/**
 * Who gave the consent: the citizen, or a representative with the evidence of their authority
 * (the guardianship decision, the power of attorney, the custody record), by reference only.
 */
export interface ConsentGiver {
  readonly role: 'citizen' | 'guardian' | 'power-of-attorney' | 'custody-holder';
  readonly reference?: string;
}

/** The artefact a citizen-signed consent rests on: the gateway keeps its digest, never the CPR number in it. */
export interface ArtefactRef {
  readonly issuer: string;
  readonly id: string;
  readonly kid: string;
  /** base64url SHA-256 of the compact artefact. */
  readonly digest: string;
  readonly text: { readonly template: string; readonly version: string };
  readonly givenAt: string;
}

/**
 * How the citizen's consent is evidenced (the levels a policy's `consent.evidence` names):
 * - citizen-signed: an artefact signed by a trusted consent service (`artefact`);
 * - recorded-by-caseworker: a paper or verbal consent a caseworker recorded, by the form's
 *   reference (`form`) and the recording caseworker (`recordedBy.caseworker`).
 * Records written before evidence levels existed say 'signed-form' or 'digital': both were the
 * recording system's word, so both read as recorded-by-caseworker (evidenceLevel).
 */
export interface ConsentEvidenceRef {
  readonly kind: EvidenceLevel | 'signed-form' | 'digital';
  /** The form's reference in the recording system, or `<issuer>/<artefact id>` (never a CPR number). */
  readonly reference: string;
  /** Paper or verbal, for a caseworker's record. */
  readonly form?: 'paper' | 'verbal';
  readonly artefact?: ArtefactRef;
}

/** The evidence level of a recorded consent. */
export function evidenceLevel(ref: Pick<ConsentEvidenceRef, 'kind'>): EvidenceLevel {
  return ref.kind === 'citizen-signed' ? 'citizen-signed' : 'recorded-by-caseworker';
}

/**
 * What a consent covers: the receiving administrations, the purposes, and the data: whole
 * contracts and/or data categories (a released field is covered when its contract or its
 * category is listed). Dates are Copenhagen calendar dates, both inclusive.
 */
export interface ConsentScope {
  readonly recipients: readonly Administration[];
  /** The administrations the data may come from. Absent on records made before sources existed: any. */
  readonly sources?: readonly Administration[];
  readonly purposes: readonly string[];
  readonly contracts: readonly string[];
  readonly categories: readonly DataCategory[];
  readonly validFrom: string;
  readonly validTo: string;
}

/** Who did something to a consent: the recording system, its administration and the caseworker. */
export interface ConsentActor {
  readonly system: string;
  readonly administration: string;
  readonly caseworker: string | null;
}

/**
 * A consent as the gateway keeps it. The citizen appears only as `subject`, the keyed pseudonym
 * of the CPR number (the same one the audit trail uses): the registry holds no CPR number.
 * Immutable once recorded; a withdrawal is an event, not an edit.
 */
export interface ConsentRecord {
  readonly id: string;
  readonly subject: string;
  readonly scope: ConsentScope;
  readonly evidence: ConsentEvidenceRef;
  readonly recordedBy: ConsentActor;
  /** Who gave it. Absent on records made before representatives were recorded: the citizen. */
  readonly givenBy?: ConsentGiver;
  /** The period starts before the day it was recorded (a back-dated paper form, within the grace). */
  readonly backdated?: boolean;
  /** The case relation it is tied to: it ends when that relation ends. */
  readonly relation?: string;
  /** ISO 8601 UTC. */
  readonly recordedAt: string;
  /** The compact JWS receipt the gateway signed over this record (see receipt.ts). */
  readonly receipt: string;
  /** base64url SHA-256 of `receipt`: what audit records cite. */
  readonly receiptDigest: string;
}

export type WithdrawalReason = 'citizen-request' | 'recorded-in-error' | 'other';

/** A stored event in a consent's history. Expiry is not stored: it follows from the period. */
export interface ConsentEventRecord {
  readonly type: 'given' | 'withdrawn';
  /** ISO 8601 UTC. */
  readonly at: string;
  readonly actor: ConsentActor;
  /** The audit record of the event. */
  readonly auditId: string;
  readonly reason: WithdrawalReason | null;
}

/** The states a consent is in: `expired` is derived from the period on the day asked about. */
export type ConsentState = 'active' | 'withdrawn' | 'expired';

/** One event of the history as shown: stored events plus the derived expiry. */
export interface ConsentEvent {
  readonly type: 'given' | 'withdrawn' | 'expired';
  readonly at: string;
  /** null for an expiry: nobody acted, the period ended. */
  readonly actor: ConsentActor | null;
  readonly auditId: string | null;
  readonly reason: WithdrawalReason | null;
}

/** A consent as the API shows it (search, record, withdraw): no CPR number, no pseudonym. */
export interface ConsentView {
  readonly id: string;
  readonly state: ConsentState;
  readonly level: EvidenceLevel;
  readonly recipients: readonly Administration[];
  /** null on a consent recorded before sources were named: it covers any source. */
  readonly sources: readonly Administration[] | null;
  readonly purposes: readonly string[];
  readonly contracts: readonly string[];
  readonly categories: readonly DataCategory[];
  readonly validFrom: string;
  readonly validTo: string;
  readonly evidence: ConsentEvidenceRef;
  readonly givenBy: ConsentGiver;
  readonly backdated: boolean;
  readonly relation: string | null;
  readonly recordedBy: ConsentActor;
  readonly recordedAt: string;
  readonly receipt: string;
  readonly receiptDigest: string;
  readonly events: readonly ConsentEvent[];
}
