import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { displayPath } from '../../contracts/registry.js';
import { parseYamlSource } from '../../contracts/source.js';
import { policyContentDigest } from './digest.js';

/**
 * The registries a signed policy depends on, approved like a policy (docs/POLICY-APPROVALS.md):
 *
 *   clients          policies/clients.yaml: which system holds which administration and roles (so
 *                    who a policy's requester or recipient is), its certificate subject, its token keys
 *   capacities       policies/capacities.yaml: the capacities a relation clause names, and which
 *                    administrations may hold them
 *   administrations  policies/administrations.yaml: the administrations policies and clients name
 *
 * Each one's approvals are kept in policies/<name>.approvals.yaml, signed over the SHA-256 of the
 * RFC 8785 canonical JSON of the registry file as parsed, by the approvers every policy requires
 * (policies.required, and policies.requiredPerPolicy under the registry's name). A policy may
 * therefore not be named after a registry. purposes.yaml is not one of them: each policy's
 * approvals cover its own purpose entry (digest.ts).
 */

export const SIGNED_REGISTRIES = ['administrations', 'capacities', 'clients'] as const;
export type SignedRegistryName = (typeof SIGNED_REGISTRIES)[number];

/** Names a policy may not have: the signed registries' (their approvals files) and purposes'. */
export const RESERVED_POLICY_IDS: readonly string[] = [...SIGNED_REGISTRIES, 'purposes'];

/** What a registry's approval is about: the registry file as it is now. */
export interface SignedRegistry {
  readonly id: SignedRegistryName;
  /** The registry file as messages name it. */
  readonly file: string;
  /** hex SHA-256 of the RFC 8785 canonical JSON of the file as parsed. */
  readonly contentDigest: string;
}

/** Whether a name is a signed registry's. */
export function isSignedRegistry(name: string): name is SignedRegistryName {
  return (SIGNED_REGISTRIES as readonly string[]).includes(name);
}

/**
 * The registry `id` read from `file` as an approval is about it; undefined when the file is not
 * there or cannot be parsed (its own loader reports that; capacities.yaml may be absent: there are
 * then no capacities, and nothing to approve).
 *
 * @example
 *   const clients = readSignedRegistry('clients', 'policies/clients.yaml');
 */
export function readSignedRegistry(id: SignedRegistryName, file: string): SignedRegistry | undefined {
  if (!existsSync(file)) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const src = parseYamlSource(displayPath(file), text);
  if (Array.isArray(src)) return undefined;
  return Object.freeze({ id, file: src.file, contentDigest: policyContentDigest(src.value) });
}

/** The signed registries of a policies folder (the client registry where it is said to be). */
export function readSignedRegistries(dir: string, clients: string = path.join(dir, 'clients.yaml')): SignedRegistry[] {
  return SIGNED_REGISTRIES.map((id) => readSignedRegistry(id, id === 'clients' ? clients : path.join(dir, `${id}.yaml`))).filter(
    (r): r is SignedRegistry => r !== undefined,
  );
}
