/**
 * Signed policies in tests: approvers with key pairs generated into a temporary folder (never a
 * committed key), their configuration, and signing a whole policies folder through the same
 * functions `snitflade policy sign` uses.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { GatewayConfig } from '../../src/config/config.js';
import { loadContracts } from '../../src/contracts/registry.js';
import { LoadErrors } from '../../src/lib/load-error.js';
import { readApprovals, writeApproval } from '../../src/policy/approvals/file.js';
import { readSignedRegistries } from '../../src/policy/approvals/registries.js';
import { signApproval, signedPolicy, signRegistryApproval } from '../../src/policy/approvals/sign.js';
import { loadPolicySet } from '../../src/policy/loader.js';

export interface TestApprover {
  readonly id: string;
  readonly title: string;
  readonly privateKey: KeyObject;
  /** The private key as a PEM file (PKCS #8), for the command line. */
  readonly privateKeyFile: string;
  /** The public key as a PEM file (SPKI), absolute, as the configuration names it. */
  readonly publicKeyFile: string;
}

/** An approver with a fresh key pair (EC P-256 unless told Ed25519) written into `dir`. */
export function makeApprover(dir: string, id: string, title: string, kind: 'ec' | 'ed25519' = 'ec'): TestApprover {
  mkdirSync(dir, { recursive: true });
  const { privateKey, publicKey } = kind === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
  const privateKeyFile = path.join(dir, `${id}-${Date.now()}-${Math.random().toString(36).slice(2)}.key.pem`);
  const publicKeyFile = privateKeyFile.replace(/\.key\.pem$/, '.pub.pem');
  writeFileSync(privateKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }));
  return { id, title, privateKey, privateKeyFile, publicKeyFile };
}

/** The `policies` configuration for these approvers, every one of them required of every policy. */
export function approvalSettings(
  approvers: readonly TestApprover[],
  over: Partial<GatewayConfig['policies']> = {},
): GatewayConfig['policies'] {
  return {
    requireApprovals: true,
    approvers: approvers.map((a) => ({ id: a.id, title: a.title, publicKeys: [{ file: a.publicKeyFile }] })),
    required: approvers.map((a) => a.id),
    requiredPerPolicy: {},
    revoked: [],
    ...over,
  };
}

/**
 * Every approver signs every policy in `policies` and every registry the policies depend on
 * (clients.yaml, capacities.yaml, administrations.yaml), or only the policies and registries named,
 * as they are now.
 */
export async function signPolicies(
  schemas: string,
  policies: string,
  approvers: readonly TestApprover[],
  only?: readonly string[],
): Promise<void> {
  const set = loadPolicySet({ dir: policies, contracts: loadContracts(schemas) });
  for (const policy of set.policies) {
    if (only !== undefined && !only.includes(policy.id)) continue;
    for (const approver of approvers) {
      const file = readApprovals(policies, policy.id);
      if (Array.isArray(file)) throw new LoadErrors(file);
      const jws = await signApproval(signedPolicy(policy), approver.id, approver.privateKey);
      writeApproval(policies, policy.id, approver.id, jws, file.entries);
    }
  }
  for (const registry of readSignedRegistries(policies)) {
    if (only !== undefined && !only.includes(registry.id)) continue;
    for (const approver of approvers) {
      const file = readApprovals(policies, registry.id, 'registry');
      if (Array.isArray(file)) throw new LoadErrors(file);
      const jws = await signRegistryApproval(registry, approver.id, approver.privateKey);
      writeApproval(policies, registry.id, approver.id, jws, file.entries, 'registry');
    }
  }
}

/** A copy of the repository's policies and schemas in a new temporary folder, every file signed by two approvers. */
export interface SignedCopy {
  readonly dir: string;
  readonly policies: string;
  readonly schemas: string;
  /** An ES256 approver ("bif-legal-office") and an EdDSA one ("dpo"), their keys under dir/keys. */
  readonly legal: TestApprover;
  readonly dpo: TestApprover;
}

/**
 * Copies the repository's policies and schemas (from `root`) into a new temporary folder and signs
 * every policy and registry by the BIF legal office and the DPO; remove `dir` when done.
 *
 * @example
 * const copy = await signedCopy(process.cwd(), 'approvals-deps');
 */
export async function signedCopy(root: string, name: string): Promise<SignedCopy> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `snitflade-${name}-`));
  const policies = path.join(dir, 'policies');
  const schemas = path.join(dir, 'schemas');
  cpSync(path.join(root, 'policies'), policies, { recursive: true });
  cpSync(path.join(root, 'schemas'), schemas, { recursive: true });
  const legal = makeApprover(path.join(dir, 'keys'), 'bif-legal-office', 'BIF legal office');
  const dpo = makeApprover(path.join(dir, 'keys'), 'dpo', 'Data protection officer', 'ed25519');
  await signPolicies(schemas, policies, [legal, dpo]);
  return { dir, policies, schemas, legal, dpo };
}
