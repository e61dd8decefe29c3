import type { DataCategory } from '../contracts/types.js';

/**
 * What a delivery carries besides its payload: everything the worker needs to deliver it, to
 * re-check consent, and to write the delivery's audit record. No data values and no CPR number
 * (those are only in the payload).
 */
export interface DeliveryMeta {
  readonly purpose: string;
  readonly policy: { readonly id: string; readonly version: number };
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
    readonly purpose: string;
    readonly contract: string;
    readonly categories: readonly DataCategory[];
    readonly fields: readonly string[];
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
