import { createHash } from 'node:crypto';
import { mayHoldCpr } from '../lib/cpr.js';

/** An Idempotency-Key as a provider may send it (see docs/consent-and-notifications.md). */
const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{1,100}$/;

/** Whether a provider's Idempotency-Key has the allowed form and holds nothing that may be a CPR number. */
export function isIdempotencyKey(key: string): boolean {
  return IDEMPOTENCY_KEY.test(key) && !mayHoldCpr(key);
}

/** The stored form of a sender's Idempotency-Key. */
export function keyDigest(sender: string, key: string): string {
  return createHash('sha256').update(`${sender}\n${key}`).digest('base64url');
}
