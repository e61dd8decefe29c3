import { createPublicKey, type KeyObject } from 'node:crypto';
import { FlattenedSign } from 'jose';
import type { Policy } from '../types.js';
import { algorithmOf, keyKind, type ApprovalAlg } from './approvers.js';
import type { PolicyComponents } from './digest.js';
import type { SignedRegistry, SignedRegistryName } from './registries.js';

/**
 * Signing a policy's approval: a detached JWS (RFC 7515 Appendix F) whose payload, left out of
 * the serialisation, is the policy's content digest (hex, as ASCII: over the policy, its contract
 * and its purpose, digest.ts), and whose protected header names everything the approval is about:
 *
 *   { "alg": "ES256" | "EdDSA", "typ": APPROVAL_TYP, "kid": <approver id>,
 *     "policy": <policy id>, "version": <policy version>, "digest": <content digest>,
 *     "components": { "policy": <hex>, "contract": <hex>, "purpose": <hex> }, "iat": <seconds> }
 *
 * The header repeats the digest and its components so that a verifier can tell "changed after
 * signing" (the signature holds over the digest in the header, not over the policy as it is now),
 * and which of the three changed, from "signature invalid".
 */

/** The `typ` of a policy approval: nothing else the gateway signs or accepts has it. */
export const APPROVAL_TYP = 'snitflade-policy-approval+jws';

/** What an approval is about: a policy as loaded, with its content digest and what it is made of. */
export interface SignedPolicy {
  readonly id: string;
  readonly version: number;
  /** The contract and the purpose the policy names, to say which changed. */
  readonly contract: string;
  readonly purpose: string;
  readonly contentDigest: string;
  readonly components: PolicyComponents;
}

/** The protected header of an approval. */
export interface ApprovalHeader {
  readonly alg: 'ES256' | 'EdDSA';
  readonly typ: typeof APPROVAL_TYP;
  readonly kid: string;
  readonly policy: string;
  readonly version: number;
  readonly digest: string;
  readonly components: PolicyComponents;
  readonly iat: number;
}

/** A policy loaded from its file (loadPolicySet) as an approval is about it; a TypeError for one built in memory. */
export function signedPolicy(policy: Policy): SignedPolicy {
  if (policy.contentDigest === undefined || policy.components === undefined)
    throw new TypeError(`signedPolicy: policy "${policy.id}" was not loaded from its files (no content digest)`);
  const { id, version, contract, purpose, contentDigest, components } = policy;
  return { id, version, contract, purpose, contentDigest, components };
}

/** The detached payload: the content digest's characters. */
export function approvalPayload(contentDigest: string): Uint8Array {
  return new TextEncoder().encode(contentDigest);
}

/** The algorithm a private key signs approvals with; a TypeError for a key that may not. */
function signingAlgorithm(privateKey: KeyObject): ApprovalAlg {
  if (privateKey.type !== 'private') throw new TypeError("signApproval: an approval is signed with the approver's private key");
  const alg = algorithmOf(createPublicKey(privateKey));
  if (alg === undefined)
    throw new TypeError(
      `signApproval: the key is ${keyKind(privateKey)}; approvals are signed with EC P-256 (ES256) or Ed25519 (EdDSA) keys`,
    );
  return alg;
}

/**
 * `approver`'s approval of `policy`, signed with their private key (EC P-256 for ES256, Ed25519
 * for EdDSA): a compact JWS with an empty payload section, "<header>..<signature>". A key of
 * another kind is a TypeError.
 *
 * @example
 *   const jws = await signApproval(policy, 'dpo', createPrivateKey(pem));
 */
export async function signApproval(policy: SignedPolicy, approver: string, privateKey: KeyObject, now: Date = new Date()): Promise<string> {
  const alg = signingAlgorithm(privateKey);
  const header: ApprovalHeader = {
    alg,
    typ: APPROVAL_TYP,
    kid: approver,
    policy: policy.id,
    version: policy.version,
    digest: policy.contentDigest,
    components: { policy: policy.components.policy, contract: policy.components.contract, purpose: policy.components.purpose },
    iat: Math.floor(now.getTime() / 1000),
  };
  const signed = await new FlattenedSign(approvalPayload(policy.contentDigest)).setProtectedHeader({ ...header }).sign(privateKey);
  return `${signed.protected}..${signed.signature}`;
}

/** The `typ` of a registry's approval (registries.ts): never taken for a policy's, nor the other way. */
export const REGISTRY_APPROVAL_TYP = 'snitflade-registry-approval+jws';

/** The protected header of a registry's approval: it names the registry instead of a policy and version. */
export interface RegistryApprovalHeader {
  readonly alg: 'ES256' | 'EdDSA';
  readonly typ: typeof REGISTRY_APPROVAL_TYP;
  readonly kid: string;
  readonly registry: SignedRegistryName;
  readonly digest: string;
  readonly iat: number;
}

/**
 * `approver`'s approval of a registry file as it is (registries.ts): a detached JWS over its
 * content digest, as for a policy.
 *
 * @example
 *   const jws = await signRegistryApproval(readSignedRegistry('clients', 'policies/clients.yaml')!, 'dpo', key);
 */
export async function signRegistryApproval(
  registry: SignedRegistry,
  approver: string,
  privateKey: KeyObject,
  now: Date = new Date(),
): Promise<string> {
  const alg = signingAlgorithm(privateKey);
  const header: RegistryApprovalHeader = {
    alg,
    typ: REGISTRY_APPROVAL_TYP,
    kid: approver,
    registry: registry.id,
    digest: registry.contentDigest,
    iat: Math.floor(now.getTime() / 1000),
  };
  const signed = await new FlattenedSign(approvalPayload(registry.contentDigest)).setProtectedHeader({ ...header }).sign(privateKey);
  return `${signed.protected}..${signed.signature}`;
}
