import type { Administration, DataCategory } from '../contracts/types.js';
import type { ConsentEvidence } from '../policy/types.js';

/** What a consent must cover for one release. Holds the CPR number: never log or store it. */
export interface ConsentQuery {
  readonly cpr: string;
  /** The receiving administration. */
  readonly recipient: string;
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

/** How the citizen's consent is evidenced: the reference of a signed form, or of a digital consent. */
export type EvidenceKind = 'signed-form' | 'digital';

export interface ConsentEvidenceRef {
  readonly kind: EvidenceKind;
  /** The form's or the digital consent's reference in the recording system (never a CPR number). */
  readonly reference: string;
}

/**
 * What a consent covers: the receiving administrations, the purposes, and the data: whole
 * contracts and/or data categories (a released field is covered when its contract or its
 * category is listed). Dates are Copenhagen calendar dates, both inclusive.
 */
export interface ConsentScope {
  readonly recipients: readonly Administration[];
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
  readonly recipients: readonly Administration[];
  readonly purposes: readonly string[];
  readonly contracts: readonly string[];
  readonly categories: readonly DataCategory[];
  readonly validFrom: string;
  readonly validTo: string;
  readonly evidence: ConsentEvidenceRef;
  readonly recordedBy: ConsentActor;
  readonly recordedAt: string;
  readonly receipt: string;
  readonly receiptDigest: string;
  readonly events: readonly ConsentEvent[];
}
