import type { AcceptedEvidence, RelationRequirement } from '../policy/types.js';
import type { DataCategory } from '../contracts/types.js';
import { CodedError } from '../errors.js';

/**
 * What a delivery carries besides its payload: everything the worker needs to deliver it, to
 * re-check consent, and to write the delivery's audit record. No data values and no CPR number
 * (those are only in the payload).
 */
export interface DeliveryMeta {
  readonly purpose: string;
  /** As the decision record names it (policyRef in audit/entry.ts): with the approvals digest when there is one. */
  readonly policy: { readonly id: string; readonly version: number; readonly approvals?: string };
  readonly policySet: string;
  readonly legalBasis: string;
  /** Receipt digest of the consent the decision relied on, if any. */
  readonly consent: string | null;
  /**
   * For a policy that requires consent: what the consent must still cover when the delivery is
   * made (a withdrawal between acceptance and delivery cancels it). null otherwise.
   */
  readonly consentCheck: {
    readonly recipient: string;
    /**
     * The sender's administration and the evidence the policy accepted when it was queued; absent
     * on rows queued before evidence levels. The worker checks against the evidence the policy
     * accepts at sending time (src/exchange/consent-check.ts, storedRequirement).
     */
    readonly source?: string;
    readonly evidence?: readonly AcceptedEvidence[];
    readonly purpose: string;
    readonly contract: string;
    readonly categories: readonly DataCategory[];
    readonly fields: readonly string[];
  } | null;
  /**
   * For a policy with a `relation:` clause: the clause and the administrations it is read for,
   * checked again when the delivery is made (an end or a voiding between acceptance and delivery
   * cancels it). null or absent otherwise (rows queued before need to know have none).
   */
  readonly relationCheck?: {
    readonly requirement: RelationRequirement;
    /** The recipient's administration. */
    readonly administration: string;
    /** The sender's administration (the clause's `sender`, if it names one). */
    readonly provider: string;
  } | null;
  readonly fields: { readonly requested: readonly string[]; readonly released: readonly string[]; readonly withheld: readonly string[] };
  /** The sending (provider) system. */
  readonly caller: { readonly system: string; readonly administration: string };
  readonly caseworker: string | null;
  readonly caseRef: string | null;
  readonly tokenDigest: string | null;
}

/** Where one delivery stands. */
export type DeliveryState =
  | 'pending' // waiting for its next attempt
  | 'delivering' // claimed by a worker (leased) and being sent
  | 'delivered' // the recipient answered 2xx; the payload is erased
  | 'dead' // gave up after the configured attempts; operations or the DPO may re-drive it
  | 'cancelled'; // no longer permitted (e.g. consent withdrawn before delivery); the payload is erased

export const DELIVERY_STATES: readonly DeliveryState[] = ['pending', 'delivering', 'delivered', 'dead', 'cancelled'];

/**
 * The durable outbox of notification deliveries: one row per (notification, recipient system).
 * A row holds the minimised payload (citizen data, the CPR number included) only as long as it
 * may still be delivered: the payload is erased when the row is delivered or cancelled, and
 * when a dead letter's retention ends. Times are milliseconds since the epoch.
 */
export interface NewDelivery {
  /** Also the Idempotency-Key the recipient deduplicates on: the same for every attempt. */
  readonly id: string;
  readonly auditId: string;
  readonly requestId: string;
  readonly contract: string;
  readonly recipient: { readonly system: string; readonly administration: string };
  /** The citizen's pseudonym, for the delivery's audit record. */
  readonly subject: string;
  readonly meta: DeliveryMeta;
  /** The exact JSON body to POST to the recipient. */
  readonly payload: string;
  readonly createdAt: number;
}

export interface Delivery extends Omit<NewDelivery, 'payload'> {
  readonly state: DeliveryState;
  /** Attempts started so far (counted when a worker claims the row). */
  readonly attempts: number;
  readonly nextAttemptAt: number;
  /** Set while claimed: which instance holds it, the claim's id, and until when. */
  readonly lease: { readonly owner: string; readonly id: string; readonly until: number } | null;
  readonly lastError: string | null;
  readonly lastStatus: number | null;
  readonly updatedAt: number;
  readonly finishedAt: number | null;
  /** null once erased. */
  readonly payload: string | null;
}

/** How a claimed delivery ends its attempt. */
export type DeliveryOutcome =
  | { readonly state: 'delivered' | 'cancelled'; readonly at: number; readonly status: number | null; readonly error: string | null }
  | {
      readonly state: 'pending';
      readonly at: number;
      readonly nextAttemptAt: number;
      readonly status: number | null;
      readonly error: string;
    }
  | { readonly state: 'dead'; readonly at: number; readonly status: number | null; readonly error: string };

export interface DeliveryQuery {
  readonly state?: DeliveryState;
  readonly contract?: string;
  readonly recipientSystem?: string;
  readonly auditId?: string;
  /** Opaque cursor from a previous page. */
  readonly after?: string;
  /** 1..MAX_DELIVERY_PAGE. */
  readonly limit: number;
}

export const MAX_DELIVERY_PAGE = 200;

/** A notification accepted under an Idempotency-Key: what its sender was answered. */
export interface AcceptedNotification {
  /** keyDigest(sender, key): the key is never stored as given. */
  readonly keyDigest: string;
  readonly sender: string;
  /** SHA-256 (base64url) of the request body the key was first used with. */
  readonly bodyDigest: string;
  readonly auditId: string;
  /** The JSON of the 202 answer. */
  readonly result: string;
  readonly createdAt: number;
}

/**
 * A notification's outbox rows and, under an Idempotency-Key, the answer it was given: written by
 * AuditStore.append in the same transaction as the notification's audit records, so that a
 * `QUEUED` record exists exactly when its deliveries do.
 */
export interface QueuedNotification {
  readonly deliveries: readonly NewDelivery[];
  readonly accepted?: AcceptedNotification;
}

export interface OutboxStore {
  /**
   * Stores deliveries as pending, due now; all or none, durable when resolved. With `accepted`,
   * in the same commit, records the notification under its sender's Idempotency-Key; if that key
   * is taken, stores nothing and resolves with the notification accepted under it before.
   */
  enqueue(deliveries: readonly NewDelivery[], accepted?: AcceptedNotification): Promise<AcceptedNotification | undefined>;
  /** The notification accepted under this key digest (see keyDigest), if any. */
  accepted(keyDigest: string): Promise<AcceptedNotification | undefined>;
  /**
   * Claims up to `limit` due deliveries for `owner`: pending ones whose next attempt is due and
   * delivering ones whose lease has run out (their worker died). Each claimed row gets a new
   * lease id, `lease.until = now + leaseMs` and one more attempt. Two callers never get the same
   * row while its lease holds (PostgreSQL: FOR UPDATE SKIP LOCKED).
   */
  claim(owner: string, now: number, leaseMs: number, limit: number): Promise<Delivery[]>;
  /**
   * Ends a claimed attempt; the row changes only if `leaseId` still holds it. Delivered and
   * cancelled rows lose their payload. Resolves false when the lease was lost.
   */
  finish(id: string, leaseId: string, outcome: DeliveryOutcome): Promise<boolean>;
  /** Gives back every lease `owner` holds (an instance restarting after a crash); returns how many. */
  release(owner: string, now: number): Promise<number>;
  get(id: string): Promise<Delivery | undefined>;
  /** Deliveries matching every filter, newest first. */
  list(query: DeliveryQuery): Promise<{ deliveries: Delivery[]; next?: string }>;
  /** A dead letter back to pending, attempts reset, due now. */
  redrive(id: string, now: number): Promise<'redriven' | 'not-found' | 'expired'>;
  /** Erases the payload of dead letters that died before `before`; returns how many. */
  expire(before: number): Promise<number>;
  /**
   * Deletes, at most `limit` of each, the deliveries that ended before `before` and hold no
   * payload (delivered, cancelled, or dead letters already erased) and the Idempotency-Key
   * answers given before `before`; returns how many of each. A pending, delivering or
   * re-drivable delivery is never deleted. The audit trail keeps what happened to each.
   */
  forget(before: number, limit: number): Promise<ForgottenRows>;
  /** How many deliveries are in each state (for /metrics and operations). */
  counts(): Promise<Record<DeliveryState, number>>;
}

export interface ForgottenRows {
  readonly deliveries: number;
  readonly requests: number;
}

/**
 * An append whose notifications (at these positions of its `notifications`) name an
 * Idempotency-Key that is taken: by an earlier commit, or by an earlier notification of the same
 * append. Nothing of the append was written.
 */
export class IdempotencyKeyTakenError extends CodedError {
  readonly code = 'ERR_IDEMPOTENCY_KEY_TAKEN';
  readonly positions: readonly number[];
  constructor(positions: readonly number[]) {
    super(`audit append refused: ${positions.length} notification(s) under an Idempotency-Key already taken; nothing was written`);
    this.positions = positions;
  }
}

/** The outbox part of an append failed (the cause says why); nothing of the append was written. */
export class OutboxWriteError extends CodedError {
  readonly code = 'ERR_OUTBOX_WRITE';
  constructor(cause: unknown) {
    super(
      `audit append refused: the outbox could not be written (${cause instanceof Error ? cause.message : String(cause)}); nothing was written`,
      { cause },
    );
  }
}

/** OutboxStore.list was given a cursor that no page of it handed out. */
export class InvalidDeliveryCursorError extends CodedError {
  readonly code = 'ERR_OUTBOX_CURSOR_INVALID';
  constructor() {
    super('the delivery list cursor is not valid');
  }
}
