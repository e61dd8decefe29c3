import { CompactSign, compactVerify, type CryptoKey } from 'jose';
import { canonicalJson, sha256b64url } from '../lib/digest.js';
import type { ConsentActor, ConsentEvidenceRef, ConsentGiver, ConsentScope } from './types.js';

/** The protected header's `typ`: what this JWS is. */
export const RECEIPT_TYPE = 'snitflade-consent-receipt+json';

/**
 * What a consent receipt says, signed by the gateway. The citizen is named by the gateway's
 * keyed pseudonym of the CPR number, not by the number: the gateway keeps no CPR number, and
 * the receipt is evidence of what was recorded, not an identity document. Whoever knows the
 * CPR number can have the DPO confirm that the pseudonym is the citizen's.
 */
export interface ReceiptContent {
  /** 1: before evidence levels; 2: with sources, the giver, back-dating and the relation. */
  readonly v: 1 | 2;
  readonly iss: string; // the gateway id
  readonly consentId: string;
  readonly subject: string;
  readonly scope: ConsentScope;
  readonly evidence: ConsentEvidenceRef;
  readonly givenBy?: ConsentGiver;
  readonly backdated?: boolean;
  readonly relation?: string;
  readonly recordedBy: ConsentActor;
  readonly recordedAt: string;
}

/**
 * Signs a consent receipt: a compact JWS (ES256, the gateway's signing key) over the canonical
 * JSON of its content. Returns the receipt and its digest (base64url SHA-256 of the compact
 * string), which audit records cite.
 *
 * @example
 *   const { receipt, digest } = await signReceipt(gateway.signingKey, content);
 */
export async function signReceipt(key: CryptoKey, content: ReceiptContent): Promise<{ receipt: string; digest: string }> {
  const receipt = await new CompactSign(new TextEncoder().encode(canonicalJson(content)))
    .setProtectedHeader({ alg: 'ES256', typ: RECEIPT_TYPE })
    .sign(key);
  return { receipt, digest: receiptDigest(receipt) };
}

export function receiptDigest(receipt: string): string {
  return sha256b64url(receipt);
}

/**
 * Checks a receipt against the gateway's public key (certs/gateway/signing.pub.pem) and returns
 * what it says. Throws if the signature, the algorithm or the type is not right.
 *
 * @example
 *   const content = await verifyReceipt(receipt, await importSPKI(pem, 'ES256'));
 */
export async function verifyReceipt(receipt: string, publicKey: CryptoKey): Promise<ReceiptContent> {
  const { payload, protectedHeader } = await compactVerify(receipt, publicKey, { algorithms: ['ES256'] });
  if (protectedHeader.typ !== RECEIPT_TYPE) throw new TypeError('not a Snitflade consent receipt');
  return JSON.parse(new TextDecoder().decode(payload)) as ReceiptContent;
}
