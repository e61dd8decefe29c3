import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import type { GatewayConfig } from '../../config/config.js';
import { displayPath } from '../../contracts/registry.js';
import { algorithmOf, keyKind, readApprovers, thumbprintOf, type Approver, type Approvers } from '../../policy/approvals/approvers.js';
import { checkApprovals } from '../../policy/approvals/check.js';
import { readApprovals, writeApproval } from '../../policy/approvals/file.js';
import { isSignedRegistry, readSignedRegistries, SIGNED_REGISTRIES } from '../../policy/approvals/registries.js';
import { signApproval, signedPolicy, signRegistryApproval } from '../../policy/approvals/sign.js';
import { verifyApproval, verifyRegistryApproval } from '../../policy/approvals/verify.js';
import { approvalReportText, registryReportText } from './policy-approvals.js';
import {
  cliConfig,
  loadContractsAndPolicies,
  processIO,
  reportLoadErrors,
  rulePaths,
  withDirOptions,
  type CliIO,
  type DirOptions,
  type RulePaths,
} from './shared.js';

export interface PolicySignOptions extends DirOptions {
  /** The policy to approve; or, instead, */
  readonly policy?: string;
  /** the signed registry to approve (clients, capacities, administrations). */
  readonly registry?: string;
  readonly approver: string;
  /** The approver's private key, a PEM file (PKCS #8 or SEC 1). */
  readonly key: string;
  /** Sign only if the policy's content digest is this one (the one reviewed). */
  readonly digest?: string;
}

/**
 * `snitflade policy sign`: the approver signs the policy as it is now (its content digest) with
 * their private key, and the approval is written into policies/<id>.approvals.yaml, replacing
 * their earlier one. Refused unless the rule files load, the approver is configured
 * (policies.approvers) and the key is one of that approver's configured keys, so that what is
 * written verifies as the gateway will verify it. Exit code 0 written, 1 refused.
 */
export async function runPolicySign(o: PolicySignOptions, io: CliIO = processIO, config: GatewayConfig = cliConfig()): Promise<number> {
  const refuse = (problem: string): number => {
    io.stderr.write(`✘ ${problem}\n`);
    return 1;
  };
  if ((o.policy === undefined) === (o.registry === undefined))
    return refuse(`name what to approve: --policy <id>, or --registry <${SIGNED_REGISTRIES.join('|')}>`);
  const paths = rulePaths(o, config);
  let loaded;
  try {
    loaded = loadContractsAndPolicies(paths);
  } catch (err) {
    return reportLoadErrors(io, err);
  }
  if (o.registry !== undefined) return signRegistry(o, o.registry, paths, io, config, refuse);
  const policy = loaded.policies.policies.find((p) => p.id === o.policy);
  if (policy === undefined)
    return refuse(
      `there is no policy "${o.policy}" in ${displayPath(paths.policies)}; the policies are: ${loaded.policies.policies.map((p) => p.id).join(', ')}`,
    );
  if (policy.contentDigest === undefined) throw new TypeError('runPolicySign: a loaded policy has a content digest');
  if (o.digest !== undefined && o.digest !== policy.contentDigest)
    return refuse(
      `policy "${policy.id}" is not what was reviewed: its content digest is now ${policy.contentDigest}, not ${o.digest}; review it again ("npx snitflade policy approvals --policy ${policy.id}" shows the digest)`,
    );

  const signer = readSigner(o, paths.certs, io, config, refuse);
  if (typeof signer === 'number') return signer;
  const { approvers, approver, key } = signer;

  const file = readApprovals(paths.policies, policy.id);
  if (Array.isArray(file)) {
    for (const e of file) io.stderr.write(`✘ ${e.message}\n`);
    return refuse(`the approvals file of policy "${policy.id}" must be fixed (or deleted) before another approval is added to it`);
  }
  const signed = signedPolicy(policy);
  const jws = await signApproval(signed, approver.id, key);
  const verdict = await verifyApproval(jws, signed, approvers);
  if (verdict.status !== 'valid') throw new TypeError(`runPolicySign: a fresh approval does not verify: ${verdict.problem}`);
  const written = writeApproval(paths.policies, policy.id, approver.id, jws, file.entries);

  io.stdout.write(
    `signed policy "${policy.id}" version ${policy.version} (content ${policy.contentDigest}) as ${approver.id} (${approver.title}) at ${verdict.signedAt}\n` +
      `wrote ${displayPath(written)}\n`,
  );
  // What the policy now carries, as the gateway will see it.
  const report = await checkApprovals([policy], { dir: paths.policies, settings: config.policies, certs: paths.certs, strict: true });
  const now = report.policies.get(policy.id);
  if (now !== undefined) io.stdout.write(approvalReportText(now, policy));
  return 0;
}

/** The configured approvers, the approver signing and their private key; or the exit code of a refusal. */
function readSigner(
  o: PolicySignOptions,
  certs: string,
  io: CliIO,
  config: GatewayConfig,
  refuse: (problem: string) => number,
): { approvers: Approvers; approver: Approver; key: KeyObject } | number {
  const { approvers, errors } = readApprovers(config.policies, certs);
  for (const e of errors) io.stderr.write(`✘ ${e.message}\n`);
  if (errors.length > 0) return 1;
  const approver = approvers.get(o.approver);
  if (approver === undefined)
    return refuse(
      `"${o.approver}" is not a configured approver (policies.approvers lists: ${[...approvers.keys()].join(', ') || '(none)'}); the gateway would refuse an approval by it`,
    );

  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(o.key, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return refuse(
      code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR'
        ? `cannot read the private key ${o.key} (${code})`
        : `${o.key} is not a PEM private key; give approver "${approver.id}"'s private key (PEM, "BEGIN PRIVATE KEY" or "BEGIN EC PRIVATE KEY")`,
    );
  }
  const publicKey = createPublicKey(key);
  if (algorithmOf(publicKey) === undefined)
    return refuse(`${o.key} is ${keyKind(key)}; approvals are signed with EC P-256 (ES256) or Ed25519 (EdDSA) keys`);
  const thumbprint = thumbprintOf(publicKey);
  if (!approver.keys.some((k) => k.thumbprint === thumbprint))
    return refuse(
      `the key in ${o.key} (thumbprint ${thumbprint}) is not one of approver "${approver.id}"'s configured keys (${approver.keys.map((k) => `${k.file}: ${k.thumbprint}`).join('; ')}); sign with the approver's own key, or configure its public key first`,
    );

  return { approvers, approver, key };
}

/** `policy sign --registry`: as for a policy, over the registry file's content (registries.ts). */
async function signRegistry(
  o: PolicySignOptions,
  name: string,
  paths: RulePaths,
  io: CliIO,
  config: GatewayConfig,
  refuse: (problem: string) => number,
): Promise<number> {
  if (!isSignedRegistry(name)) return refuse(`"${name}" is not a signed registry; they are: ${SIGNED_REGISTRIES.join(', ')}`);
  const registry = readSignedRegistries(paths.policies, paths.clients).find((r) => r.id === name);
  if (registry === undefined) return refuse(`there is no ${name}.yaml in ${displayPath(paths.policies)} to approve`);
  if (o.digest !== undefined && o.digest !== registry.contentDigest)
    return refuse(
      `registry ${name}.yaml is not what was reviewed: its content digest is now ${registry.contentDigest}, not ${o.digest}; review it again ("npx snitflade policy approvals" shows the digest)`,
    );
  const signer = readSigner(o, paths.certs, io, config, refuse);
  if (typeof signer === 'number') return signer;
  const { approvers, approver, key } = signer;
  const file = readApprovals(paths.policies, name, 'registry');
  if (Array.isArray(file)) {
    for (const e of file) io.stderr.write(`✘ ${e.message}\n`);
    return refuse(`the approvals file of registry ${name}.yaml must be fixed (or deleted) before another approval is added to it`);
  }
  const jws = await signRegistryApproval(registry, approver.id, key);
  const verdict = await verifyRegistryApproval(jws, registry, approvers);
  if (verdict.status !== 'valid') throw new TypeError(`runPolicySign: a fresh approval does not verify: ${verdict.problem}`);
  const written = writeApproval(paths.policies, name, approver.id, jws, file.entries, 'registry');
  io.stdout.write(
    `signed registry ${name}.yaml (content ${registry.contentDigest}) as ${approver.id} (${approver.title}) at ${verdict.signedAt}\n` +
      `wrote ${displayPath(written)}\n`,
  );
  const report = await checkApprovals([], {
    dir: paths.policies,
    settings: config.policies,
    certs: paths.certs,
    strict: true,
    registries: [registry],
  });
  const now = report.registries.get(name);
  if (now !== undefined) io.stdout.write(registryReportText(now));
  return 0;
}

function digest(value: string): string {
  if (!/^[0-9a-f]{64}$/.test(value)) throw new InvalidArgumentError('must be a content digest: 64 lowercase hex characters');
  return value;
}

/** `sign` under `snitflade policy`. */
export function registerPolicySign(policy: Command, io: CliIO = processIO): void {
  withDirOptions(
    policy
      .command('sign')
      .description(
        "approve a policy (or a registry): sign its canonical content with the approver's private key into <policy>.approvals.yaml",
      ),
  )
    .option('--policy <id>', 'the policy to approve')
    .option('--registry <name>', `instead of a policy, the registry to approve: ${SIGNED_REGISTRIES.join(', ')}`)
    .requiredOption('--approver <id>', 'the approver signing (one of policies.approvers in the configuration)')
    .requiredOption('--key <file>', "the approver's private key (PEM); it never goes into the repository")
    .option(
      '--digest <hex>',
      'sign only if the policy is still this content (the digest "policy approvals" showed when it was reviewed)',
      digest,
    )
    .action(async (o: PolicySignOptions) => {
      process.exitCode = await runPolicySign(o, io);
    });
}
